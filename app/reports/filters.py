"""Common report filters (spec reports.md §1): the date range every report reads from the query string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.core import clock
from app.web.params import parse_day


@dataclass
class DateRange:
    start: date
    end: date
    notice: str | None = None

    @property
    def start_utc(self) -> datetime:
        """Local 00:00 of the first day, as an aware instant."""
        return clock.local_instant(self.start, time(0, 0))

    @property
    def end_utc(self) -> datetime:
        """Local 00:00 of the day after the last day (exclusive bound)."""
        return clock.local_instant(self.end + timedelta(days=1), time(0, 0))

    def as_args(self) -> dict[str, str]:
        return {"fecha_inicio": self.start.isoformat(), "fecha_fin": self.end.isoformat()}


def parse_date_range(
    args, *, start_key: str = "fecha_inicio", end_key: str = "fecha_fin", default: date | None = None
) -> DateRange:
    """Dates `YYYY-MM-DD` (default today, local); unparsable -> today + notice; inverted -> swapped."""
    today = default or clock.today()
    start, bad_start = parse_day(args.get(start_key), today)
    end, bad_end = parse_day(args.get(end_key), today)
    if start > end:
        start, end = end, start
    return DateRange(start, end, bad_start or bad_end)
