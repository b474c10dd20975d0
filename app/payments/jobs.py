"""Scheduled payment work (registered in app/scheduler.py)."""

from __future__ import annotations

from app.payments.flow_service import expire_unpaid_orders as _expire


def expire_unpaid_orders() -> str:
    return f"{_expire()} ventas impagas canceladas"
