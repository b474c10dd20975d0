"""Pure booking rules: slot availability (spec catalog.md §4), order totals and states (booking.md §4.3–4.4).

No database, no clock: callers pass in what was loaded and what time it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.catalog.policy import WEEKDAYS
from app.core.clock import LOCAL_TZ
from app.core.errors import Msg
from app.core.money import percent_of

MESSAGES = {
    "servicio_no_disponible": "Este servicio no está disponible.",
    "fecha_pasada": "La fecha ya pasó.",
    "fuera_de_plazo": "Aún no se puede reservar esa fecha.",
    "dia_sin_horario": "No hay horarios para este día.",
    "hora_invalida": "Horario no válido para este servicio.",
    "bloqueado": "No disponible",
    "hora_pasada": "Ese horario ya pasó.",
    "personas_fuera_de_rango": "La cantidad de personas debe estar entre %(min)s y %(max)s.",
    "sin_cupo": "Horario agotado.",
    "sin_terapeuta": "No hay terapeuta disponible en ese horario.",
}


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    name: str
    service_type: str
    is_active: bool
    is_published: bool
    min_people: int
    max_people: int
    capacity: int
    duration_minutes: int
    grid: dict


@dataclass(frozen=True)
class Busy:
    """An interval a provider is taken (a line or a live hold), local wall-clock times."""

    start: datetime
    end: datetime


@dataclass
class SlotContext:
    """Everything `slot_availability` needs for one service and one local day."""

    service: ServiceInfo
    day: date
    now_local: datetime
    staff: bool = False
    lead_minutes: int = 0
    horizon_days: int = 365
    block_reason: str | None = None  # an active ServiceBlock covers the day
    slot_blocks: dict[str, str] = field(default_factory=dict)  # HH:MM -> reason
    occupied: dict[str, int] = field(default_factory=dict)  # HH:MM -> lines + live holds
    qualified: list[tuple[int, str]] = field(default_factory=list)  # (provider id, name): active, not absent
    busy: dict[int, list[Busy]] = field(default_factory=dict)
    load: dict[int, int] = field(default_factory=dict)  # assignments that day per provider


@dataclass
class SlotEntry:
    hora: str
    capacidad: int
    ocupados: int
    disponibles: int
    reservable: bool
    motivo: str | None
    proveedores_libres: list[int]
    mensaje: str | None = None
    detalle: str | None = None  # block reason, for staff

    def as_json(self) -> dict:
        return {
            "hora": self.hora,
            "disponibles": self.disponibles,
            "reservable": self.reservable,
            "motivo": self.motivo,
        }


def weekday_key(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def grid_times(grid: dict, day: date) -> list[str]:
    return list(grid.get(weekday_key(day)) or [])


def slot_start(day: date, hhmm: str) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def free_providers(ctx: SlotContext, hhmm: str) -> list[int]:
    """Qualified providers free during [start, start + duration), fewest assignments first, then lowest id."""
    start = slot_start(ctx.day, hhmm)
    end = start + timedelta(minutes=ctx.service.duration_minutes)
    free = [pid for pid, _ in ctx.qualified if not any(b.start < end and start < b.end for b in ctx.busy.get(pid, ()))]
    return sorted(free, key=lambda pid: (ctx.load.get(pid, 0), pid))


def _day_failure(ctx: SlotContext, people: int | None) -> str | None:
    s = ctx.service
    if not s.is_active or (not ctx.staff and not s.is_published):
        return "servicio_no_disponible"
    today = ctx.now_local.date()
    if ctx.day < today:
        return "fecha_pasada"
    if not ctx.staff and ctx.day > today + timedelta(days=ctx.horizon_days):
        return "fuera_de_plazo"
    if not grid_times(s.grid, ctx.day):
        return "dia_sin_horario"
    return None


def _motive(
    ctx: SlotContext, hhmm: str, people: int | None, day_failure: str | None, available: int, providers
) -> tuple[str | None, str | None]:
    """(motivo, block detail) of one time: None when it can be booked. `providers` are the free providers of a
    massage, or None to compute them only if the last rule needs them."""
    s = ctx.service
    motivo = day_failure
    detail = None
    if motivo is None and hhmm not in grid_times(s.grid, ctx.day):
        motivo = "hora_invalida"
    if motivo is None and (ctx.block_reason is not None or hhmm in ctx.slot_blocks):
        motivo = "bloqueado"
        detail = ctx.block_reason or ctx.slot_blocks.get(hhmm)
    if motivo is None:
        start = slot_start(ctx.day, hhmm)
        if ctx.staff:
            passed = ctx.day < ctx.now_local.date()
        else:
            passed = start <= ctx.now_local + timedelta(minutes=ctx.lead_minutes)
        if passed:
            motivo = "hora_pasada"
    if motivo is None and people is not None and not (s.min_people <= people <= s.max_people):
        motivo = "personas_fuera_de_rango"
    if motivo is None and available < 1:
        motivo = "sin_cupo"
    if motivo is None and s.service_type == "masaje":
        if providers is None:
            providers = free_providers(ctx, hhmm)
        if not providers:
            motivo = "sin_terapeuta"
    return motivo, detail


def _entry(ctx: SlotContext, hhmm: str, people: int | None, day_failure: str | None) -> SlotEntry:
    s = ctx.service
    occupied = ctx.occupied.get(hhmm, 0)
    available = max(s.capacity - occupied, 0)
    providers = free_providers(ctx, hhmm) if s.service_type == "masaje" else []
    motivo, detail = _motive(ctx, hhmm, people, day_failure, available, providers)
    message = None
    if motivo is not None:
        # a Msg: Spanish here (API, staff), the visitor's language on visitor pages (app/web/i18n.translated)
        message = Msg(MESSAGES[motivo], min=s.min_people, max=s.max_people)
    return SlotEntry(
        hora=hhmm,
        capacidad=s.capacity,
        ocupados=occupied,
        disponibles=available,
        reservable=motivo is None,
        motivo=motivo,
        proveedores_libres=providers,
        mensaje=message,
        detalle=detail,
    )


def slot_motives(ctx: SlotContext, people: int | None = None):
    """The `motivo` of each entry of `slot_availability`, in the same order, lazily and without building the
    entries: the month calendar only needs each day's summary (issue 20). The rules of `_motive`, with what is the
    same for every time of the day decided once (tests/shop/test_booking_panel.py proves them equal)."""
    times = sorted(grid_times(ctx.service.grid, ctx.day))
    failure = _day_failure(ctx, people)
    if failure is not None:  # the day's failure is every time's motive
        for _ in times:
            yield failure
        return
    s = ctx.service
    limit = ctx.now_local + timedelta(minutes=ctx.lead_minutes)
    if ctx.staff:
        day_passed: bool | None = ctx.day < ctx.now_local.date()
    elif limit.tzinfo is LOCAL_TZ and ctx.day != limit.date():
        day_passed = ctx.day < limit.date()  # same zone: wall-clock comparison, so the date decides
    else:
        day_passed = None  # the limit's own day: time by time
    wrong_people = people is not None and not (s.min_people <= people <= s.max_people)
    blocked, slot_blocks, occupied = ctx.block_reason is not None, ctx.slot_blocks, ctx.occupied
    for hhmm in times:
        if blocked or hhmm in slot_blocks:
            yield "bloqueado"
        elif day_passed if day_passed is not None else slot_start(ctx.day, hhmm) <= limit:
            yield "hora_pasada"
        elif wrong_people:
            yield "personas_fuera_de_rango"
        elif s.capacity - occupied.get(hhmm, 0) < 1:
            yield "sin_cupo"
        elif s.service_type == "masaje" and not free_providers(ctx, hhmm):
            yield "sin_terapeuta"
        else:
            yield None


def slot_availability(ctx: SlotContext, people: int | None = None) -> list[SlotEntry]:
    """One entry per grid time of that weekday, in time order."""
    failure = _day_failure(ctx, people)
    return [_entry(ctx, hhmm, people, failure) for hhmm in sorted(grid_times(ctx.service.grid, ctx.day))]


def check_slot(ctx: SlotContext, hhmm: str, people: int | None = None) -> SlotEntry:
    """The entry for one requested time (also for a time that is not in the grid)."""
    return _entry(ctx, hhmm, people, _day_failure(ctx, people))


# --- totals and states -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    services_total: int
    products_total: int
    discount_total: int
    total: int
    paid: int
    balance_due: int
    credit: int


def discount_amount(subtotal: int, *, amount: int | None, percent: int | None) -> int:
    """A % code's amount is recomputed from the current subtotal; a fixed amount stays."""
    if percent is not None:
        return percent_of(subtotal, percent)
    return amount or 0


