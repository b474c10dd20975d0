"""Automatic messages through the real dispatcher with recording adapters (the outside world): pre-send hooks (the
reactivation gift card, the birthday code) run only when a row is really sent and are reused on a retry; subjects
and contents of §4."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.automations.jobs import run_automation
from app.comms.dispatch_services import dispatch_outbox
from app.comms.models import CommunicationLog
from app.comms.providers import ProviderError
from app.sales.models import DiscountCode, GiftCard
from tests.automations.conftest import local
from tests.comms.conftest import RecordingEmail, RecordingSms


@pytest.fixture
def sms():
    return RecordingSms()


@pytest.fixture
def email():
    return RecordingEmail()


def lapsed_client(make_client, make_order, **kw):
    client = make_client(marketing_consent=True, name="Camila Rojas", **kw)
    make_order(
        client=client,
        lines=[(date(2025, 12, 2), "14:00")],
        line_status="checkout",
        paid=25000,
        created_at=local(2025, 12, 1),
    )
    return client


def cards(db_session):
    return db_session.scalars(sa.select(GiftCard).order_by(GiftCard.id)).all()


def test_reactivation_issues_a_real_gift_card_when_sent(db_session, freeze_clock, make_client, make_order, sms, email):
    freeze_clock(local(2026, 3, 2, 9, 0))
    client = lapsed_client(make_client, make_order)
    run_automation("reactivation")
    assert cards(db_session) == []  # queued, not yet sent: no card
    result = dispatch_outbox(sms=sms, email=email)
    assert result.sent == 1
    row = db_session.scalar(sa.select(CommunicationLog).where(CommunicationLog.message_type == "REACTIVATION"))
    [card] = cards(db_session)
    assert row.status == "SENT" and row.gift_card_id == card.id
    assert (card.origin, card.initial_amount, card.expires_on, card.recipient_client_id, card.source_key) == (
        "reactivacion",
        10000,
        date(2026, 4, 1),
        client.id,
        f"REACTIVATION:{client.id}:2026-1",
    )
    [mail] = email.sent
    assert mail["subject"] == "Regalo para tu próxima visita - Gift Card $10.000"
    assert "Gracias por tu última visita el 02/12/2025" in mail["text"] and card.code in mail["html"]
    assert "Válida hasta: 01/04/2026" in mail["text"] and "recepción" in mail["text"]
    assert "Dejar de recibir este tipo de mensajes" in mail["text"] and "List-Unsubscribe" in mail["headers"]
    assert mail["from_addr"] == "comunicaciones@aremko.cl"


def test_reactivation_by_sms_and_reused_card_on_retry(db_session, freeze_clock, make_client, make_order, email):
    freeze_clock(local(2026, 3, 2, 9, 0))
    lapsed_client(make_client, make_order, email=None)
    run_automation("reactivation")
    failing = RecordingSms(error=ProviderError("timeout"))
    dispatch_outbox(sms=failing, email=email)
    row = db_session.scalar(sa.select(CommunicationLog).where(CommunicationLog.message_type == "REACTIVATION"))
    assert row.status == "PENDING" and row.attempts == 1 and len(cards(db_session)) == 1
    freeze_clock(local(2026, 3, 2, 9, 5))
    ok = RecordingSms()
    dispatch_outbox(sms=ok, email=email)
    [card] = cards(db_session)  # the same card, found by its source_key
    assert row.status == "SENT" and row.gift_card_id == card.id
    [sent] = ok.sent
    assert (
        f"Camila, te echamos de menos. Te regalamos una Gift Card de $10.000: usa el codigo {card.code} antes "
        "del 01/04/2026."
    ) in sent["text"]
    assert sent["text"].endswith(" o responde STOP") and sent["commercial"] is True


def test_blocked_reactivation_never_creates_a_card(db_session, freeze_clock, make_client, make_order, sms, email):
    freeze_clock(local(2026, 3, 2, 9, 0))
    client = lapsed_client(make_client, make_order)
    run_automation("reactivation")
    client.preferences.accepts_reactivation = False
    db_session.flush()
    result = dispatch_outbox(sms=sms, email=email)
    assert result.blocked == 1 and cards(db_session) == []


def test_reactivation_waits_for_quiet_hours_without_a_card(
    db_session, freeze_clock, make_client, make_order, sms, email
):
    freeze_clock(local(2026, 3, 2, 8, 0))  # a manual run before the window opens
    lapsed_client(make_client, make_order)
    run_automation("reactivation")
    assert dispatch_outbox(sms=sms, email=email).deferred == 1 and cards(db_session) == []


def test_birthday_code_created_when_sent(db_session, freeze_clock, make_client, sms, email):
    freeze_clock(local(2026, 3, 2, 10, 0))
    client = make_client(marketing_consent=True, name="Camila Rojas", birth_date=date(1990, 3, 2))
    run_automation("birthdays")
    assert db_session.scalars(sa.select(DiscountCode)).all() == []
    dispatch_outbox(sms=sms, email=email)
    [code] = db_session.scalars(sa.select(DiscountCode)).all()
    assert code.code.startswith("CUMPLE") and len(code.code) == 12 and code.code[6:].isalnum()
    assert (code.kind, code.value, code.max_uses, code.client_id, code.valid_until) == (
        "porcentaje",
        20,
        1,
        client.id,
        date(2026, 4, 1),
    )
    [sent] = sms.sent
    assert sent["text"].startswith(
        f"¡Feliz cumpleaños, Camila! Te regalamos 20 % en tu proxima visita con el codigo "
        f"{code.code}, valido hasta el 01/04/2026. - Aremko"
    )


def test_birthday_without_discount_is_a_plain_greeting(
    db_session, freeze_clock, make_client, sms, email, app, monkeypatch
):
    monkeypatch.setitem(app.config, "BIRTHDAY_DISCOUNT_PERCENT", 0)
    freeze_clock(local(2026, 3, 2, 10, 0))
    client = make_client(marketing_consent=True, name="Camila Rojas", birth_date=date(1990, 3, 2))
    client.preferences.accepts_sms = False
    db_session.flush()
    run_automation("birthdays")
    dispatch_outbox(sms=sms, email=email)
    assert db_session.scalars(sa.select(DiscountCode)).all() == []
    [mail] = email.sent
    assert mail["subject"] == "¡Feliz cumpleaños, Camila!" and "código" not in mail["text"]


def test_vip_newsletter_subject_and_body(
    db_session, freeze_clock, make_client, make_order, sms, email, app, monkeypatch
):
    freeze_clock(local(2026, 3, 1, 9, 0))
    client = make_client(marketing_consent=True)
    for i in range(6):
        make_order(
            client=client,
            lines=[(date(2025, 1 + i, 10), "14:00")],
            line_status="checkout",
            paid=25000,
            created_at=local(2025, 1 + i, 1),
        )
    run_automation("vip")
    dispatch_outbox(sms=sms, email=email)
    [mail] = email.sent
    assert mail["subject"] == "Newsletter Exclusivo VIP - Marzo 2026"
    assert "15 % de descuento en nuestros paquetes" in mail["text"] and "Reservar ahora" in mail["html"]
    monkeypatch.setitem(app.config, "NEWSLETTER_VIP_BODY", "Este mes: noche de tinas con música en vivo.")
    freeze_clock(local(2026, 4, 1, 9, 0))
    run_automation("vip")
    dispatch_outbox(sms=sms, email=email)
    assert email.sent[1]["subject"] == "Newsletter Exclusivo VIP - Abril 2026"
    assert "noche de tinas con música en vivo" in email.sent[1]["text"]


def test_reminder_texts_and_stale_when_moved(db_session, freeze_clock, make_client, make_order, sms, email):
    freeze_clock(local(2026, 3, 2, 10, 0))
    client = make_client(name="Camila Rojas")
    today = make_order(client=client, lines=[(date(2026, 3, 2), "17:00")], created_at=local(2026, 2, 1), paid=10000)
    tomorrow = make_order(client=client, lines=[(date(2026, 3, 3), "09:00")], created_at=local(2026, 2, 1))
    moved = make_order(client=client, lines=[(date(2026, 3, 3), "08:00")], created_at=local(2026, 2, 1))
    run_automation("reminders")
    line = moved.service_lines[0]
    line.service_date = date(2026, 3, 10)
    db_session.flush()
    result = dispatch_outbox(sms=sms, email=email)
    assert result.sent == 4 and result.blocked == 2 and result.reasons["stale"] == 2
    subjects = sorted(m["subject"] for m in email.sent)
    assert subjects == [
        "Recordatorio: tu reserva es hoy - " + today.service_lines[0].service.name,
        "Recordatorio: tu reserva es mañana - " + tomorrow.service_lines[0].service.name,
    ]
    mail = next(m for m in email.sent if "hoy" in m["subject"])
    assert "Saldo pendiente: $15.000" in mail["text"] and "traje de baño y toalla" in mail["text"]
    assert "antideslizante" in mail["text"] and "02/03/2026" in mail["text"]
    texts = sorted(s["text"] for s in sms.sent)
    assert texts[0].startswith("Camila, te esperamos el 02/03/2026 a las 17:00 para ")


def test_survey_email_links(db_session, freeze_clock, make_client, make_order, sms, email, app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_PUBLIC_BASE_URL", "https://encuesta.example.com/aremko")
    monkeypatch.setitem(app.config, "TRIPADVISOR_URL", "https://www.tripadvisor.cl/aremko")
    freeze_clock(local(2026, 3, 3, 11, 0))
    client = make_client(name="Camila Rojas")
    order = make_order(
        client=client, lines=[(date(2026, 3, 2), "14:00")], line_status="checkout", created_at=local(2026, 2, 1)
    )
    run_automation("surveys")
    dispatch_outbox(sms=sms, email=email)
    [mail] = email.sent
    assert mail["subject"] == "¿Cómo estuvo tu experiencia en Aremko?"
    assert f"https://encuesta.example.com/aremko?cliente={client.id}&amp;reserva={order.id}" in mail["html"]
    assert "Responder encuesta" in mail["html"] and "https://www.tripadvisor.cl/aremko" in mail["text"]
    assert "el 02/03/2026" in mail["text"] and mail["from_addr"] == "ventas@aremko.cl"


def test_confirmation_dispatched_after_the_debounce(db_session, freeze_clock, make_client, make_order, sms, email):
    from app.automations.services import queue_booking_confirmation

    freeze_clock(local(2026, 3, 2, 10, 0))
    order = make_order(lines=[(date(2026, 3, 3), "14:00")])
    queue_booking_confirmation(order)
    assert dispatch_outbox(sms=sms, email=email).taken == 0  # not before now + 60 s
    freeze_clock(local(2026, 3, 2, 10, 0) + timedelta(seconds=61))
    assert dispatch_outbox(sms=sms, email=email).sent == 2
    assert email.sent[0]["subject"].startswith("Reserva por confirmar - ")
