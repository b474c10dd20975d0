"""Reminder 24 h before (§4.2) and D+1 survey (§4.4): who is selected, who is not and why, idempotency, local-time
edges (midnight, DST end), with frozen time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.automations.jobs import run_automation
from app.core.clock import UTC
from tests.automations.conftest import local

MONDAY = local(2026, 3, 2, 10, 0)  # summer time, UTC-3


def keys(rows):
    return [r.idempotency_key for r in rows]


def test_reminder_selects_lines_starting_in_the_next_24_hours(db_session, freeze_clock, make_order, outbox):
    freeze_clock(MONDAY)
    yesterday = MONDAY - timedelta(days=1)
    due_tomorrow = make_order(lines=[(date(2026, 3, 3), "10:00")], created_at=yesterday)  # exactly now + 24 h
    today_later = make_order(
        lines=[(date(2026, 3, 2), "14:00"), (date(2026, 3, 2), "17:00")], created_at=yesterday - timedelta(hours=2)
    )
    make_order(lines=[(date(2026, 3, 3), "11:00")], created_at=yesterday)  # 25 h away: next run
    make_order(lines=[(date(2026, 3, 2), "10:00")], created_at=yesterday)  # starts now: too late
    make_order(lines=[(date(2026, 3, 2), "14:00")], created_at=yesterday, cancelled=True)
    make_order(lines=[(date(2026, 3, 2), "14:00")], created_at=yesterday, line_status="cancelada")
    make_order(lines=[(date(2026, 3, 2), "17:00")], created_at=MONDAY - timedelta(hours=1))  # booked 8 h ahead
    result = run_automation("reminders")
    assert result.queued == 4 and result.by_channel == {"SMS": 2, "EMAIL": 2}
    assert keys(outbox("BOOKING_REMINDER")) == [
        f"order:{due_tomorrow.id}:BOOKING_REMINDER:2026-03-03:email",
        f"order:{due_tomorrow.id}:BOOKING_REMINDER:2026-03-03:sms",
        f"order:{today_later.id}:BOOKING_REMINDER:2026-03-02:email",
        f"order:{today_later.id}:BOOKING_REMINDER:2026-03-02:sms",
    ]
    row = next(r for r in outbox("BOOKING_REMINDER") if r.order_id == today_later.id)
    assert row.status == "PENDING" and row.triggered_by == "booking_reminders"
    assert row.expires_at == local(2026, 3, 2, 14, 0).astimezone(UTC)  # that day's first start
    again = run_automation("reminders", count_existing=True)
    assert again.queued == 0 and again.existing == 4 and len(outbox("BOOKING_REMINDER")) == 4


def test_reminder_lead_time_is_measured_from_the_first_line(db_session, freeze_clock, make_order, outbox):
    freeze_clock(MONDAY)
    # ordered at 01:30: 12.5 h before 14:00 -> reminded; ordered at 02:30: 11.5 h before -> not
    early = make_order(lines=[(date(2026, 3, 2), "14:00")], created_at=local(2026, 3, 2, 1, 30))
    make_order(lines=[(date(2026, 3, 2), "14:00")], created_at=local(2026, 3, 2, 2, 30))
    run_automation("reminders")
    assert {r.order_id for r in outbox("BOOKING_REMINDER")} == {early.id}


def test_reminder_midnight_boundary_gives_each_day_its_own_key(db_session, freeze_clock, make_order, outbox):
    created = local(2026, 2, 20)
    order = make_order(lines=[(date(2026, 3, 3), "23:00"), (date(2026, 3, 4), "00:00")], created_at=created)
    freeze_clock(local(2026, 3, 2, 23, 0))
    run_automation("reminders")
    assert keys(outbox("BOOKING_REMINDER")) == [
        f"order:{order.id}:BOOKING_REMINDER:2026-03-03:email",
        f"order:{order.id}:BOOKING_REMINDER:2026-03-03:sms",
    ]
    freeze_clock(local(2026, 3, 3, 0, 0))
    run_automation("reminders")
    assert sorted(keys(outbox("BOOKING_REMINDER")))[:2] == [
        f"order:{order.id}:BOOKING_REMINDER:2026-03-03:email",
        f"order:{order.id}:BOOKING_REMINDER:2026-03-03:sms",
    ]
    assert f"order:{order.id}:BOOKING_REMINDER:2026-03-04:sms" in keys(outbox("BOOKING_REMINDER"))


def test_reminder_window_is_24_real_hours_across_the_dst_change(db_session, freeze_clock, make_order, outbox):
    """Saturday 04/04/2026 10:00 (UTC-3) + 24 h = Sunday 05/04 09:00 (UTC-4): 10:00 on Sunday is 25 h away."""
    created = local(2026, 3, 20)
    nine = make_order(lines=[(date(2026, 4, 5), "09:00")], created_at=created)
    make_order(lines=[(date(2026, 4, 5), "10:00")], created_at=created)
    freeze_clock(local(2026, 4, 4, 10, 0))
    run_automation("reminders")
    assert {r.order_id for r in outbox("BOOKING_REMINDER")} == {nine.id}
    assert outbox("BOOKING_REMINDER")[0].expires_at == local(2026, 4, 5, 9, 0).astimezone(UTC)


def test_reminder_for_a_moved_line_gets_a_new_key(db_session, freeze_clock, make_order, outbox):
    freeze_clock(MONDAY)
    order = make_order(lines=[(date(2026, 3, 2), "14:00")], created_at=local(2026, 2, 1))
    run_automation("reminders")
    line = order.service_lines[0]
    line.service_date = date(2026, 3, 3)
    line.start_time = "09:00"
    db_session.flush()
    run_automation("reminders")
    assert {r.idempotency_key.split(":")[3] for r in outbox("BOOKING_REMINDER")} == {"2026-03-02", "2026-03-03"}


@pytest.fixture
def survey_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_PUBLIC_BASE_URL", "https://encuesta.example.com/aremko")
    monkeypatch.setitem(app.config, "TRIPADVISOR_URL", "https://www.tripadvisor.cl/aremko")


def test_survey_once_per_order_day_after_the_last_visit(
    db_session, freeze_clock, make_order, make_client, consent, outbox, survey_url
):
    freeze_clock(local(2026, 3, 3, 11, 0))
    visited = make_order(
        lines=[(date(2026, 3, 1), "14:00"), (date(2026, 3, 2), "14:00")],
        line_status="checkout",
        created_at=local(2026, 2, 1),
    )
    make_order(lines=[(date(2026, 3, 1), "14:00")], line_status="checkout", created_at=local(2026, 2, 1))  # D+2
    multi = make_order(
        lines=[(date(2026, 3, 2), "14:00"), (date(2026, 3, 4), "14:00")], created_at=local(2026, 2, 1)
    )  # its last line is tomorrow
    make_order(lines=[(date(2026, 3, 2), "14:00")], line_status="no_show", created_at=local(2026, 2, 1))
    make_order(
        lines=[(date(2026, 3, 2), "14:00")], line_status="checkout", cancelled=True, created_at=local(2026, 2, 1)
    )
    returning = make_client()
    make_order(
        client=returning, lines=[(date(2026, 3, 2), "14:00")], line_status="checkout", created_at=local(2026, 2, 1)
    )
    make_order(client=returning, lines=[(date(2026, 3, 10), "14:00")], created_at=local(2026, 2, 1))
    sms_only = make_client(email=None)
    by_sms = make_order(
        client=sms_only, lines=[(date(2026, 3, 2), "17:00")], line_status="checkout", created_at=local(2026, 2, 1)
    )
    no_consent = make_client()
    consent(no_consent, accepts_surveys=False)
    make_order(
        client=no_consent, lines=[(date(2026, 3, 2), "17:00")], line_status="checkout", created_at=local(2026, 2, 1)
    )
    result = run_automation("surveys")
    rows = outbox("SATISFACTION_SURVEY")
    assert {(r.order_id, r.communication_type) for r in rows} == {(visited.id, "EMAIL"), (by_sms.id, "SMS")}
    assert multi.id not in {r.order_id for r in rows}
    assert result.queued == 2
    assert {r.idempotency_key for r in rows} == {
        f"order:{visited.id}:SATISFACTION_SURVEY",
        f"order:{by_sms.id}:SATISFACTION_SURVEY",
    }
    assert rows[0].expires_at == local(2026, 3, 6, 11, 0).astimezone(UTC)
    assert run_automation("surveys").queued == 0


def test_survey_needs_a_survey_url(db_session, freeze_clock, make_order, outbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_PUBLIC_BASE_URL", "")
    freeze_clock(local(2026, 3, 3, 11, 0))
    make_order(lines=[(date(2026, 3, 2), "14:00")], line_status="checkout", created_at=local(2026, 2, 1))
    result = run_automation("surveys")
    assert result.queued == 0 and "SURVEY_PUBLIC_BASE_URL" in result.skipped and outbox() == []


def test_survey_yesterday_is_local_just_after_midnight(db_session, freeze_clock, make_order, outbox, survey_url):
    """At 00:30 local on 03/03 (03:30 UTC) "yesterday" is 02/03, not the UTC date's day before."""
    order = make_order(lines=[(date(2026, 3, 2), "20:00")], line_status="checkout", created_at=local(2026, 2, 1))
    freeze_clock(local(2026, 3, 3, 0, 30))
    run_automation("surveys")
    assert [r.order_id for r in outbox("SATISFACTION_SURVEY")] == [order.id]
