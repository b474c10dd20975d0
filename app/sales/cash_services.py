"""Cierre de caja (spec reports.md §2.3): closing, reopening and reading the state of a business day.

Services flush, never commit. The audit trail of a day is its CashClose rows: every close keeps who/when/notes and
its counted lines; a reopen keeps who/when/why; the next close of the same day gets `version` + 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.sales.cash_queries import closed_close, closed_message, expected_by_method
from app.sales.locks import lock_cash_day
from app.sales.models import CashClose, CashCloseLine

CLOSE_ROLES = ("gerente", "admin")  # may close any date ≤ today and reopen; recepcion closes only today
NOTES_REQUIRED = "Explique la diferencia."
COUNTED_MISSING = "Ingrese el monto contado (0 si no hubo)."
COUNTED_INVALID = "Ingrese un número entero mayor o igual a cero."
COUNTED_TOO_LARGE = "El monto es demasiado grande."
MAX_COUNTED = 10**12


class CloseFormError(ValidationError):
    """Several field errors at once (422); `errors` maps a form field name to its Spanish message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


def check_close_date(day: date, by) -> None:
    """recepcion closes only today; gerente/admin any date ≤ today. Raises ValidationError."""
    today = clock.today()
    if day > today:
        raise ValidationError("No se puede cerrar la caja de una fecha futura.", field="fecha")
    if getattr(by, "role", None) not in CLOSE_ROLES and day != today:
        raise ValidationError("Recepción solo puede cerrar la caja del día de hoy.", field="fecha")


def close_day(day: date, counted: Mapping[str, object], notes: str | None = None, *, by) -> CashClose:
    """Close the cash of `day` with the amounts counted per method code; flushes.

    The expected amounts are recomputed here, in the caller's transaction, behind the day lock. Raises
    ValidationError for a date the user may not close, CloseFormError for missing/invalid counted amounts or a
    difference without notes, ConflictError when the day is already closed (also when a parallel close wins the
    race and the partial unique index refuses this one).
    """
    check_close_date(day, by)
    lock_cash_day(day)
    existing = closed_close(day)
    if existing is not None:
        raise ConflictError(closed_message(existing))
    expected = expected_by_method(day)
    notes = (notes or "").strip() or None
    errors: dict[str, str] = {}
    lines: list[CashCloseLine] = []
    for line in expected:
        value = counted.get(line.code)
        if value is None or value == "":
            errors[f"contado_{line.code}"] = COUNTED_MISSING
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors[f"contado_{line.code}"] = COUNTED_INVALID
        elif value > MAX_COUNTED:
            errors[f"contado_{line.code}"] = COUNTED_TOO_LARGE
        else:
            lines.append(
                CashCloseLine(
                    method_code=line.code, expected=line.expected, counted=value, difference=value - line.expected
                )
            )
    if any(ln.difference != 0 for ln in lines) and notes is None:
        errors["notas"] = NOTES_REQUIRED
    if errors:
        raise CloseFormError(errors)
    previous = db.session.scalar(sa.select(sa.func.count(CashClose.id)).where(CashClose.business_date == day)) or 0
    close = CashClose(
        business_date=day,
        status="cerrada",
        version=previous + 1,
        closed_by_id=getattr(by, "id", None),
        closed_at=clock.now(),
        notes=notes,
        lines=lines,
    )
    try:
        with db.session.begin_nested():
            db.session.add(close)
            db.session.flush()
    except IntegrityError:
        winner = closed_close(day)
        raise ConflictError(
            closed_message(winner) if winner is not None else f"La caja del {day:%d/%m/%Y} ya fue cerrada."
        ) from None
    return close


def reopen_close(close: CashClose, reason: str | None, *, by) -> CashClose:
    """Reopen a closed day (gerente/admin, reason required): status `reabierta`; flushes.

    Raises ValidationError for another role or a missing reason, ConflictError when it is no longer the close in
    force.
    """
    if getattr(by, "role", None) not in CLOSE_ROLES:
        raise ValidationError("Solo un gerente o administrador puede reabrir la caja.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indique el motivo de la reapertura.", field="motivo")
    if len(reason) > 255:
        raise ValidationError("El motivo no puede superar los 255 caracteres.", field="motivo")
    lock_cash_day(close.business_date)
    close = db.session.execute(
        sa.select(CashClose).where(CashClose.id == close.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if close.status != "cerrada":
        raise ConflictError(f"El cierre del {close.business_date:%d/%m/%Y} ya fue reabierto.")
    close.status = "reabierta"
    close.reopened_by_id = getattr(by, "id", None)
    close.reopened_at = clock.now()
    close.reopen_reason = reason
    db.session.flush()
    return close
