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


def parse_hhmm(raw: str | None, *, field: str = "hora") -> str:
    """A form's `HH:MM` or a Spanish ValidationError naming the field."""
    from app.core.errors import ValidationError

    hhmm = (raw or "").strip()
    if not clock.is_hhmm(hhmm):
        raise ValidationError("Indique la hora (HH:MM).", field=field)
    return hhmm


MAX_ID = 2**31 - 1  # ids beyond the INTEGER columns: treated as unknown (PostgreSQL would refuse the comparison)
TRUE_VALUES = frozenset({"1", "on", "true", "si", "sí", "yes"})


def parse_id(raw: str | None) -> int | None:
    """A positive id from a query string or form; anything else is ignored (never a 500)."""
    text = (raw or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def parse_choice(raw: str | None, allowed) -> str | None:
    """One of `allowed`, else None."""
    text = (raw or "").strip()
    return text if text in allowed else None


def parse_flag(raw: str | None) -> bool:
    """A checkbox or yes/no value: 1, on, true, si, sí, yes."""
    return (raw or "").strip().lower() in TRUE_VALUES
