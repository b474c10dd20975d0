"""Blocks from the desk (spec catalog.md §3): a ServiceBlock closes a service (or the whole spa) for a date range, a
SlotBlock one time of one day. A new block that covers bookings still standing lists them and needs the person's
confirmation; those bookings stay valid (staff move or cancel them on the board). Removing a block frees capacity:
`signals.block_removed` is sent in the same transaction (the waitlist offers the freed places).

They live in sales, not catalog: they read the booked lines and send a sales signal. Services flush, never commit.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import sqlalchemy as sa

from app.catalog.models import Service, ServiceBlock, SlotBlock
from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.sales import signals
from app.sales.locks import lock_services
from app.sales.models import ServiceLine

log = logging.getLogger(__name__)

LOCKED_DAYS_MAX = 62  # a longer block of one service does not take the per-day booking locks
LISTED_MAX = 10


class BookingsInBlock(ConflictError):
    """The block covers bookings still standing: shown with them, saved only with "Confirmo el bloqueo"."""

    def __init__(self, rows: list):
        self.rows = rows
        n = len(rows)
        shown = ", ".join(f"#{r.order_id} {r.service_date:%d/%m/%Y} {r.start_time} {r.name}" for r in rows[:LISTED_MAX])
        more = f" y {n - LISTED_MAX} más" if n > LISTED_MAX else ""
        word = "reserva" if n == 1 else "reservas"
        super().__init__(f"Hay {n} {word} en ese período: {shown}{more}.", field="confirmar")


def bookings_in(service_id: int | None, first: date, last: date, time: str | None = None) -> list:
    """Non-cancelled service lines of `service_id` (None = every service) between `first` and `last` (inclusive),
    at `time` if given: order id, date, time, service name, people; by date and time."""
    stmt = (
        sa.select(
            ServiceLine.id,
            ServiceLine.order_id,
            ServiceLine.service_date,
            ServiceLine.start_time,
            ServiceLine.people,
            Service.name,
        )
        .join(Service, Service.id == ServiceLine.service_id)
        .where(ServiceLine.status != "cancelada", ServiceLine.service_date.between(first, last))
        .order_by(ServiceLine.service_date, ServiceLine.start_time, ServiceLine.id)
    )
    if service_id is not None:
        stmt = stmt.where(ServiceLine.service_id == service_id)
    if time is not None:
        stmt = stmt.where(ServiceLine.start_time == time)
    return list(db.session.execute(stmt))


def _service(service_id: int | None, *, required: bool) -> Service | None:
    if service_id is None:
        if required:
            raise ValidationError("Elija un servicio.", field="servicio_id")
        return None
    service = db.session.get(Service, service_id)
    if service is None:
        raise ValidationError("Elija un servicio de la lista.", field="servicio_id")
    return service


def _reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError("Indique el motivo del bloqueo.", field="motivo")
    if len(text) > 255:
        raise ValidationError("El motivo admite hasta 255 caracteres.", field="motivo")
    return text


def _check_bookings(rows: list, confirmed: bool) -> None:
    if rows and not confirmed:
        raise BookingsInBlock(rows)


def create_service_block(
    *, service_id: int | None, start: date, end: date, reason: str | None, confirmed: bool = False, by=None
) -> ServiceBlock:
    """Close `service_id` (None = "Todo el spa") from `start` to `end` inclusive; flushes."""
    service = _service(service_id, required=False)
    text = _reason(reason)
    if end < start:
        raise ValidationError("La fecha de término debe ser igual o posterior a la de inicio.", field="hasta")
    if end < clock.today():
        raise ValidationError("Ese período ya pasó.", field="hasta")
    days = (end - start).days + 1
    if service is not None and days <= LOCKED_DAYS_MAX:  # no booking of these days slips in between check and save
        lock_services([(service.id, start + timedelta(days=n)) for n in range(days)])
    _check_bookings(bookings_in(service_id, start, end), confirmed)
    block = ServiceBlock(
        service_id=service_id, start_date=start, end_date=end, reason=text, created_by_id=getattr(by, "id", None)
    )
    db.session.add(block)
    db.session.flush()
    log.info(
        "block created: service_block %s service=%s %s..%s by user %s",
        block.id,
        service_id,
        start,
        end,
        block.created_by_id,
    )
    return block


def create_slot_block(
    *, service_id: int | None, day: date, time: str, reason: str | None, confirmed: bool = False, by=None
) -> SlotBlock:
    """Close one time of one day of a service; flushes."""
    service = _service(service_id, required=True)
    text = _reason(reason)
    if not clock.is_hhmm(time or ""):
        raise ValidationError("Indique la hora (HH:MM).", field="hora")
    if day < clock.today():
        raise ValidationError("La fecha ya pasó.", field="fecha")
    lock_services([(service.id, day)])
    taken = sa.select(SlotBlock.id).where(
        SlotBlock.service_id == service.id, SlotBlock.date == day, SlotBlock.time == time
    )
    if db.session.scalar(taken) is not None:
        raise ConflictError("Ese horario ya está bloqueado.", field="hora")
    _check_bookings(bookings_in(service.id, day, day, time), confirmed)
    block = SlotBlock(service_id=service.id, date=day, time=time, reason=text, created_by_id=getattr(by, "id", None))
    db.session.add(block)
    db.session.flush()
    log.info(
        "block created: slot_block %s service=%s %s %s by user %s", block.id, service.id, day, time, block.created_by_id
    )
    return block


def remove_service_block(block: ServiceBlock, *, by=None) -> None:
    """Lift a service block: it is deactivated (the row stays, with who created it) and its days' capacity freed."""
    if not block.is_active:
        raise ConflictError("Ese bloqueo ya fue quitado.")
    block.is_active = False
    db.session.flush()
    log.info("block removed: service_block %s by user %s", block.id, getattr(by, "id", None))
    signals.block_removed.send(block, slots=[(block.service_id, block.start_date, block.end_date)], by=by)


def remove_slot_block(block: SlotBlock, *, by=None) -> None:
    """Delete a slot block and free that time."""
    slots = [(block.service_id, block.date, block.date)]
    db.session.delete(block)
    db.session.flush()
    log.info("block removed: slot_block %s by user %s", block.id, getattr(by, "id", None))
    signals.block_removed.send(block, slots=slots, by=by)
