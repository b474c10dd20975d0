"""The only place that reads the clock. Store UTC; business days and slots are America/Santiago."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

UTC = UTC
LOCAL_TZ = ZoneInfo("America/Santiago")

_frozen: datetime | None = None


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


def freeze(at: datetime | None) -> None:
    """Freeze the clock at an aware instant (tests only); None thaws it."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None
