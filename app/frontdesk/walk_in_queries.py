"""Walk-in and phone bookings at the desk (spec booking.md §10): the hour grid the receptionist clicks, built from
the same availability code as the public booking panel (`load_slot_context` + `slot_availability`, staff mode),
with the price and total, and whether today's cash day still takes a payment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.catalog.models import Service
from app.catalog.policy import line_price
from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.sales import services as sales_services
from app.sales.availability import SlotEntry, slot_availability
from app.sales.queries import load_slot_context

# Short labels for the hours that cannot be clicked (the grid shows the full message in its title/aria-label).
SHORT_REASONS = {
    "hora_pasada": "Pasada",
    "sin_cupo": "Agotado",
    "bloqueado": "Bloqueado",
    "sin_terapeuta": "Sin terapeuta",
    "personas_fuera_de_rango": "Personas",
}
NOT_IN_GRID = "Ese horario no existe para este servicio."


def is_internal(service: Service) -> bool:
    """An internal placeholder (e.g. «Tina Mantención»): not published and free. Never offered to clients."""
    return not service.is_published and service.base_price == 0


def walk_in_services() -> list[Service]:
    """Active services a client can be booked into at the desk (unpublished ones too, internal ones not)."""
    return list(
        db.session.scalars(
            sa.select(Service)
            .where(Service.is_active.is_(True), sa.or_(Service.is_published.is_(True), Service.base_price > 0))
            .order_by(Service.name)
        )
    )


@dataclass
class HourGrid:
    """What the walk-in form shows for one service, day and party size."""

    service: Service | None
    day: date
    people: int
    entries: list[SlotEntry] = field(default_factory=list)
    providers: list[tuple[int, str]] = field(default_factory=list)
    price: int = 0
    people_error: str | None = None

    @property
    def free(self) -> list[SlotEntry]:
        return [e for e in self.entries if e.reservable]

    @property
    def day_message(self) -> str | None:
        """One sentence when the whole day fails for the same reason (closed day, past date...)."""
        if not self.entries:
            return "No hay horarios para este día." if self.service else None
        reasons = {e.motivo for e in self.entries}
        if (
            len(reasons) == 1
            and None not in reasons
            and next(iter(reasons)) in ("dia_sin_horario", "fecha_pasada", "servicio_no_disponible", "bloqueado")
        ):
            return self.entries[0].mensaje
        return None

    def short_reason(self, entry: SlotEntry) -> str:
        return SHORT_REASONS.get(entry.motivo or "", "No disponible")


def hour_grid(service: Service | None, day: date, people: int, *, ignore_line_id: int | None = None) -> HourGrid:
    """The hours of `service` on `day` for `people`, as the public panel computes them (staff mode: earlier hours
    of today stay bookable, unpublished services are allowed). `ignore_line_id`: a line being moved does not
    occupy its own slot."""
    if service is None:
        return HourGrid(service=None, day=day, people=people)
    ctx = load_slot_context(service, day, staff=True, ignore_line_id=ignore_line_id)
    entries = slot_availability(ctx, people)
    people_error = None
    if not service.min_people <= people <= service.max_people:
        people_error = f"La cantidad de personas debe estar entre {service.min_people} y {service.max_people}."
    return HourGrid(
        service=service,
        day=day,
        people=people,
        entries=entries,
        providers=list(ctx.qualified) if service.service_type == "masaje" else [],
        price=line_price(service.base_price, service.pricing_rule, people),
        people_error=people_error,
    )


def clearer_conflict(exc: sales_services.SlotUnavailable) -> Exception:
    """The walk-in's own wording for a refused hour: one that the grid never offered is not «ya no disponible»."""
    if len(exc.failures) == 1:
        label, entry = exc.failures[0]
        if entry.motivo == "hora_invalida":
            return ValidationError(NOT_IN_GRID, field="hora")
        return sales_services.slot_unavailable(label, entry)
    return exc


def cash_day_closed() -> bool:
    """Today's cash day is closed (a receptionist can then save the booking, not take its payment)."""
    from app.sales.cash_queries import closed_close

    return closed_close(clock.today()) is not None
