"""Query-string and form values every screen reads the same way."""

from __future__ import annotations

from datetime import date

from app.core import clock

INVALID_DATE_NOTICE = "Fecha inválida, se usó hoy"


def parse_day(raw: str | None, default: date | None = None) -> tuple[date, str | None]:
    """`YYYY-MM-DD` -> (date, None); empty -> (default or today, None); unparsable -> (default or today, notice)."""
    fallback = default or clock.today()
    if not (raw or "").strip():
        return fallback, None
    try:
        return date.fromisoformat(raw.strip()), None
    except ValueError:
        return fallback, INVALID_DATE_NOTICE
