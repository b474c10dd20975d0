"""Front-desk changes to service lines (spec booking.md §10): check-in/out, no-show, undo, cancel, move, people,
provider. Each re-checks availability under the booking locks where capacity is involved; flushes, never commits.
"""

from __future__ import annotations

from datetime import date

from app.catalog.policy import line_price
from app.clients.services import record_event
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.extensions import db
from app.sales import availability as policy
from app.sales import signals
from app.sales.locks import lock_order, lock_services
from app.sales.models import BOOKING_STATUS_LABELS, ServiceLine
from app.sales.representation import order_representation, service_line_representation
from app.sales.services import LineRequest, cancel_order, check_line, line_label, recalculate_order, slot_unavailable
from app.webhooks.event_services import emit_event

# action -> (allowed from, to, audit event)
TRANSITIONS = {
    "checkin": ({"pendiente"}, "checkin", "checked_in"),
    "checkout": ({"checkin"}, "checkout", "checked_out"),
    "no-show": ({"pendiente"}, "no_show", "no_show"),
}
UNDO = {"checkin": "pendiente", "checkout": "checkin", "no_show": "pendiente"}
STATUS_LABELS = BOOKING_STATUS_LABELS


def _short(line: ServiceLine) -> str:
    return f"{line.service.name} {line.start_time}"


def _slot_passed(line: ServiceLine) -> bool:
    return clock.local_now() >= policy.slot_start(line.service_date, line.start_time)


def change_status(line: ServiceLine, action: str, *, by) -> ServiceLine:
    """checkin / checkout / no-show / deshacer with the spec's guards; recalculates the order; audit."""
    lock_order(line.order_id, line)
    if line.status == "cancelada":
        raise ValidationError("La reserva está cancelada.")
    today = clock.today()
    if action == "deshacer":
        if line.status not in UNDO:
            raise ValidationError("No hay nada que deshacer.")
        if line.service_date != today:
            raise ValidationError("Solo se puede deshacer el mismo día.")
        before = line.status
        line.status = UNDO[before]
        if before == "checkin":
            line.checked_in_at = None
        elif before == "checkout":
            line.checked_out_at = None
        event, text = "line_reverted", f"{_short(line)}: {STATUS_LABELS[before]} → {STATUS_LABELS[line.status]}"
    else:
        if action not in TRANSITIONS:
            raise ValidationError("Acción desconocida.")
        allowed, target, event = TRANSITIONS[action]
        if line.status not in allowed:
            raise ValidationError(f"No se puede pasar de «{STATUS_LABELS[line.status]}» a «{STATUS_LABELS[target]}».")
        if action == "checkin" and line.service_date != today:
            raise ValidationError("El check-in solo se puede hacer el día del servicio.")
        if action == "no-show" and not _slot_passed(line):
            raise ValidationError("La hora de la reserva aún no ha pasado.")
        line.status = target
        if target == "checkin":
            line.checked_in_at = clock.now()
        elif target == "checkout":
            line.checked_out_at = clock.now()
        text = _short(line)
    recalculate_order(line.order)
    record_event(line.order.client, event, text, by=by, order_id=line.order_id)
    return line


def cancel_line(line: ServiceLine, *, reason: str, by) -> ServiceLine:
    """Cancel one service line (capacity freed at once); the last active line cancels the order."""
    if not (reason or "").strip():
        raise ValidationError("Indique el motivo de la cancelación.", field="motivo")
    if len(reason.strip()) > 255:
        raise ValidationError("El motivo admite hasta 255 caracteres.", field="motivo")
    order = lock_order(line.order_id, line)
    if line.status == "cancelada":
        return line
    last = not any(ln.status != "cancelada" and ln.id != line.id for ln in order.service_lines) and not any(
        pl.status == "activa" for pl in order.product_lines
    )
    if last:
        _check_may_cancel_order(order, by)
    record_event(
        order.client,
        "line_removed",
        f"{line_label(line.service.name, line.service_date, line.start_time)}: {reason.strip()}",
        by=by,
        order_id=order.id,
    )
    if last:  # the last active line: the whole order goes
        cancel_order(order, reason="Sin líneas activas", by=by)
        signals.order_cancelled.send(order, by=by)
        return line
    line.status = "cancelada"
    line.cancelled_at = clock.now()
    line.cancel_reason = reason.strip()
    recalculate_order(order)
    signals.line_cancelled.send(line, by=by)
    return line


def _check_may_cancel_order(order, by) -> None:
    """recepcion may cancel only orders without valid payments (spec §4.4)."""
    if getattr(by, "role", None) == "recepcion" and any(p.status == "valido" for p in order.payments):
        raise ValidationError("La venta tiene pagos: solo un gerente puede cancelarla.")


