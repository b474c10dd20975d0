"""The cash day read side: its bounds, a CLP sum, the close in force, the expected amount per method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.core import clock
from app.extensions import db
from app.sales.models import CashClose, Payment, PaymentMethod


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[local 00:00 of `day`, local 00:00 of the next day) as aware instants."""
    return clock.local_instant(day, time(0, 0)), clock.local_instant(day + timedelta(days=1), time(0, 0))


def money_sum(expr) -> sa.ColumnElement[int]:
    """Σ expr as a CLP integer (SUM is NUMERIC on PostgreSQL), 0 when there are no rows."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)


def closed_close(day: date) -> CashClose | None:
    """The close currently in force for `day` (status `cerrada`), else None."""
    return db.session.scalar(sa.select(CashClose).where(CashClose.business_date == day, CashClose.status == "cerrada"))


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
        sa.select(
            PaymentMethod.code,
            PaymentMethod.label,
            PaymentMethod.counts_as_cash,
            sa.cast(sa.func.coalesce(sums.c.total, 0), sa.BigInteger),
        )
        .outerjoin(sums, sums.c.code == PaymentMethod.code)
        .where(
            sa.or_(
                sa.and_(PaymentMethod.is_active.is_(True), PaymentMethod.counts_as_cash.is_(True)),
                sums.c.code.is_not(None),
            )
        )
        .order_by(PaymentMethod.sort_order, PaymentMethod.code)
    )
    return [ExpectedLine(code, label, int(total), bool(cash)) for code, label, cash, total in db.session.execute(stmt)]
