"""Scheduled sales work (registered in app/scheduler.py)."""

from __future__ import annotations

from app.sales.cart_services import release_expired_holds
from app.sales.client_stats_services import recompute_all
from app.sales.flow_services import expire_unpaid_orders as _expire_unpaid


def expire_cart_holds() -> str:
    return f"{release_expired_holds()} retenciones liberadas"


def expire_unpaid_orders() -> str:
    return f"{_expire_unpaid()} ventas impagas canceladas"


def recompute_client_stats() -> str:
    """Nightly, just after midnight: every client_stats row recomputed set-based, the differences reported."""
    r = recompute_all()
    return (
        f"client_stats: {r['differed']} filas distintas, {r['missing']} faltantes, {r['orphans']} huérfanas, "
        f"{r['aged']} vencidas por fecha, {r['written']} reescritas"
    )