def cancel_order_by_staff(order, *, reason: str, by, restock: bool = True):
    order = lock_order(order)
    _check_may_cancel_order(order, by)
    cancel_order(order, reason=reason, by=by, restock=restock)
    signals.order_cancelled.send(order, by=by)
    return order


def _recheck(line: ServiceLine, day: date, hhmm: str, people: int, provider_id: int | None, *, staff: bool = True):
    """Take the booking locks of the service (and providers) that day, re-check the slot ignoring the line itself;
    returns the provider. `staff=False`: the public panel's rules (a customer rescheduling)."""
    service = lock_services([(line.service_id, day)])[line.service_id]
    req = LineRequest(service_id=service.id, day=day, hhmm=hhmm, people=people, provider_id=provider_id)
    entry, assigned = check_line(service, req, staff=staff, ignore_line_id=line.id)
    if not entry.reservable:
        raise slot_unavailable(line_label(service.name, day, hhmm), entry)
    return assigned


def _check_open(line: ServiceLine) -> None:
    if line.status != "pendiente":
        raise ValidationError("Solo se pueden modificar reservas pendientes.")


def move_service_line(
    line: ServiceLine,
    *,
    day: date,
    hhmm: str,
    provider_id: int | None = None,
    by,
    reprice: bool = False,
    staff: bool = True,
    origin: str | None = None,
) -> ServiceLine:
    """New date/time/provider under the same availability rules; audit `line_moved`, webhook
    `booking.rescheduled`, signal `line_moved`. The price is kept, unless `reprice` (a customer's reschedule,
    self-service.md §2): the catalogue price is read again, so a higher one raises the balance and a lower one
    leaves credit. `origin` (e.g. `cliente`) goes into the audit entry's data."""
    lock_order(line.order_id, line)
    _check_open(line)
    before = f"{line.service_date:%d/%m/%Y} {line.start_time}"
    previous = {"fecha": line.service_date.isoformat(), "hora": line.start_time}
    from_day = line.service_date
    line.provider_id = _recheck(line, day, hhmm, line.people, provider_id, staff=staff)
    line.service_date, line.start_time = day, hhmm
    text = f"{line.service.name}: {before} → {day:%d/%m/%Y} {hhmm}"
    if reprice:
        service = line.service
        new_price = line_price(service.base_price, service.pricing_rule, line.people)
        if new_price != line.subtotal:
            text += f", {format_clp(line.subtotal)} → {format_clp(new_price)}"
        line.unit_price, line.pricing_rule, line.subtotal = service.base_price, service.pricing_rule, new_price
    recalculate_order(line.order)
    event = record_event(
        line.order.client,
        "line_moved",
        text,
        by=by,
        order_id=line.order_id,
        data={"origen": origin, "antes": previous} if origin else None,
    )
    emit_event(
        "booking.rescheduled",
        lambda: {
            "venta_reserva": order_representation(line.order),
            "reserva_servicio": service_line_representation(line),
            "antes": previous,
        },
    )
    signals.line_moved.send(line, event_id=event.id, by=by, from_day=from_day)
    return line


def change_people(line: ServiceLine, *, people: int, by) -> ServiceLine:
    """People within the service's bounds; subtotal from the line's price snapshot, never the catalogue."""
    lock_order(line.order_id, line)
    _check_open(line)
    service = line.service
    if not service.min_people <= people <= service.max_people:
        raise ValidationError(f"Personas: entre {service.min_people} y {service.max_people}.", field="personas")
    _recheck(line, line.service_date, line.start_time, people, line.provider_id)
    before = line.people
    line.people = people
    line.subtotal = line_price(line.unit_price, line.pricing_rule, people)
    recalculate_order(line.order)
    record_event(
        line.order.client,
        "line_updated",
        f"{_short(line)}: {before} → {people} personas, {format_clp(line.subtotal)}",
        by=by,
        order_id=line.order_id,
    )
    return line


def change_provider(line: ServiceLine, *, provider_id: int, by) -> ServiceLine:
    """Another qualified, free therapist for the same slot."""
    lock_order(line.order_id, line)
    _check_open(line)
    assigned = _recheck(line, line.service_date, line.start_time, line.people, provider_id)
    before = line.provider.name if line.provider else "—"
    line.provider_id = assigned
    db.session.flush()
    db.session.refresh(line, ["provider"])
    record_event(
        line.order.client,
        "line_updated",
        f"{_short(line)}: terapeuta {before} → {line.provider.name}",
        by=by,
        order_id=line.order_id,
    )
    return line
