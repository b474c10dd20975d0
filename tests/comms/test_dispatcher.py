"""Dispatcher (§6): send, gatekeeper outcomes, retries with backoff, permanent failures and bounces, crash
recovery, SMS text rules and cost, e-mail Message-ID and headers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.clients.models import ConsentEvent, Suppression
from app.clients.services import set_consents
from app.comms import hooks
from app.comms.dispatch_services import dispatch_outbox, message_id_for
from app.comms.models import CommunicationLog, FakeMessage
from app.comms.outbox_services import enqueue
from app.comms.providers import FakeEmail, FakeSms, ProviderError
from app.comms.render import Rendered, register_renderer
from app.core.clock import LOCAL_TZ

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL_TZ)


def queue(client=None, channel="SMS", key="staff:1", message_type="OTHER", text="Hola {nombre}", **kw):
    enqueue(
        message_type=message_type,
        channel=channel,
        idempotency_key=key,
        client_id=client.id if client else None,
        triggered_by="staff:test",
        payload={"text": text, "subject": "Asunto"},
        **kw,
    )
    from app.extensions import db

    return db.session.scalar(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key))


@pytest.fixture
def now(freeze_clock):
    freeze_clock(NOW := NOON)
    return NOW


def test_sms_sent_with_footer_cost_and_stripped_accents(db_session, make_client, now, sms):
    c = make_client(name="Ángela Núñez")
    row = queue(c, text="Mañana te esperamos en la tina número 3, Ángela")
    result = dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert (result.sent, row.status, row.attempts, row.external_id) == (1, "SENT", 1, "batch-1")
    [msg] = sms.sent
    assert msg["phone"] == c.phone and not msg["commercial"]
    assert msg["text"].startswith("Mañana te esperamos en la tina numero 3, Angela Baja: http")
    assert "/ventas/baja/" in msg["text"] and "STOP" not in msg["text"]
    assert row.content == msg["text"] and row.segments == 1 and row.cost == 12
    assert row.sent_at == now and row.provider_response == {"batchId": "batch-1"}


def test_marketing_sms_mentions_stop_and_is_commercial(db_session, make_client, now, sms, registries):
    @register_renderer("PROMOTIONAL")
    def _promo(log):
        from app.comms.render import render_sms_template

        return Rendered(text=render_sms_template(log, {"descuento": "15 %", "servicio": "Tinas"}))

    c = make_client(marketing_consent=True)
    row = queue(c, message_type="PROMOTIONAL", key="campaign:1:client:1:SMS")
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert row.status == "SENT" and sms.sent[0]["commercial"] is True
    assert sms.sent[0]["text"].endswith(" o responde STOP")
    assert sms.sent[0]["text"].startswith(f"{c.first_name}: 15 % en Tinas")


def test_long_sms_segments_and_cost(db_session, make_client, now, sms, app):
    c = make_client()
    row = queue(c, text="x" * 200)
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert row.segments == 2 and row.cost == 2 * app.config["SMS_COST_CLP"]


def test_email_has_layout_links_message_id_and_no_list_unsubscribe_when_transactional(
    db_session, make_client, now, email
):
    c = make_client()
    row = queue(c, channel="EMAIL", key="staff:mail", text="Primera línea\n\nSegunda")
    dispatch_outbox(email=email)
    db_session.refresh(row)
    [msg] = email.sent
    assert row.status == "SENT" and row.cost == 0 and row.segments is None
    assert msg["message_id"] == message_id_for("staff:mail") == row.external_id
    assert msg["from_addr"] == "ventas@aremko.cl" and msg["reply_to"] == "ventas@aremko.cl"
    assert "Aremko Aguas Calientes &amp; Spa" in msg["html"] and "Dejar de recibir este tipo de mensajes" in msg["html"]
    assert "No recibir más mensajes de Aremko" in msg["text"] and "Segunda" in msg["text"]
    assert msg["headers"] == {} and row.content == msg["html"]


def test_marketing_email_has_list_unsubscribe_headers_and_marketing_sender(
    db_session, make_client, now, email, registries
):
    @register_renderer("NEWSLETTER")
    def _news(log):
        from app.comms.render import render_email

        return render_email(
            log, "message", subject="Newsletter", body="Novedades", attachments=[("a.txt", "text/plain", b"hola")]
        )

    c = make_client(marketing_consent=True)
    row = queue(c, channel="EMAIL", message_type="NEWSLETTER", key="client:1:NEWSLETTER:2026-03")
    dispatch_outbox(email=email)
    [msg] = email.sent
    assert msg["from_addr"] == "comunicaciones@aremko.cl"
    assert (
        msg["headers"]["List-Unsubscribe"]
        == f"<http://127.0.0.1:5000/ventas/baja/{row.id}.{msg['headers']['List-Unsubscribe'].split('.')[-1]}"
    )  # noqa: E501
    assert msg["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["attachments"] == [("a.txt", "text/plain", b"hola")]


def test_blocked_and_deferred_rows_are_written(db_session, make_client, freeze_clock, sms, registries):
    freeze_clock(datetime(2026, 3, 4, 22, 0, tzinfo=LOCAL_TZ))

    @register_renderer("BIRTHDAY")
    def _bday(log):
        return Rendered(text="Feliz cumpleaños")

    no_consent = make_client()
    set_consents(no_consent, {"accepts_sms": False}, source="staff")
    deferred = make_client(marketing_consent=True)
    a = queue(no_consent, key="k1")
    b = queue(deferred, message_type="BIRTHDAY", key="client:2:BIRTHDAY:2026")
    c = queue(deferred, key="k3")  # transactional: not deferred at night
    result = dispatch_outbox(sms=sms)
    for row in (a, b, c):
        db_session.refresh(row)
    assert (a.status, a.reason) == ("BLOCKED", "no_channel_consent")
    assert (b.status, b.reason, b.not_before) == ("PENDING", "quiet_hours", datetime(2026, 3, 5, 9, tzinfo=LOCAL_TZ))
    assert c.status == "SENT"
    assert (result.blocked, result.deferred, result.sent) == (1, 1, 1)
    assert dispatch_outbox(sms=sms).taken == 0  # the deferred row waits for 09:00


def test_marketing_caps_count_marketing_rows_only(db_session, make_client, now, sms, registries):
    @register_renderer("BIRTHDAY", "REACTIVATION")
    def _m(log):
        return Rendered(text="hola")

    c = make_client(marketing_consent=True)
    for i in range(3):
        queue(c, key=f"t{i}")  # transactional sends do not consume the quota
    queue(c, message_type="BIRTHDAY", key="m1")
    queue(c, message_type="REACTIVATION", key="m2")
    third = queue(c, message_type="PROMOTIONAL", key="m3")
    result = dispatch_outbox(sms=sms)
    db_session.refresh(third)
    assert result.sent == 5 and (third.status, third.reason) == ("PENDING", "cap_sms_daily")
    assert third.not_before == datetime(2026, 3, 5, 9, tzinfo=LOCAL_TZ)


def test_expired_row_is_blocked(db_session, make_client, now, sms):
    row = queue(make_client(), expires_at=now - timedelta(minutes=1))
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert (row.status, row.reason) == ("BLOCKED", "expired") and sms.sent == []


def test_relevance_hook_blocks(db_session, make_client, now, sms, registries):
    hooks.register_relevance("OTHER")(lambda log: "stale")
    row = queue(make_client())
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert (row.status, row.reason) == ("BLOCKED", "stale")


def test_suppressed_destination_blocks_even_without_client(db_session, now, sms):
    db_session.add(Suppression(channel="sms", destination="+56987650000", reason="stop"))
    row = queue(None, destination="+56987650000")
    ok = queue(None, destination="+56987650001", key="k2")
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    db_session.refresh(ok)
    assert (row.status, row.reason, ok.status) == ("BLOCKED", "suppressed", "SENT")


def test_landline_is_not_mobile(db_session, make_client, now, sms):
    row = queue(make_client(phone="+56221234567"))
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert (row.status, row.reason) == ("BLOCKED", "not_mobile")


def test_temporary_errors_back_off_then_fail_and_fire_hook(db_session, make_client, freeze_clock, sms, registries):
    failed = []
    hooks.message_failed_listeners.append(failed.append)
    sms.error = ProviderError("Redvoiss no responde: Timeout")
    t = NOON
    freeze_clock(t)
    row = queue(make_client())
    for attempt, minutes in enumerate((1, 5, 15, 60), start=1):
        dispatch_outbox(sms=sms)
        db_session.refresh(row)
        assert (row.status, row.attempts, row.not_before) == ("PENDING", attempt, t + timedelta(minutes=minutes))
        assert row.last_error == "Redvoiss no responde: Timeout"
        t = row.not_before
        freeze_clock(t)
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert (row.status, row.attempts, row.failed_at) == ("FAILED", 5, t)
    assert failed == [row]


def test_permanent_error_fails_at_once(db_session, make_client, now, sms):
    sms.error = ProviderError("Redvoiss HTTP 400: número inválido", permanent=True)
    row = queue(make_client())
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("FAILED", 1)


def test_hard_bounce_adds_suppression(db_session, make_client, now, email):
    email.error = ProviderError("SMTP 550: no such user", permanent=True, bounce=True)
    c = make_client()
    row = queue(c, channel="EMAIL")
    dispatch_outbox(email=email)
    db_session.refresh(row)
    sup = db_session.scalar(sa.select(Suppression).where(Suppression.destination == c.email))
    assert row.status == "FAILED" and (sup.channel, sup.reason, sup.client_id) == ("email", "bounce", c.id)


def test_crash_between_send_and_commit_does_not_lose_the_message(db_session, make_client, freeze_clock, email):
    """The process dies after the provider accepted: the row stays SENDING, comes back after 10 minutes and is
    sent again with the same Message-ID (at-least-once, recognisable duplicate)."""

    class DyingEmail:
        def send_email(self, *args, **kwargs):
            raise SystemExit("killed")

    freeze_clock(NOON)
    row = queue(make_client(), channel="EMAIL")
    with pytest.raises(SystemExit):
        dispatch_outbox(email=DyingEmail())
    db_session.rollback()
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("SENDING", 1)
    freeze_clock(NOON + timedelta(minutes=9))
    assert dispatch_outbox(email=email).taken == 0
    freeze_clock(NOON + timedelta(minutes=11))
    result = dispatch_outbox(email=email)
    db_session.refresh(row)
    assert result.recovered == 1 and row.status == "SENT" and row.attempts == 2
    assert email.sent[0]["message_id"] == message_id_for(row.idempotency_key)


def test_transactional_rows_go_first_and_batch_is_limited(db_session, make_client, now, sms, registries):
    @register_renderer("BIRTHDAY")
    def _b(log):
        return Rendered(text="hola")

    c = make_client(marketing_consent=True)
    queue(c, message_type="BIRTHDAY", key="m", not_before=now - timedelta(hours=1))
    queue(c, key="t", not_before=now)
    result = dispatch_outbox(1, sms=sms)
    assert result.taken == 1 and sms.sent[0]["text"].startswith("Hola")


def test_render_failure_is_retried(db_session, make_client, now, sms, registries):
    @register_renderer("OTHER")
    def _broken(log):
        raise KeyError("servicio")

    row = queue(make_client())
    dispatch_outbox(sms=sms)
    db_session.refresh(row)
    assert row.status == "PENDING" and row.attempts == 1 and "KeyError" in row.last_error


def test_fake_providers_store_messages(db_session, make_client, now):
    c = make_client()
    queue(c, key="a")
    queue(c, channel="EMAIL", key="b")
    dispatch_outbox(sms=FakeSms(), email=FakeEmail())
    msgs = db_session.scalars(sa.select(FakeMessage).order_by(FakeMessage.id)).all()
    assert [(m.channel, m.destination) for m in msgs] == [("SMS", c.phone), ("EMAIL", c.email)]
    assert msgs[1].html and msgs[1].headers["Message-ID"] == message_id_for("b")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)) == 0


def test_cli_dispatch(app, db_session, make_client, now):
    queue(make_client())
    out = app.test_cli_runner().invoke(args=["dispatch-outbox", "--limit", "5"])
    assert out.exit_code == 0 and "1 tomados: 1 enviados" in out.output


def test_jobs_are_in_the_one_job_list_and_run(app, db_session, make_client, now):
    from app.scheduler import job_list, run_job

    jobs = {j.id: j for j in job_list()}
    assert jobs["dispatch_outbox"].trigger_args == {"minutes": 1}
    assert jobs["poll_sms_status"].trigger_args == jobs["poll_sms_replies"].trigger_args == {"minutes": 15}
    queue(make_client())
    assert run_job(app, jobs["dispatch_outbox"]).startswith("1 tomados: 1 enviados")
    assert run_job(app, jobs["poll_sms_status"]).startswith("1 entregados")  # the fake delivers every batch
    assert run_job(app, jobs["poll_sms_replies"]).startswith("0 respuestas nuevas")
