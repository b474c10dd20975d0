"""The booking-policy form (self-service.md §1): whole numbers, percents 0–100, Spanish messages."""

from __future__ import annotations

from app.sales.policy import MAX_CUTOFF_HOURS
from app.web.forms import BaseForm, IntField, Required

HOURS_INVALID = f"Ingrese un número de horas entre 0 y {MAX_CUTOFF_HOURS}."
PERCENT_INVALID = "Ingrese un porcentaje entre 0 y 100."


def _hours(label: str) -> IntField:
    return IntField(label, [Required(HOURS_INVALID)], minimum=0, maximum=MAX_CUTOFF_HOURS, message=HOURS_INVALID)


def _percent(label: str) -> IntField:
    return IntField(label, [Required(PERCENT_INVALID)], minimum=0, maximum=100, message=PERCENT_INVALID)


class PolicyForm(BaseForm):
    """One category's policy; built with prefix `c<category id>` so every category's form on the page has its own
    field ids (the category itself is the `categoria_id` input beside it)."""

    cancel_cutoff_hours = _hours("Cancelación sin costo hasta (horas antes)")
    reschedule_cutoff_hours = _hours("Cambio de fecha u hora hasta (horas antes)")
    late_cancel_fee_percent = _percent("Cargo por cancelación tardía (%)")
    no_show_fee_percent = _percent("Cargo por no presentarse (%)")
    deposit_percent = _percent("Abono para confirmar una reserva online (%)")

    def values(self) -> dict:
        from app.sales.policy import FIELDS

        return {name: getattr(self, name).data for name in FIELDS}
