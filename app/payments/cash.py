"""Cierre de caja (spec reports.md §2.3): closing, reopening and reading the state of a business day."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.payments.models import CashClose


def closed_close(day: date) -> CashClose | None:
    """The close currently in force for `day` (status `cerrada`), else None."""
    return db.session.scalar(
        sa.select(CashClose).where(CashClose.business_date == day, CashClose.status == "cerrada")
    )
