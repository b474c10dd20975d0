"""Read side of the front desk: the day's board rows and counters, client search (spec booking.md §10)."""

from __future__ import annotations

import functools
from datetime import date

import sqlalchemy as sa

from app.catalog.models import Provider, Service, ServiceCategory
from app.clients.models import Client, ClientUpdateRequest
from app.clients.queries import search_condition
from app.core import clock
from app.extensions import db
from app.sales import giftcard_services as giftcards
from app.sales.models import GiftCard, Order, PaymentMethod, ServiceLine


@functools.cache
def _board_statement(by_line: bool, show_cancelled: bool) -> sa.Select:
    """One row per service line of the day `:day` (or just the line `:line_id`) with everything the board shows;
    built once per shape (the board is polled all day), bound per call."""
    stmt = (
        sa.select(
            ServiceLine.id,
            ServiceLine.order_id,
            ServiceLine.start_time,
            ServiceLine.people,
            ServiceLine.status,
            ServiceLine.provider_id,
            ServiceLine.service_date,
            Service.id.label("service_id"),
            Service.name.label("service_name"),
            Service.service_type,
            ServiceCategory.name.label("category_name"),
            Client.name.label("client_name"),
            Client.phone.label("client_phone"),
            Provider.name.label("provider_name"),
            Order.payment_status,
            Order.balance_due,
            Order.credit,
            Order.requires_refund,
            Order.checkout_method,
            Order.total.label("order_total"),
            Order.paid.label("order_paid"),
            # the deposit its policies asked (self-service.md §3): "Abono pagado" once paid reaches it
            sa.func.coalesce(Order.policy_snapshot["deposit_percent"].as_integer(), 0).label("deposit_percent"),
        )
        .join(Order, Order.id == ServiceLine.order_id)
        .join(Client, Client.id == Order.client_id)
        .join(Service, Service.id == ServiceLine.service_id)
        .outerjoin(ServiceCategory, ServiceCategory.id == Service.category_id)
        .outerjoin(Provider, Provider.id == ServiceLine.provider_id)
        .order_by(
            ServiceLine.start_time, ServiceCategory.sort_order, ServiceCategory.name, Service.name, ServiceLine.id
        )
    )
    if by_line:
        return stmt.where(ServiceLine.id == sa.bindparam("line_id"))
    stmt = stmt.where(ServiceLine.service_date == sa.bindparam("day", type_=sa.Date))
    if not show_cancelled:
        stmt = stmt.where(ServiceLine.status != "cancelada")
    return stmt


def board_rows(day: date, *, show_cancelled: bool = False) -> list:
    """The board's rows of `day` (one statement, on the session's connection: plain rows, no ORM loading)."""
    return db.session.connection().execute(_board_statement(False, show_cancelled), {"day": day}).all()


def board_row(line_id: int):
    """The board row of one service line (after a row action)."""
    return db.session.connection().execute(_board_statement(True, True), {"line_id": line_id}).one()


@functools.cache
def _side_counts_statement() -> sa.Select:
    return sa.select(
        sa.select(sa.func.count())
        .select_from(ClientUpdateRequest)
        .where(ClientUpdateRequest.status == "pendiente")
        .scalar_subquery(),
        # a bare boolean predicate, so PostgreSQL uses the partial index ix_orders_requires_refund
        sa.select(sa.func.count()).select_from(Order).where(Order.requires_refund).scalar_subquery(),
    )


def board_counters(rows) -> dict:
    """Bookings, people, checked in and amount pending of the day, from the board's own rows (no second pass over
    the day's lines), plus the two side-panel counts (one statement on indexed predicates)."""
    active = [r for r in rows if r.status != "cancelada"]
    pending = {r.order_id: r.balance_due for r in active}
    side = db.session.execute(_side_counts_statement()).one()
    return {
        "reservas": len(active),
        "personas": sum(r.people for r in active),
        "en_spa": sum(1 for r in active if r.status in ("checkin", "checkout")),
        "pendiente": sum(pending.values()),
        "actualizaciones": side[0],
        "reembolsos": side[1],
    }


