"""Birthday (§4.5), reactivation (§4.6) and VIP newsletter (§4.7) selections with frozen local time: who, who not
and why, channel choice, idempotency per year / quarter / month and their local boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from app.automations.jobs import run_automation
from app.clients.models import Suppression
from app.core.clock import UTC
from tests.automations.conftest import local


@pytest.fixture
def fan(make_client):
    """A client who accepts every marketing message."""

    def factory(**kw):
        return make_client(marketing_consent=True, **kw)

    return factory


def test_birthday_today_sms_else_email_once_per_year(db_session, freeze_clock, fan, make_client, consent, outbox):
    freeze_clock(local(2026, 3, 2, 10, 0))
    by_sms = fan(birth_date=date(1990, 3, 2))
    by_email = fan(birth_date=date(1985, 3, 2))
    consent(by_email, accepts_sms=False)
    fan(birth_date=date(1990, 3, 3))  # tomorrow
    make_client(birth_date=date(1990, 3, 2))  # no birthday consent
    fan(birth_date=None)
    landline = fan(birth_date=date(1970, 3, 2), phone="+56221234567", email=None)  # no SMS-able phone, no e-mail
    result = run_automation("birthdays")
    rows = outbox("BIRTHDAY")
    assert {(r.client_id, r.communication_type) for r in rows} == {(by_sms.id, "SMS"), (by_email.id, "EMAIL")}
    assert landline.id not in {r.client_id for r in rows}
    assert result.queued == 2
    assert {r.idempotency_key for r in rows} == {
        f"client:{by_sms.id}:BIRTHDAY:2026",
        f"client:{by_email.id}:BIRTHDAY:2026",
    }
    assert rows[0].expires_at == local(2026, 3, 4).astimezone(UTC)  # end of the next day
    assert run_automation("birthdays").queued == 0
    freeze_clock(local(2027, 3, 2, 10, 0))
    assert run_automation("birthdays").queued == 2  # a new year, a new key


@pytest.mark.parametrize(
    ("today", "celebrated"),
    [
        (local(2026, 2, 28, 10), True),  # non-leap year: 29 Feb birthdays on 28 Feb
        (local(2026, 3, 1, 10), False),
        (local(2028, 2, 28, 10), False),  # leap year: on the 29th
        (local(2028, 2, 29, 10), True),
    ],
)
def test_birthday_29_february_rule(db_session, freeze_clock, fan, outbox, today, celebrated):
    leapling = fan(birth_date=date(2000, 2, 29))
    freeze_clock(today)
    run_automation("birthdays")
    assert (leapling.id in {r.client_id for r in outbox("BIRTHDAY")}) is celebrated


def test_birthday_day_is_local_at_midnight(db_session, freeze_clock, fan, outbox):
    """23:45 local on 01/03 is already 02/03 in UTC: the local day decides."""
    client = fan(birth_date=date(1990, 3, 1))
    freeze_clock(local(2026, 3, 1, 23, 45))  # 02:45 UTC on 02/03
    run_automation("birthdays")
    assert [r.client_id for r in outbox("BIRTHDAY")] == [client.id]


def visit(make_order, client, day):
    return make_order(
        client=client,
        lines=[(day, "14:00")],
        line_status="checkout",
        paid=25000,
        created_at=local(day.year, day.month, day.day),
    )


def test_reactivation_after_90_days_once_per_quarter(
    db_session, freeze_clock, fan, make_client, make_order, consent, outbox
):
    freeze_clock(local(2026, 3, 2, 9, 0))
    lapsed = fan()
    visit(make_order, lapsed, date(2025, 12, 2))  # exactly 90 days
    long_ago = fan()
    visit(make_order, long_ago, date(2025, 6, 1))
    recent = fan()
    visit(make_order, recent, date(2025, 12, 3))  # 89 days
    coming_back = fan()
    visit(make_order, coming_back, date(2025, 10, 1))
    make_order(client=coming_back, lines=[(date(2026, 3, 20), "14:00")])  # already booked again
    no_consent = make_client()
    visit(make_order, no_consent, date(2025, 10, 1))
    sms_only = fan(email=None)
    visit(make_order, sms_only, date(2025, 9, 1))
    suppressed_everywhere = fan()
    visit(make_order, suppressed_everywhere, date(2025, 9, 1))
    consent(suppressed_everywhere, accepts_sms=False)
    db_session.add(Suppression(channel="email", destination=suppressed_everywhere.email, reason="bounce"))
    fan()  # never visited
    db_session.flush()
    result = run_automation("reactivation")
    rows = outbox("REACTIVATION")
    assert {(r.client_id, r.communication_type) for r in rows} == {
        (lapsed.id, "EMAIL"),
        (long_ago.id, "EMAIL"),
        (sms_only.id, "SMS"),
    }
    assert result.queued == 3
    assert {r.idempotency_key for r in rows} >= {f"client:{lapsed.id}:REACTIVATION:2026-1"}
    assert rows[0].gift_card_id is None  # the card is issued only when the message is really sent
    freeze_clock(local(2026, 3, 31, 9, 0))
    assert run_automation("reactivation").queued == 1  # only `recent` became due; the others wait for Q2
    freeze_clock(local(2026, 4, 1, 9, 0))  # a new quarter (local date)
    assert run_automation("reactivation").queued == 4


def test_reactivation_most_recent_first_and_capped(db_session, freeze_clock, fan, make_order, outbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "REACTIVATION_MAX_PER_RUN", 2)
    freeze_clock(local(2026, 6, 1, 9, 0))
    clients = [fan() for _ in range(4)]
    for i, client in enumerate(clients):
        visit(make_order, client, date(2025, 11, 1 + i))
    run_automation("reactivation")
    assert {r.client_id for r in outbox("REACTIVATION")} == {clients[3].id, clients[2].id}
    run_automation("reactivation")  # the next run takes the next two, never the same again
    assert {r.client_id for r in outbox("REACTIVATION")} == {c.id for c in clients}


def test_reactivation_quarter_boundary_is_local(db_session, freeze_clock, fan, make_order, outbox):
    client = fan()
    visit(make_order, client, date(2025, 6, 1))
    freeze_clock(local(2026, 3, 31, 23, 30))  # 02:30 UTC on 01/04, still Q1 in Chile
    run_automation("reactivation")
    assert [r.idempotency_key for r in outbox("REACTIVATION")] == [f"client:{client.id}:REACTIVATION:2026-1"]


def vip_client(make_order, client, visits=6, amount=25000):
    for i in range(visits):
        make_order(
            client=client,
            lines=[(date(2025, 1 + i, 10), "14:00")],
            line_status="checkout",
            paid=amount,
            created_at=local(2025, 1 + i, 1),
        )


def test_vip_newsletter_vip_and_high_spend_once_per_month(
    db_session, freeze_clock, make_client, make_order, consent, outbox
):
    freeze_clock(local(2026, 3, 1, 9, 0))
    vip = make_client(marketing_consent=True)
    vip_client(make_order, vip)  # 6 visits, $150.000
    frequent_low = make_client(marketing_consent=True)
    vip_client(make_order, frequent_low, amount=20000)  # vip visits, medium spend
    big_spender = make_client(marketing_consent=True)
    vip_client(make_order, big_spender, visits=2, amount=100000)  # regular visits
    no_newsletters = make_client(marketing_consent=True)
    vip_client(make_order, no_newsletters)
    consent(no_newsletters, accepts_newsletters=False)
    no_email = make_client(marketing_consent=True, email=None)
    vip_client(make_order, no_email)
    result = run_automation("vip")
    rows = outbox("NEWSLETTER")
    assert [(r.client_id, r.communication_type) for r in rows] == [(vip.id, "EMAIL")]
    assert result.queued == 1
    assert rows[0].idempotency_key == f"client:{vip.id}:NEWSLETTER:2026-03"
    assert rows[0].expires_at == local(2026, 4, 1).astimezone(UTC)
    assert run_automation("vip").queued == 0
    freeze_clock(local(2026, 3, 31, 23, 30))  # 02:30 UTC on 01/04: still March locally
    assert run_automation("vip").queued == 0
    freeze_clock(local(2026, 4, 1, 9, 0))
    assert run_automation("vip").queued == 1


def test_vip_newsletter_december_rolls_the_year(db_session, freeze_clock, make_client, make_order, outbox):
    freeze_clock(local(2026, 12, 1, 9, 0))
    vip = make_client(marketing_consent=True)
    vip_client(make_order, vip)
    run_automation("vip")
    assert outbox("NEWSLETTER")[0].expires_at == local(2027, 1, 1).astimezone(UTC)
