"""Scheduled waitlist work (registered in app/scheduler.py)."""

from __future__ import annotations

from app.waitlist.services import expire_waitlist as _expire


def expire_waitlist() -> str:
    return f"{_expire()} entradas de lista de espera vencidas"
