"""Unsubscribe links (tampering, GET confirm, POST and RFC 8058 one-click), preferences page, STOP/START replies
(webhook and polling), consent events recorded with source/message/user."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.clients.models import ClientEvent, ConsentEvent, Suppression
from app.comms.jobs import poll_sms_replies, poll_sms_status
from app.comms.models import CommunicationLog, InboundSms
from app.comms.outbox_services import enqueue
from app.comms.render import log_id_from_token, unsubscribe_token
from app.core.clock import LOCAL_TZ

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def sent_row(db_session, make_client, freeze_clock):
    freeze_clock(NOON)

    def factory(message_type="PROMOTIONAL", channel="EMAIL", client=None, **kw):
        c = client or make_client(marketing_consent=True)
        key = f"test:{message_type}:{c.id}:{channel}"
        enqueue(
            message_type=message_type, channel=channel, idempotency_key=key, client_id=c.id, triggered_by="test", **kw
        )
        row = db_session.scalar(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key))
        row.status, row.destination = "SENT", c.email if channel == "EMAIL" else c.phone
        db_session.flush()
        return row

    return factory


def events(db_session, client_id):
    """Consent events after the client's creation (make_client records its marketing consent as `staff`)."""
    return db_session.scalars(
        sa.select(ConsentEvent)
        .where(ConsentEvent.client_id == client_id, ConsentEvent.source != "staff")
        .order_by(ConsentEvent.id)
    ).all()


def test_token_round_trip_and_tampering(app, db_session):
    with app.app_context():
        token = unsubscribe_token(42)
        assert log_id_from_token(token) == 42
        head, sig = token.split(".")
        assert len(sig) == 12
        assert log_id_from_token(f"43.{sig}") is None
        assert log_id_from_token(f"{head}.{sig[:-1]}x") is None
        assert log_id_from_token("garbage") is None and log_id_from_token("") is None


def test_tampered_link_is_404(client, sent_row):
    row = sent_row()
    sig = unsubscribe_token(row.id).split(".")[1]
    for token in (f"{row.id + 1}.{sig}", f"{row.id}.AAAAAAAAAAAA", "x.y"):
        resp = client.get(f"/ventas/baja/{token}/")
        assert resp.status_code == 404 and "Enlace inválido." in resp.text
        assert client.post(f"/ventas/baja/{token}/").status_code == 404


def test_get_only_confirms_post_unsubscribes_type(client, db_session, sent_row):
    row = sent_row()
    url = f"/ventas/baja/{unsubscribe_token(row.id)}/"
    page = client.get(url)
    assert page.status_code == 200 and "Confirmar" in page.text and "promociones" in page.text
    assert events(db_session, row.client_id) == []  # a link scanner changes nothing
    done = client.post(url)
    assert done.status_code == 200 and "Listo. Ya no recibirás promociones." in done.text
    [ev] = events(db_session, row.client_id)
    assert (ev.field, ev.old_value, ev.new_value, ev.source, ev.message_id) == (
        "accepts_promotional",
        True,
        False,
        "unsubscribe_link",
        row.id,
    )
    assert ev.ip == "127.0.0.1"
    assert db_session.scalar(
        sa.select(ClientEvent.id).where(
            ClientEvent.client_id == row.client_id, ClientEvent.event_type == "consent_changed"
        )
    )


def test_one_click_post_without_csrf_everything(app, db_session, sent_row):
    from app import create_app
    from tests.conftest import make_test_config

    strict = create_app(make_test_config(WTF_CSRF_ENABLED=True))
    row = sent_row()
    resp = strict.test_client().post(
        f"/ventas/baja/{unsubscribe_token(row.id)}/?todo=1", data={"List-Unsubscribe": "One-Click"}
    )
    assert resp.status_code == 200 and "Ya no recibirás mensajes de Aremko" in resp.text
    db_session.refresh(row.client.preferences)
    prefs = row.client.preferences
    assert not prefs.accepts_sms and not prefs.accepts_email and not prefs.accepts_promotional
    assert prefs.opt_out_date is not None
    assert {e.source for e in events(db_session, row.client_id)} == {"unsubscribe_link"}
    assert all(e.message_id == row.id for e in events(db_session, row.client_id))


def test_type_without_switch_suppresses_destination(client, db_session, sent_row):
    row = sent_row(message_type="OTHER")
    resp = client.post(f"/ventas/baja/{unsubscribe_token(row.id)}/")
    assert resp.status_code == 200
    sup = db_session.scalar(sa.select(Suppression).where(Suppression.destination == row.destination))
    assert (sup.channel, sup.reason, sup.client_id) == ("email", "manual", row.client_id)


