"""Cierre de caja (spec reports.md §2.3): closing, reopening and reading the state of a business day.

Services flush, never commit. The audit trail of a day is its CashClose rows: every close keeps who/when/notes and
its counted lines; a reopen keeps who/when/why; the next close of the same day gets `version` + 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.payments.models import CashClose, CashCloseLine, Payment, PaymentMethod

CLOSE_ROLES = ("gerente", "admin")  # may close any date ≤ today and reopen; recepcion closes only today
CASH_LOCK_NAMESPACE = 0x43534844  # first key of pg_advisory_xact_lock(ns, day): "CSHD"
LOCKING_ENABLED = True  # the concurrency test's negative control switches the day lock off
NOTES_REQUIRED = "Explique la diferencia."
COUNTED_MISSING = "Ingrese el monto contado (0 si no hubo)."
COUNTED_INVALID = "Ingrese un número entero mayor o igual a cero."
COUNTED_TOO_LARGE = "El monto es demasiado grande."
MAX_COUNTED = 10**12


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[local 00:00 of `day`, local 00:00 of the next day) as aware instants."""
    return clock.local_instant(day, time(0, 0)), clock.local_instant(day + timedelta(days=1), time(0, 0))


def money_sum(expr) -> sa.ColumnElement[int]:
    """Σ expr as a CLP integer (SUM is NUMERIC on PostgreSQL), 0 when there are no rows."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)


def lock_cash_day(day: date, *, shared: bool = False) -> None:
    """The day's transaction-scoped advisory lock on PostgreSQL (a no-op on SQLite: one writer at a time anyway).

    A close takes it exclusively; a payment takes it shared, so payments never wait for each other, but a payment
    waits for a close in progress (and then sees it) and a close waits for payments in flight (and then counts
    them): no payment can land in a day between the close's reading and its commit."""
    if not LOCKING_ENABLED or db.session.get_bind().dialect.name != "postgresql":
        return
    lock = sa.func.pg_advisory_xact_lock_shared if shared else sa.func.pg_advisory_xact_lock
    db.session.execute(sa.select(lock(CASH_LOCK_NAMESPACE, day.toordinal())))


def closed_close(day: date) -> CashClose | None:
    """The close currently in force for `day` (status `cerrada`), else None."""
    return db.session.scalar(
        sa.select(CashClose).where(CashClose.business_date == day, CashClose.status == "cerrada")
    )


def closed_message(close: CashClose) -> str:
    """The 409 message: «La caja del DD/MM/YYYY ya fue cerrada por <usuario> a las HH:MM.»"""
    who = close.closed_by.username if close.closed_by is not None else "sistema"
    at = clock.to_local(close.closed_at).strftime("%H:%M")
    return f"La caja del {close.business_date:%d/%m/%Y} ya fue cerrada por {who} a las {at}."


@dataclass(frozen=True)
class ExpectedLine:
    code: str
    label: str
    expected: int
    counts_as_cash: bool


def expected_by_method(day: date) -> list[ExpectedLine]:
    """Net valid payments of the local date `day` per method: every active `counts_as_cash` method, plus any method
    with movements that day, in `sort_order`. One statement."""
    start, end = day_bounds(day)
    sums = (
        sa.select(Payment.method.label("code"), money_sum(Payment.amount).label("total"))
        .where(Payment.status == "valido", Payment.paid_at >= start, Payment.paid_at < end)
        .group_by(Payment.method)
        .subquery()
    )
    stmt = (
        sa.select(PaymentMethod.code, PaymentMethod.label, PaymentMethod.counts_as_cash,
                  sa.cast(sa.func.coalesce(sums.c.total, 0), sa.BigInteger))
        .outerjoin(sums, sums.c.code == PaymentMethod.code)
        .where(sa.or_(sa.and_(PaymentMethod.is_active.is_(True), PaymentMethod.counts_as_cash.is_(True)),
                      sums.c.code.is_not(None)))
        .order_by(PaymentMethod.sort_order, PaymentMethod.code)
    )
    return [ExpectedLine(code, label, int(total), bool(cash)) for code, label, cash, total in db.session.execute(stmt)]


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
            lines.append(CashCloseLine(method_code=line.code, expected=line.expected, counted=value,
                                       difference=value - line.expected))
    if any(ln.difference != 0 for ln in lines) and notes is None:
        errors["notas"] = NOTES_REQUIRED
    if errors:
        raise CloseFormError(errors)
    previous = db.session.scalar(
        sa.select(sa.func.count(CashClose.id)).where(CashClose.business_date == day)) or 0
    close = CashClose(business_date=day, status="cerrada", version=previous + 1, closed_by_id=getattr(by, "id", None),
                      closed_at=clock.now(), notes=notes, lines=lines)
    try:
        with db.session.begin_nested():
            db.session.add(close)
            db.session.flush()
    except IntegrityError:
        winner = closed_close(day)
        raise ConflictError(closed_message(winner) if winner is not None
                            else f"La caja del {day:%d/%m/%Y} ya fue cerrada.") from None
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
        sa.select(CashClose).where(CashClose.id == close.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if close.status != "cerrada":
        raise ConflictError(f"El cierre del {close.business_date:%d/%m/%Y} ya fue reabierto.")
    close.status = "reabierta"
    close.reopened_by_id = getattr(by, "id", None)
    close.reopened_at = clock.now()
    close.reopen_reason = reason
    db.session.flush()
    return close
