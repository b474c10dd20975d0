"""Booking rules shared by the cart, checkout and line edits: the line request, the slot check under lock,
order totals (the only writer of an order's derived money columns) and whole-order cancellation. Flush, never commit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.catalog.models import Provider, Service
from app.catalog.services import change_stock, lock_products
from app.clients.services import record_event
from app.core import clock
from app.core.errors import ConflictError, Msg, ValidationError
from app.core.settings import in_force
from app.extensions import db
from app.sales import availability
from app.sales.locks import lock_order
from app.sales.models import (
    LINE_STATUSES,
    Discount,
    Order,
    Payment,
    ProductLine,
    ServiceLine,
)
from app.sales.queries import load_slot_context
from app.sales.representation import order_representation
from app.webhooks.event_services import emit_event

# Tests switch this off to show that without the row lock concurrent checkouts oversell (negative control).


class SlotUnavailable(ConflictError):
    """One or more requested slots cannot be booked; `failures` lists (line label, SlotEntry)."""

    code = "slot_unavailable"

    def __init__(self, failures, message: str | None = None):
        self.failures = failures
        labels = ", ".join(label for label, _ in failures)
        super().__init__(message or Msg("Algunos horarios ya no están disponibles: %(lines)s", lines=labels))


def slot_unavailable(label: str, entry) -> SlotUnavailable:
    """The conflict for one line: «Tina Calipso 02/03/2026 14:00: Horario agotado.» (a Msg: the reason reads in
    the visitor's language on visitor pages)."""
    reason = entry.mensaje or Msg("no disponible")
    if reason.endswith("."):
        return SlotUnavailable([(label, entry)], message=Msg("%(label)s: %(reason)s", label=label, reason=reason))
    return SlotUnavailable([(label, entry)], message=Msg("%(label)s: %(reason)s.", label=label, reason=reason))


@dataclass
class LineRequest:
    service_id: int
    day: date
    hhmm: str
    people: int
    provider_id: int | None = None
    hold_id: int | None = None


def line_label(service_name: str, day: date, hhmm: str) -> str:
    return f"{service_name} {day:%d/%m/%Y} {hhmm}"


def cfg(key: str) -> int:
    return int(in_force()[key])  # an admin's override wins (app/core/settings.py)


def check_line(service: Service, req: LineRequest, *, staff: bool, ignore_line_id=None, ignore_cart_id=None):
    """Availability of one requested line plus the provider to assign; returns (entry, provider_id)."""
    ctx = load_slot_context(service, req.day, staff=staff, ignore_line_id=ignore_line_id, ignore_cart_id=ignore_cart_id)
    entry = availability.check_slot(ctx, req.hhmm, req.people)
    provider_id = None
    if entry.reservable and service.service_type == "masaje":
        if req.provider_id is not None:
            names = dict(ctx.qualified)
            if req.provider_id not in names:
                raise ValidationError(f"{_provider_name(req.provider_id)} no realiza este servicio.")
            if req.provider_id not in entry.proveedores_libres:
                raise ConflictError(f"{names[req.provider_id]} no está disponible a esa hora.")
            provider_id = req.provider_id
        else:
            provider_id = entry.proveedores_libres[0]
    elif entry.reservable:
        provider_id = req.provider_id
    return entry, provider_id


def _provider_name(provider_id: int) -> str:
    provider = db.session.get(Provider, provider_id)
    return provider.name if provider else f"Terapeuta #{provider_id}"


# --- totals --------------------------------------------------------------------------------------------------


@functools.cache
def _order_sums_statement() -> sa.Select:
    """Every figure recalculate_order needs, in one statement (one round trip whatever the lines)."""

    oid = sa.bindparam("oid")
    sl, pl, d, p = ServiceLine, ProductLine, Discount, Payment

    def scalar(expr, *where):  # sums come back as NUMERIC on PostgreSQL: keep CLP integers
        return sa.select(sa.cast(expr, sa.BigInteger)).where(*where).scalar_subquery()

    return sa.select(
        scalar(sa.func.coalesce(sa.func.sum(sl.subtotal), 0), sl.order_id == oid, sl.status != "cancelada"),
        scalar(sa.func.coalesce(sa.func.sum(pl.subtotal), 0), pl.order_id == oid, pl.status == "activa"),
        scalar(
            sa.func.coalesce(sa.func.sum(d.amount), 0), d.order_id == oid, d.status == "activo", d.percent.is_(None)
        ),
        scalar(sa.func.count(d.id), d.order_id == oid, d.status == "activo", d.percent.is_not(None)),
        scalar(sa.func.coalesce(sa.func.sum(p.amount), 0), p.order_id == oid, p.status == "valido"),
        scalar(sa.func.count(p.id), p.order_id == oid, p.status == "valido", p.is_refund.is_(True)),
        *(scalar(sa.func.count(sl.id), sl.order_id == oid, sl.status == st) for st in LINE_STATUSES),
    )


def recalculate_order(order: Order, *, also: dict | None = None) -> Order:
    """The only writer of an order's derived money and state columns (spec booking.md §4.3–4.4); flushes. `also`:
    other columns of the order to write in the same UPDATE (place_order's policy snapshot)."""

    db.session.flush()
    row = db.session.execute(_order_sums_statement(), {"oid": order.id}).one()
    services_total, products_total, fixed, n_percent, paid, refunds = row[:6]
    statuses = [st for st, n in zip(LINE_STATUSES, row[6:], strict=True) for _ in range(n)]
    percent_discounts = []
    if n_percent:  # a % code's amount follows the subtotal (rare: loaded only when there is one)
        percent_discounts = list(
            db.session.scalars(
                sa.select(Discount).where(
                    Discount.order_id == order.id, Discount.status == "activo", Discount.percent.is_not(None)
                )
            )
        )
    _set_totals(order, services_total, products_total, fixed, percent_discounts, paid, refunds > 0, statuses)
    for name, value in (also or {}).items():
        setattr(order, name, value)
    db.session.flush()
    return order


def _set_totals(order, services_total, products_total, fixed, percent_discounts, paid, has_refund, statuses) -> None:
    totals = availability.compute_totals(
        [services_total], [products_total], [(fixed, None), *((0, d.percent) for d in percent_discounts)], [paid]
    )
    subtotal = totals.services_total + totals.products_total
    for d in percent_discounts:
        d.amount = availability.discount_amount(subtotal, amount=None, percent=d.percent)
    for name, value in totals.__dict__.items():
        setattr(order, name, value)
    if order.cancellation_fee:  # a late customer cancellation: the fee kept is what the cancelled order costs
        order.total = totals.total + order.cancellation_fee
        order.balance_due = max(order.total - totals.paid, 0)
        order.credit = max(totals.paid - order.total, 0)
    order.payment_status = availability.payment_status(
        cancelled=order.is_cancelled, total=order.total, paid=totals.paid, has_refund=has_refund
    )
    order.booking_status = availability.booking_status(cancelled=order.is_cancelled, line_statuses=statuses)
    order.requires_refund = order.credit > 0 and (order.is_cancelled or order.requires_refund)


NEW_LINE_STATUS = ServiceLine.__table__.c.status.default.arg  # what a service line is inserted with


def set_new_order_totals(order: Order, service_subtotals: list[int]) -> None:
    """recalculate_order's figures for an order not yet inserted that will get exactly these new service lines and
    nothing else (no products, discounts or payments): written with its INSERT, no read-back (issue 20). The caller
    checks the lines it then inserts against them, and calls recalculate_order if they differ."""
    statuses = [NEW_LINE_STATUS] * len(service_subtotals)
    _set_totals(order, sum(service_subtotals), 0, 0, [], 0, False, statuses)


# --- cancellation --------------------------------------------------------------------------------------------


def cancel_order(
    order: Order, *, reason: str, by=None, restock: bool = True, origin: str | None = None, fee: int = 0
) -> Order:
    """Cancel every line (capacity freed at once), restore stock, recalculate, audit; flushes. `origin` (e.g.
    `cliente`) goes into the audit entry's data; `fee` is a late-cancellation fee kept (≤ paid)."""
    if not (reason or "").strip():
        raise ValidationError("Indique el motivo de la cancelación.", field="motivo")
    if len(reason.strip()) > 255:
        raise ValidationError("El motivo admite hasta 255 caracteres.", field="motivo")
    order = lock_order(order)
    if order.is_cancelled:
        return order
    now = clock.now()
    if restock:
        lock_products(pl.product_id for pl in order.product_lines if pl.status == "activa")
    for line in order.service_lines:
        if line.status != "cancelada":
            line.status = "cancelada"
            line.cancelled_at = now
            line.cancel_reason = reason
    for pl in order.product_lines:
        if pl.status == "activa":
            pl.status = "anulada"
            if restock:
                change_stock(pl.product, pl.quantity, reason="venta_anulada", by=by, order_id=order.id)
    order.cancelled_at = now
    order.cancelled_by_id = getattr(by, "id", None)
    order.cancel_reason = reason.strip()
    order.cancellation_fee = max(min(int(fee), order.paid), 0)
    recalculate_order(order)
    data = {"origen": origin} if origin else None
    if order.cancellation_fee:
        data = {**(data or {}), "cargo_cancelacion": order.cancellation_fee}
    record_event(order.client, "order_cancelled", f"Motivo: {reason.strip()}", by=by, order_id=order.id, data=data)
    emit_event("order.cancelled", lambda: {"venta_reserva": order_representation(order)})
    return order
