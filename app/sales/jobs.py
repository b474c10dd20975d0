"""Scheduled sales work (registered in app/scheduler.py)."""

from __future__ import annotations

from app.sales.cart_services import release_expired_holds
from app.sales.flow_services import expire_unpaid_orders as _expire_unpaid


def expire_cart_holds() -> str:
    return f"{release_expired_holds()} retenciones liberadas"


def expire_unpaid_orders() -> str:
    return f"{_expire_unpaid()} ventas impagas canceladas"