def test_preferences_page(client, db_session, sent_row):
    row = sent_row()
    url = f"/ventas/preferencias/{unsubscribe_token(row.id)}/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="accepts_newsletters"' in page.text and "No recibir nada" in page.text
    resp = client.post(
        url,
        data={
            "accepts_sms": "on",
            "accepts_email": "on",
            "accepts_newsletters": "on",
            "accepts_booking_confirmations": "on",
        },
    )
    assert resp.status_code == 200 and "Tus preferencias quedaron guardadas." in resp.text
    changed = {e.field: e.new_value for e in events(db_session, row.client_id)}
    assert changed == {
        "accepts_booking_reminders": False,
        "accepts_surveys": False,
        "accepts_birthday_messages": False,
        "accepts_promotional": False,
        "accepts_reactivation": False,
    }
    assert {e.source for e in events(db_session, row.client_id)} == {"preferences_page"}
    client.post(url, data={"nada": "1", "accepts_sms": "on"})
    db_session.refresh(row.client.preferences)
    assert not row.client.preferences.accepts_sms and row.client.preferences.opt_out_date is not None


def inbound(client, app, **data):
    app.config["SMS_INBOUND_TOKEN"] = "secreto"
    try:
        return client.post("/ventas/api/sms/inbound/?token=secreto", json=data)
    finally:
        app.config["SMS_INBOUND_TOKEN"] = ""


def test_inbound_auth_and_validation(client, app):
    assert client.post("/ventas/api/sms/inbound/", json={"from": "+56987654321", "message": "STOP"}).status_code == 401
    app.config["SMS_INBOUND_TOKEN"] = "secreto"
    try:
        bad = client.post("/ventas/api/sms/inbound/", headers={"X-SMS-Token": "otro"}, json={})
        assert bad.status_code == 401 and bad.json["error"]
        missing = client.post("/ventas/api/sms/inbound/", headers={"X-SMS-Token": "secreto"}, json={"from": "1"})
        assert missing.status_code == 400 and "Faltan campos" in missing.json["error"]
        form = client.post("/ventas/api/sms/inbound/?token=secreto", data={"telefono": "987654321", "mensaje": "hola"})
        assert form.status_code == 200 and form.json == {"ok": True}
    finally:
        app.config["SMS_INBOUND_TOKEN"] = ""


def test_stop_then_start(client, app, db_session, make_client, freeze_clock):
    freeze_clock(NOON)
    c = make_client()
    assert inbound(
        client, app, **{"from": "9 " + c.phone[4:8] + " " + c.phone[8:], "message": "Stop, gracias"}
    ).json == {"ok": True}
    db_session.refresh(c.preferences)
    assert c.preferences.accepts_sms is False
    sup = db_session.scalar(sa.select(Suppression).where(Suppression.destination == c.phone))
    assert (sup.channel, sup.reason, sup.client_id) == ("sms", "stop", c.id)
    assert [(e.field, e.new_value, e.source) for e in events(db_session, c.id)] == [("accepts_sms", False, "sms_stop")]
    inbound(client, app, telefono=c.phone, text="Sí")
    db_session.refresh(c.preferences)
    assert c.preferences.accepts_sms is True
    assert db_session.scalar(sa.select(Suppression).where(Suppression.destination == c.phone)) is None
    assert events(db_session, c.id)[-1].source == "sms_start"
    rows = db_session.scalars(sa.select(InboundSms).order_by(InboundSms.id)).all()
    assert [(r.action, r.client_id) for r in rows] == [("stop", c.id), ("start", c.id)]
    assert all(r.processed_at for r in rows)


def test_other_reply_kept_for_staff_and_marks_replied(client, app, db_session, sent_row, sms):
    row = sent_row(message_type="OTHER", channel="SMS")
    row.external_id, row.sent_at = "batch-9", NOON
    db_session.flush()
    sms.reply_map["batch-9"] = [
        {"id": 1, "destination": row.destination, "message": "¿A qué hora abren?", "date": "2026-03-04T12:30:00"}
    ]
    assert poll_sms_replies(sms=sms).startswith("1 respuestas nuevas")
    assert poll_sms_replies(sms=sms).startswith("0 respuestas nuevas")  # polled again: stored once
    db_session.refresh(row)
    [reply] = db_session.scalars(sa.select(InboundSms)).all()
    assert reply.action is None and reply.communication_log_id == row.id and row.status == "REPLIED"
    assert events(db_session, row.client_id) == []


def test_poll_sms_status(db_session, sent_row, sms, registries):
    from app.comms import hooks

    failed = []
    hooks.message_failed_listeners.append(failed.append)
    ok = sent_row(message_type="OTHER", channel="SMS")
    bad = sent_row(message_type="BOOKING_REMINDER", channel="SMS", client=ok.client)
    waiting = sent_row(message_type="BOOKING_CONFIRMATION", channel="SMS", client=ok.client)
    for row, batch in ((ok, "b1"), (bad, "b2"), (waiting, "b3")):
        row.external_id, row.sent_at = batch, NOON
    db_session.flush()
    sms.statuses.update({"b1": "RECIBIDO", "b2": "FALLIDO", "b3": "PENDIENTE"})
    assert poll_sms_status(sms=sms).startswith("1 entregados, 1 fallidos")
    for row in (ok, bad, waiting):
        db_session.refresh(row)
    assert (ok.status, bad.status, waiting.status) == ("DELIVERED", "FAILED", "SENT")
    assert ok.delivered_at == NOON and failed == [bad]
