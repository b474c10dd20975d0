"""Booking policies as pure rules (self-service.md §1–§3): defaults per service kind, the terms of one line (cut-offs,
late fee), what a customer cancellation returns, the deposit. No database, no clock: callers pass `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.core.money import percent_of
from app.sales.availability import slot_start

FIELDS = (
    "cancel_cutoff_hours",
    "reschedule_cutoff_hours",
    "late_cancel_fee_percent",
    "no_show_fee_percent",
    "deposit_percent",
)
PERCENT_FIELDS = ("late_cancel_fee_percent", "no_show_fee_percent", "deposit_percent")
LABELS = {
    "cancel_cutoff_hours": "Cancelación sin costo hasta (horas antes)",
    "reschedule_cutoff_hours": "Cambio de fecha u hora hasta (horas antes)",
    "late_cancel_fee_percent": "Cargo por cancelación tardía (%)",
    "no_show_fee_percent": "Cargo por no presentarse (%)",
    "deposit_percent": "Abono para confirmar una reserva online (%)",
}
# self-service.md §1: Tinas / Masajes / Cabañas; other kinds follow the tubs
DEFAULTS = {
    "tina": dict(zip(FIELDS, (24, 12, 100, 100, 0), strict=True)),
    "masaje": dict(zip(FIELDS, (24, 12, 100, 100, 0), strict=True)),
    "cabana": dict(zip(FIELDS, (72, 48, 50, 100, 50), strict=True)),
}
MAX_CUSTOMER_RESCHEDULES = 2
MAX_CUTOFF_HOURS = 24 * 60  # 60 days


def defaults_for(service_type: str) -> dict:
    return dict(DEFAULTS.get(service_type, DEFAULTS["tina"]))


def policy_key(category_id: int | None, service_type: str) -> str:
    """Where a line's policy sits in an order's snapshot: its category, or its kind for a service without one."""
    return str(category_id) if category_id is not None else f"tipo:{service_type}"


@dataclass(frozen=True)
class LineTerms:
    start: datetime
    cancel_until: datetime
    reschedule_until: datetime
    late_cancel_fee_percent: int
    no_show_fee_percent: int

    def free_cancel(self, now: datetime) -> bool:
        return now < self.cancel_until

    def may_reschedule(self, now: datetime) -> bool:
        return now < self.reschedule_until


def line_terms(values: dict, day: date, hhmm: str) -> LineTerms:
    start = slot_start(day, hhmm)
    return LineTerms(
        start=start,
        cancel_until=start - timedelta(hours=int(values["cancel_cutoff_hours"])),
        reschedule_until=start - timedelta(hours=int(values["reschedule_cutoff_hours"])),
        late_cancel_fee_percent=int(values["late_cancel_fee_percent"]),
        no_show_fee_percent=int(values["no_show_fee_percent"]),
    )


def late_fee(subtotal: int, terms: LineTerms, now: datetime) -> int:
    """What a customer cancellation keeps of one line: nothing before the cut-off, the late fee after it."""
    return 0 if terms.free_cancel(now) else percent_of(subtotal, terms.late_cancel_fee_percent)


def refund_amount(paid: int, fees: int) -> int:
    """Money paid minus the late fees (never negative)."""
    return max(int(paid) - int(fees), 0)


def deposit_amount(total: int, percent: int) -> int:
    """The deposit that confirms an online booking: round_half_up(total × percent / 100), 0 = full payment."""
    if not percent or percent >= 100:
        return 0
    return percent_of(int(total), int(percent))


def validate_values(values: dict) -> dict[str, str]:
    """Field → Spanish error for values out of range (the form checks shape; this the rule)."""
    errors = {}
    for name in FIELDS:
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            errors[name] = "Ingrese un número entero."
        elif name in PERCENT_FIELDS and not 0 <= value <= 100:
            errors[name] = "Ingrese un porcentaje entre 0 y 100."
        elif name not in PERCENT_FIELDS and not 0 <= value <= MAX_CUTOFF_HOURS:
            errors[name] = f"Ingrese un número de horas entre 0 y {MAX_CUTOFF_HOURS}."
    return errors