def compute_totals(service_subtotals, product_subtotals, discounts, payments) -> Totals:
    """`discounts` = (amount, percent) of active discounts; `payments` = amounts of valid payments."""
    services_total = sum(service_subtotals)
    products_total = sum(product_subtotals)
    subtotal = services_total + products_total
    discount_total = min(sum(discount_amount(subtotal, amount=a, percent=p) for a, p in discounts), subtotal)
    total = subtotal - discount_total
    paid = sum(payments)
    return Totals(
        services_total, products_total, discount_total, total, paid, max(total - paid, 0), max(paid - total, 0)
    )


def payment_status(*, cancelled: bool, total: int, paid: int, has_refund: bool) -> str:
    if cancelled:
        return "reembolsado" if has_refund and paid == 0 else "cancelado"
    if paid >= total:
        return "pagado"
    return "parcial" if paid > 0 else "pendiente"


def booking_status(*, cancelled: bool, line_statuses: list[str]) -> str:
    if cancelled or (line_statuses and all(s == "cancelada" for s in line_statuses)):
        return "cancelada"
    active = [s for s in line_statuses if s != "cancelada"]
    if not active:
        return "pendiente"
    if all(s == "no_show" for s in active):
        return "no_show"
    if all(s in ("checkout", "no_show") for s in active):
        return "checkout"
    if any(s in ("checkin", "checkout") for s in active):
        return "checkin"
    return "pendiente"
