"""Scheduled booking work (registered in app/scheduler.py)."""

from __future__ import annotations

from app.orders.services import release_expired_holds


def expire_cart_holds() -> str:
    return f"{release_expired_holds()} retenciones liberadas"