def search_clients(q: str, limit: int = 10) -> list[Client]:
    """Phone prefix (normalised digits) or name/e-mail contains, case- and accent-insensitive; 10 results."""
    text = (q or "").strip()
    if len(text) < 3:
        return []
    return list(db.session.scalars(sa.select(Client).where(search_condition(text)).order_by(Client.name).limit(limit)))


def bookings_on(client_ids, day: date) -> dict[int, list]:
    """Active service lines of `day` per client (order id, time, service), for the search results: one statement."""
    out: dict[int, list] = {}
    if not client_ids:
        return out
    rows = db.session.execute(
        sa.select(Order.client_id, ServiceLine.order_id, ServiceLine.start_time, Service.name)
        .join(Order, Order.id == ServiceLine.order_id)
        .join(Service, Service.id == ServiceLine.service_id)
        .where(
            Order.client_id.in_(sorted(set(client_ids))),
            ServiceLine.service_date == day,
            ServiceLine.status != "cancelada",
        )
        .order_by(ServiceLine.start_time, ServiceLine.id)
    )
    for client_id, order_id, start, name in rows:
        out.setdefault(client_id, []).append((order_id, start, name))
    return out


@functools.cache
def _providers_statement() -> sa.Select:
    from app.catalog.models import service_providers

    return (
        sa.select(service_providers.c.service_id, Provider.id, Provider.name)
        .join(Provider, Provider.id == service_providers.c.provider_id)
        .where(service_providers.c.service_id.in_(sa.bindparam("ids", expanding=True)), Provider.is_active.is_(True))
        .order_by(Provider.name)
    )


def providers_for(service_ids) -> dict[int, list[tuple[int, str]]]:
    """Qualified active providers per massage service of the board (one statement)."""
    out: dict[int, list[tuple[int, str]]] = {}
    if not service_ids:
        return out
    rows = db.session.execute(_providers_statement(), {"ids": sorted(set(service_ids))})
    for sid, pid, name in rows:
        out.setdefault(sid, []).append((pid, name))
    return out


GIFT_CARD_STATUS_FILTERS = {"por_cobrar": "Con saldo", "cobrado": "Agotada", "anulada": "Anulada"}


def gift_card_list_statement(args) -> sa.Select:
    stmt = sa.select(GiftCard).order_by(GiftCard.id.desc())
    status = args.get("estado")
    if status in GIFT_CARD_STATUS_FILTERS:
        stmt = stmt.where(GiftCard.status == status)
    if args.get("vencidas") == "1":
        stmt = stmt.where(GiftCard.expires_on < clock.today(), GiftCard.status == "por_cobrar")
    code = giftcards.normalize_code(args.get("codigo"))
    if code:
        stmt = stmt.where(GiftCard.code.contains(code, autoescape=True))
    client = (args.get("cliente") or "").strip()
    if client:
        ids = sa.select(Client.id).where(
            sa.or_(Client.name.icontains(client, autoescape=True), Client.phone.contains(client, autoescape=True))
        )
        stmt = stmt.where(
            sa.or_(
                GiftCard.buyer_client_id.in_(ids),
                GiftCard.recipient_client_id.in_(ids),
                GiftCard.recipient_name.icontains(client, autoescape=True),
            )
        )
    return stmt


def active_methods(*, exclude=("flow",)) -> list[PaymentMethod]:
    return list(
        db.session.scalars(
            sa.select(PaymentMethod)
            .where(PaymentMethod.is_active.is_(True), PaymentMethod.code.not_in(exclude))
            .order_by(PaymentMethod.sort_order)
        )
    )


def bookable_services() -> list[Service]:
    return list(db.session.scalars(sa.select(Service).where(Service.is_active.is_(True)).order_by(Service.name)))
