from datetime import UTC, date, datetime

from werkzeug.datastructures import MultiDict

from app.core.clock import LOCAL_TZ
from app.reports.filters import parse_date_range
from app.web.params import INVALID_DATE_NOTICE


def test_default_is_today_local(freeze_clock):
    freeze_clock(datetime(2026, 3, 3, 2, 0, tzinfo=UTC))  # 23:00 on the 2nd in Santiago (UTC-3)
    r = parse_date_range(MultiDict())
    assert (r.start, r.end, r.notice) == (date(2026, 3, 2), date(2026, 3, 2), None)
    assert r.start_utc == datetime(2026, 3, 2, tzinfo=LOCAL_TZ)
    assert r.end_utc == datetime(2026, 3, 3, tzinfo=LOCAL_TZ)


def test_invalid_date_falls_back_with_notice_and_inverted_range_is_swapped(freeze_clock):
    freeze_clock(datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ))
    bad = parse_date_range(MultiDict({"fecha_inicio": "02/03/2026"}))
    assert bad.start == date(2026, 3, 2) and bad.notice == INVALID_DATE_NOTICE
    swapped = parse_date_range(MultiDict({"fecha_inicio": "2026-03-10", "fecha_fin": "2026-03-01"}))
    assert (swapped.start, swapped.end) == (date(2026, 3, 1), date(2026, 3, 10))
    assert swapped.as_args() == {"fecha_inicio": "2026-03-01", "fecha_fin": "2026-03-10"}
