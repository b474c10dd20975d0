"""The locks of the sales core and their global order (docs/CONCURRENCY.md): the order row lock, the booking
advisory-lock key space (service-day, provider-day), the cash-day advisory lock. The `*_LOCKING_ENABLED` flags let
the concurrency tests' negative controls switch one lock off.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key

from app.catalog.models import Service, service_providers
from app.core.errors import ValidationError
from app.extensions import db
from app.sales.models import (
    Order,
)

# Tests switch this off to show that without the row lock concurrent checkouts oversell (negative control).
SLOT_LOCKING_ENABLED = True


# --- locking and checking ----------------------------------------------------------------------------------


# GLOBAL LOCK ORDER (docs/CONCURRENCY.md). A transaction takes the locks it needs in this order, never backwards,
# so no two transactions wait for each other in a cycle (no deadlock):
#   1. order rows              lock_order() below: SELECT … FOR NO KEY UPDATE; several orders in ascending id
#   2. Flow transaction row    flow_services._transaction_for(lock=True)
#   3. booking advisory locks  lock_services(): service-day (SLOT_LOCK) then provider-day (PROVIDER_LOCK) keys,
#                              ascending key order in one statement
#   4. product rows (stock)    catalog.services.lock_products / change_stock: ascending product id
#   5. discount-code row       find_valid_code(lock=True), from apply_code: the code's uses are counted under it
#   6. cash-day advisory lock  lock_cash_day() below (CASH_LOCK_NAMESPACE): shared by money, exclusive by close
#   7. gift-card rows          giftcard_services.lock_card
#   8. cash-close row          cash_services.reopen_close
#   9. client rows             client_merge_services.lock_clients (FOR UPDATE, ascending id; after the clients'
#                              orders, 1)
# Rows outside orders and money have their own single lock, never held with another one of the same kind:
# a campaign (crm.sending_services.lock_campaign), a client import (clients.import_services.lock_import), a
# purchase's products (4), a Flow transaction (2), the outbox rows (skip locked) and the scheduler's session
# advisory lock.
# Each lock is transaction-scoped (released at commit/rollback). Re-taking a lock already held is free.
ORDER_LOCKING_ENABLED = True  # the concurrency tests' negative controls switch the order lock off
CODE_LOCKING_ENABLED = True  # … and the discount-code row lock
SLOT_LOCK = 1 << 52  # pg_advisory_xact_lock(bigint) key spaces: service-day and provider-day (below 2**63)
PROVIDER_LOCK = 2 << 52


def lock_order(order: Order | int, *related) -> Order:
    """Take the order's row lock (lock 1 of the global order) and re-read it: every change to an order's money or
    lines calls this before it reads the balance, the totals or the lines, so concurrent writers of one order run
    one after the other and `recalculate_order` never overwrites a total it could not see (security review H1).

    `SELECT … FOR NO KEY UPDATE`: writers of the order wait for each other, while inserts of rows that only
    reference it (audit events, outbox, messages) do not. The order and the `related` rows already loaded (a line,
    a payment, a discount of the order) are flushed, expired and re-read after the lock, so their columns and
    collections are current. On SQLite (one writer at a time) only the re-read happens.
    Raises ValidationError when the order does not exist."""
    order_id = order if isinstance(order, int) else order.id
    if not ORDER_LOCKING_ENABLED:  # negative control: the old, unlocked behaviour
        found = order if isinstance(order, Order) else db.session.get(Order, order_id)
        if found is None:
            raise ValidationError("Venta no encontrada.")
        return found
    db.session.flush()
    for obj in (order, *related):
        if not isinstance(obj, int) and obj in db.session:
            db.session.expire(obj)
    locked = db.session.scalar(sa.select(Order).where(Order.id == order_id).with_for_update(key_share=True))
    if locked is None:
        raise ValidationError("Venta no encontrada.")
    return locked


def booking_lock_key(namespace: int, row_id: int, day: date) -> int:
    """One bigint per (service or provider, day): namespace | id << 20 | day ordinal (< 2**20 until year 2870)."""
    return namespace | row_id << 20 | day.toordinal()


def _loaded_services(ids) -> dict[int, Service]:
    """The services of `ids` this session already holds with their columns loaded (issue 20: the cart's holds and
    the add-to-cart form loaded them in this transaction; the catalogue row is not what the booking locks protect,
    so no second read)."""
    found = {}
    identity_map = db.session.identity_map
    for sid in ids:
        obj = identity_map.get(identity_key(Service, sid))
        state = sa.inspect(obj) if obj is not None else None
        if state is not None and not state.expired_attributes and not state.deleted:
            found[sid] = obj
    return found


def lock_services(slots) -> dict[int, Service]:
    """Load the services of `slots` ((service id, day) pairs) and take the booking locks of those days: one
    transaction-scoped advisory lock per service and day and, for massages, per qualified provider and day, in
    ascending key order (no deadlocks). Checkouts of other days or services never wait for each other. On SQLite
    (one writer at a time) only the services are loaded."""
    slots = sorted(set(slots))
    ids = sorted({sid for sid, _ in slots})
    services = _loaded_services(ids)
    missing = [sid for sid in ids if sid not in services]
    if missing:
        services.update((s.id, s) for s in db.session.scalars(sa.select(Service).where(Service.id.in_(missing))))
    if not SLOT_LOCKING_ENABLED or not slots or db.session.get_bind().dialect.name != "postgresql":
        return services
    keys = {booking_lock_key(SLOT_LOCK, sid, day) for sid, day in slots if sid in services}
    massage_days: dict[int, set[date]] = {}
    for sid, day in slots:
        if sid in services and services[sid].service_type == "masaje":
            massage_days.setdefault(sid, set()).add(day)
    if massage_days:
        pairs = db.session.execute(
            sa.select(service_providers.c.service_id, service_providers.c.provider_id).where(
                service_providers.c.service_id.in_(sorted(massage_days))
            )
        ).all()
        keys |= {booking_lock_key(PROVIDER_LOCK, pid, day) for sid, pid in pairs for day in massage_days[sid]}
    db.session.execute(
        sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"), {"keys": sorted(keys)}
    ).all()
    return services


# --- the cash day -----------------------------------------------------------------------------------------
CASH_LOCK_NAMESPACE = 0x43534844  # first key of pg_advisory_xact_lock(ns, day): "CSHD"
CASH_LOCKING_ENABLED = True  # the concurrency test's negative control switches the day lock off


def lock_cash_day(day: date, *, shared: bool = False) -> None:
    """The day's transaction-scoped advisory lock on PostgreSQL (a no-op on SQLite: one writer at a time anyway).

    A close takes it exclusively; a payment takes it shared, so payments never wait for each other, but a payment
    waits for a close in progress (and then sees it) and a close waits for payments in flight (and then counts
    them): no payment can land in a day between the close's reading and its commit."""
    if not CASH_LOCKING_ENABLED or db.session.get_bind().dialect.name != "postgresql":
        return
    lock = sa.func.pg_advisory_xact_lock_shared if shared else sa.func.pg_advisory_xact_lock
    db.session.execute(sa.select(lock(CASH_LOCK_NAMESPACE, day.toordinal())))
