"""Forms of the manager reports (shape and format only; the rules live in app/sales/cash_services.py).

The cierre de caja asks one counted amount per payment method, and which methods it asks depends on the day
(cash always, then the methods that moved): `CashCloseForm.for_methods(...)` builds the form class per request,
with one `contado_<code>` field each.
"""

from __future__ import annotations

import re

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from app.core.errors import DomainError, ValidationError
from app.sales.cash_services import (
    COUNTED_INVALID,
    COUNTED_MISSING,
    COUNTED_TOO_LARGE,
    MAX_COUNTED,
    CloseFormError,
)
from app.web.forms import BaseForm, ClpField, DayField, OneTimeForm
from app.web.params import INVALID_DATE_NOTICE

COUNTED_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII digits only: "²" passes str.isdigit()
REOPEN_REASON_REQUIRED = "Indique el motivo de la reapertura."
REOPEN_REASON_TOO_LONG = "El motivo no puede superar los 255 caracteres."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CountedField(ClpField):
    """A counted amount (`12.345`, `$12.345`, `12345`): an int from 0 to MAX_COUNTED, with the cierre's messages
    (more than 18 digits is not a number, 13 to 18 is too large)."""

    def parse(self, text: str) -> int:
        digits = text.replace("$", "").replace(".", "").replace(" ", "")
        if not COUNTED_DIGITS.fullmatch(digits):
            raise ValueError(COUNTED_INVALID)
        value = int(digits)
        if value > MAX_COUNTED:
            raise ValueError(COUNTED_TOO_LARGE)
        return value


def counted_required(form, field) -> None:
    """Every asked method needs a count, 0 included (a bad value already has its own message)."""
    if not field.raw.strip():
        raise StopValidation(COUNTED_MISSING)


class CashCloseForm(OneTimeForm):
    """Cierre de caja (spec reports.md §2.3): the day, the step the form was shown in (`vista`) and the one asked
    for (`paso`), the notes and, once built `for_methods`, one `contado_<code>` per asked method. Only the review
    step renders the one-time key (the count step closes nothing)."""

    fecha = DayField("Fecha", message=INVALID_DATE_NOTICE)
    vista = StringField()
    paso = StringField()
    notas = TextAreaField("Notas")

    @classmethod
    def for_methods(cls, methods, **kwargs) -> CashCloseForm:
        """The form with one counted amount per `(code, label)` asked."""
        fields = {f"contado_{code}": CountedField(f"Contado {label}", [counted_required]) for code, label in methods}
        return type(cls.__name__, (cls,), fields)(**kwargs)

    def counted_fields(self) -> list[tuple[str, CountedField]]:
        """(method code, field) of every asked method, in the form's order."""
        return [(name.removeprefix("contado_"), f) for name, f in self._fields.items() if name.startswith("contado_")]

    def attach(self, exc: DomainError) -> None:
        """A CloseFormError names several fields at once (missing counts, notes required): each on its field."""
        if isinstance(exc, CloseFormError):
            for name, message in exc.errors.items():
                super().attach(ValidationError(message, field=name))
            return
        super().attach(exc)

    def copy_errors(self, other: CashCloseForm) -> None:
        """Show the errors of the form that was posted (for another day's or another set of methods' form)."""
        for name, f in other._fields.items():
            if f.errors and name in self._fields:
                self._fields[name].errors = list(f.errors)
        self.form_errors = list(other.form_errors)
        self.error_status = other.error_status


class ReopenCloseForm(BaseForm):
    """Reabrir caja: the reason is required and fits the column (the service checks the same)."""

    motivo = TextAreaField(
        "Motivo",
        filters=[_strip],
        validators=[
            DataRequired(message=REOPEN_REASON_REQUIRED),
            Length(max=255, message=REOPEN_REASON_TOO_LONG),
        ],
    )
