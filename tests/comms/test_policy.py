"""Gatekeeper (§5), pure: every row, quiet hours and cap deferrals at local-time edges, marketing-only caps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.comms.policy import (
    Facts,
    Limits,
    decide,
    normalise_reply,
    reply_keyword,
    retry_delay,
    sms_info,
    strip_sms_accents,
)
from app.core.clock import LOCAL_TZ

LIMITS = Limits()
ALL_ON = {
    f: True
    for f in (
        "accepts_sms",
        "accepts_email",
        "accepts_booking_confirmations",
        "accepts_booking_reminders",
        "accepts_surveys",
        "accepts_birthday_messages",
        "accepts_promotional",
        "accepts_newsletters",
        "accepts_reactivation",
    )
}
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL_TZ)  # Wednesday


def local(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def facts(**kw):
    base = dict(
        message_type="BIRTHDAY",
        channel="SMS",
        destination="+56987654321",
        has_client=True,
        prefs=dict(ALL_ON),
        suppressed=False,
        is_mobile=True,
    )
    base.update(kw)
    return Facts(**base)


def prefs_without(field):
    p = dict(ALL_ON)
    p[field] = False
    return p


@pytest.mark.parametrize(
    ("f", "limits", "reason"),
    [
        (facts(relevance="order_cancelled"), LIMITS, "order_cancelled"),
        (facts(relevance="stale"), LIMITS, "stale"),
        (facts(relevance="campaign_cancelled"), LIMITS, "campaign_cancelled"),
        (facts(expires_at=NOON), LIMITS, "expired"),
        (facts(), Limits(sms_enabled=False), "channel_disabled"),
        (facts(channel="EMAIL", destination="a@example.com"), Limits(email_enabled=False), "channel_disabled"),
        (facts(destination=None), LIMITS, "no_destination"),
        (facts(is_mobile=False), LIMITS, "not_mobile"),
        (facts(prefs=prefs_without("accepts_sms")), LIMITS, "no_channel_consent"),
        (
            facts(channel="EMAIL", destination="a@example.com", prefs=prefs_without("accepts_email")),
            LIMITS,
            "no_channel_consent",
        ),
        (facts(prefs=prefs_without("accepts_birthday_messages")), LIMITS, "no_type_consent"),
        (
            facts(message_type="BOOKING_REMINDER", prefs=prefs_without("accepts_booking_reminders")),
            LIMITS,
            "no_type_consent",
        ),
        (facts(suppressed=True), LIMITS, "suppressed"),
        (facts(message_type="GIFT_CARD", has_client=False, prefs=None, suppressed=True), LIMITS, "suppressed"),
        (facts(message_type="BOOKING_CONFIRMATION", suppressed=True), LIMITS, "suppressed"),
    ],
)
def test_blocking_rows(f, limits, reason):
    d = decide(f, NOON, limits)
    assert (d.action, d.reason) == ("block", reason)


def test_first_hit_decides():
    f = facts(destination=None, prefs=prefs_without("accepts_sms"), suppressed=True)
    assert decide(f, NOON, LIMITS).reason == "no_destination"


def test_transactional_without_client_and_without_switch_is_sent():
    f = facts(message_type="GIFT_CARD", channel="EMAIL", destination="x@example.com", has_client=False, prefs=None)
    assert decide(f, local(2026, 3, 4, 23), LIMITS).action == "send"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 3, 4, 8, 59), local(2026, 3, 4, 9)),
        (local(2026, 3, 4, 9, 0), None),
        (local(2026, 3, 4, 19, 59), None),
        (local(2026, 3, 4, 20, 0), local(2026, 3, 5, 9)),
        (local(2026, 3, 4, 23, 30), local(2026, 3, 5, 9)),
    ],
)
def test_quiet_hours_edges(now, expected):
    d = decide(facts(), now, LIMITS)
    if expected is None:
        assert d.action == "send"
    else:
        assert (d.action, d.reason, d.not_before) == ("defer", "quiet_hours", expected)


def test_quiet_hours_use_client_window_and_skip_transactional():
    prefs = dict(ALL_ON, preferred_contact_hour_start="11:00", preferred_contact_hour_end="13:00")
    d = decide(facts(prefs=prefs), local(2026, 3, 4, 10), LIMITS)
    assert (d.reason, d.not_before) == ("quiet_hours", local(2026, 3, 4, 11))
    assert decide(facts(message_type="BOOKING_REMINDER"), local(2026, 3, 4, 3), LIMITS).action == "send"


def test_quiet_hours_across_dst_end():
    # Chile leaves DST on the first Sunday of April 2026 (05/04): the next window start is still 09:00 local
    d = decide(facts(), local(2026, 4, 4, 22), LIMITS)
    assert d.not_before == local(2026, 4, 5, 9) and d.not_before.utcoffset() == timedelta(hours=-4)


def test_sms_daily_cap_defers_to_next_day_window():
    sent = (local(2026, 3, 4, 9, 30), local(2026, 3, 4, 10))
    d = decide(facts(sent_marketing=sent), NOON, LIMITS)
    assert (d.action, d.reason, d.not_before) == ("defer", "cap_sms_daily", local(2026, 3, 5, 9))
    # yesterday's sends in local time do not count (23:30 local is already the next UTC day)
    assert decide(facts(sent_marketing=(local(2026, 3, 3, 23, 30),) * 2), NOON, LIMITS).action == "send"


def test_sms_monthly_cap_defers_to_first_of_next_month():
    sent = tuple(local(2026, 3, d, 10) for d in range(1, 9))
    d = decide(facts(sent_marketing=sent), NOON, LIMITS)
    assert (d.reason, d.not_before) == ("cap_sms_monthly", local(2026, 4, 1, 9))


def test_email_weekly_cap_defers_to_monday_and_monthly_to_first():
    f = facts(
        channel="EMAIL", destination="a@example.com", message_type="NEWSLETTER", sent_marketing=(local(2026, 3, 2, 10),)
    )  # Monday of the same week
    d = decide(f, NOON, LIMITS)
    assert (d.reason, d.not_before) == ("cap_email_weekly", local(2026, 3, 9, 9))
    last_week = facts(channel="EMAIL", destination="a@example.com", sent_marketing=(local(2026, 3, 1, 10),))
    assert decide(last_week, NOON, LIMITS).action == "send"  # Sunday belongs to the previous week
    monthly = facts(
        channel="EMAIL", destination="a@example.com", sent_marketing=tuple(local(2026, 3, d, 10) for d in (1, 1, 1, 1))
    )
    d = decide(monthly, NOON, Limits(email_weekly=9))
    assert (d.reason, d.not_before) == ("cap_email_monthly", local(2026, 4, 1, 9))


def test_caps_are_for_marketing_only_and_configurable():
    sent = (local(2026, 3, 4, 9, 30), local(2026, 3, 4, 10))
    assert decide(facts(message_type="BOOKING_CONFIRMATION", sent_marketing=sent), NOON, LIMITS).action == "send"
    assert decide(facts(sent_marketing=sent), NOON, Limits(sms_daily=3)).action == "send"


def test_deferral_past_expiry_blocks_expired_and_keeps_reason():
    d = decide(facts(expires_at=local(2026, 3, 5, 8)), local(2026, 3, 4, 21), LIMITS)
    assert (d.action, d.reason, d.last_error) == ("block", "expired", "fuera de horario")


def test_force_skips_quiet_hours_and_caps_never_consent():
    assert decide(facts(force=True), local(2026, 3, 4, 23), LIMITS).action == "send"
    assert decide(facts(force=True, prefs=prefs_without("accepts_sms")), NOON, LIMITS).reason == "no_channel_consent"


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 1), (2, 5), (3, 15), (4, 60), (5, None)])
def test_backoff(attempts, minutes):
    delay = retry_delay(attempts)
    assert (delay.total_seconds() / 60 if delay else None) == minutes


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "offending"),
    [
        ("a" * 160, "GSM-7", 1, ()),
        ("a" * 161, "GSM-7", 2, ()),
        ("a" * 306, "GSM-7", 2, ()),
        ("a" * 307, "GSM-7", 3, ()),
        ("€" * 80, "GSM-7", 1, ()),
        ("ñandú " + "a" * 60, "UCS-2", 1, ("ú",)),
        ("á" * 71, "UCS-2", 2, ("á",)),
        ("¿Qué tal? ¡Hola!", "GSM-7", 1, ()),
    ],
)
def test_sms_segments(text, encoding, segments, offending):
    info = sms_info(text)
    assert (info.encoding, info.segments, info.offending) == (encoding, segments, offending)


def test_strip_accents_keeps_gsm_letters():
    assert strip_sms_accents("Mañana Camión Último Índice é ü ¿¡") == "Mañana Camion Ultimo Indice é ü ¿¡"


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        (" stop por favor", "stop"),
        ("Baja.", "stop"),
        ("salir", "stop"),
        ("No", "stop"),
        ("cancelar!!", "stop"),
        ("START", "start"),
        ("Alta", "start"),
        ("Sí", "start"),
        ("si, quiero", "start"),
        ("Hola, a qué hora abren?", None),
        ("", None),
        ("NOSOTROS", None),
    ],
)
def test_reply_keywords(text, keyword):
    assert reply_keyword(text) == keyword


def test_normalise_reply():
    assert normalise_reply("  ¡Sí, gracias!  ") == "SI GRACIAS"
