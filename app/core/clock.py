"""The only place that reads the clock. Store UTC; business days and slots are America/Santiago."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = UTC
LOCAL_TZ = ZoneInfo("America/Santiago")

HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"  # a wall time "HH:MM", 00:00–23:59
_HHMM = re.compile(HHMM_PATTERN)

_frozen: datetime | None = None


def is_hhmm(value) -> bool:
    """A slot time as the system writes it: "HH:MM", 00:00–23:59."""
    return isinstance(value, str) and bool(_HHMM.match(value))


def now() -> datetime:
    """Current instant, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def local_now() -> datetime:
    return now().astimezone(LOCAL_TZ)


def today() -> date:
    """Today's business date in America/Santiago."""
    return local_now().date()


def to_local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def local_instant(day: date, hhmm: time) -> datetime:
    """A local date + wall time as an aware instant (America/Santiago)."""
    return datetime.combine(day, hhmm, tzinfo=LOCAL_TZ)


def local_midnight(day: date) -> datetime:
    """The first instant of a local business day (America/Santiago)."""
    return local_instant(day, time(0, 0))


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at an aware instant (tests only); None thaws it."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None
