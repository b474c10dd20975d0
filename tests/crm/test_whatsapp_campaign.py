"""A campaign sent on WhatsApp (crm.md `whatsapp_template`, integrations.md §6): the channel is offered only when
MANYCHAT_API_TOKEN is set (else shown disabled with a Spanish explanation and refused), the audience preview and the
queue use WhatsApp's own consent (`accepts_whatsapp`) and the promotional consent, and the dispatcher's gatekeeper
applies quiet hours and the caps before ManyChat (a local stub) gets the phone's subscriber and the text."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from app.clients.models import Suppression
from app.clients.services import set_consents
from app.comms.dispatch_services import dispatch_outbox
from app.comms.models import CommunicationLog
from app.comms.providers import WHATSAPP_OFF_MESSAGE
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.crm import audience_queries
from app.crm import sending_services as sending
from app.crm.models import Campaign
from app.extensions import db
from tests.ai.stub_server import StubServer

NOON = datetime(2026, 3, 4, 15, 0, tzinfo=LOCAL_TZ)  # a Wednesday, inside the 09:00–20:00 window


@pytest.fixture
def manychat(app, monkeypatch, freeze_clock):
    freeze_clock(NOON)
    with StubServer() as stub:
        monkeypatch.setitem(app.config, "MANYCHAT_API_TOKEN", "mc-token")
        monkeypatch.setitem(app.config, "MANYCHAT_API_URL", stub.url)
        yield stub


@pytest.fixture
def no_manychat(app, monkeypatch):
    monkeypatch.setitem(app.config, "MANYCHAT_API_TOKEN", "")


@pytest.fixture
def wa_audience(db_session, make_client):
    ok = make_client(name="Ana Wsp", marketing_consent=True)
    no_whatsapp = make_client(name="Bea SinWsp", marketing_consent=True)
    set_consents(no_whatsapp, {"accepts_whatsapp": False}, source="staff")
    no_promo = make_client(name="Carla SinPromo", marketing_consent=False)
    stopped = make_client(name="Dora Stop", marketing_consent=True)
    db_session.add(Suppression(channel="sms", destination=stopped.phone, reason="stop"))  # a STOP covers WhatsApp
    capped = make_client(name="Eva Tope", marketing_consent=True)
    db_session.flush()
    return {"ok": ok, "no_whatsapp": no_whatsapp, "no_promo": no_promo, "stopped": stopped, "capped": capped}


def _campaign(clients, **overrides) -> Campaign:
    from app.crm.services import add_targets, client_ids_select, save_campaign

    data = {
        "name": overrides.pop("name", "Campaña WhatsApp"),
        "audience_source": "lista",
        "channels": ["whatsapp"],
        "whatsapp_template": "Hola {nombre_cliente}, esta semana tinas al 20%: {link}",
        **overrides,
    }
    campaign = save_campaign(None, data=data)
    add_targets(campaign, client_ids_select([c.id for c in clients]), source="manual")
    return campaign


def _rows(campaign) -> dict[int, CommunicationLog]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(CommunicationLog).where(CommunicationLog.campaign_id == campaign.id)).all()
    return {r.client_id: r for r in rows}


def _sent_promo(client, when):
    db.session.add(
        CommunicationLog(
            client_id=client.id,
            communication_type="WHATSAPP",
            message_type="PROMOTIONAL",
            status="SENT",
            destination=client.phone,
            idempotency_key=f"test:wa-sent:{client.id}:{when.isoformat()}",
            sent_at=when,
            not_before=when,
            triggered_by="test",
        )
    )


# --- off unless ManyChat is configured ------------------------------------------------------------------------


def test_whatsapp_channel_disabled_with_a_spanish_explanation_without_token(login, no_manychat, db_session):
    c = login("marketing")
    page = c.get("/ventas/campanas/nueva/").get_data(as_text=True)
    assert 'value="whatsapp"' in page
    box = page[page.index('value="whatsapp"') - 120 : page.index('value="whatsapp"') + 120]
    assert "disabled" in box
    assert "WhatsApp no está disponible: falta configurar ManyChat (MANYCHAT_API_TOKEN)." in page
    # a forged submission is refused with the same message, nothing saved
    resp = c.post(
        "/ventas/campanas/nueva/",
        data={"name": "Forzada", "audience_source": "reglas", "channels": ["whatsapp"], "whatsapp_template": "Hola"},
    )
    assert resp.status_code == 422 and WHATSAPP_OFF_MESSAGE in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(Campaign).where(Campaign.name == "Forzada")) is None


def test_whatsapp_channel_enabled_with_token(login, manychat, db_session):
    c = login("marketing")
    page = c.get("/ventas/campanas/nueva/").get_data(as_text=True)
    box = page[page.index('value="whatsapp"') - 120 : page.index('value="whatsapp"') + 120]
    assert "disabled" not in box and WHATSAPP_OFF_MESSAGE not in page
    resp = c.post(
        "/ventas/campanas/nueva/",
        data={"name": "Por WhatsApp", "audience_source": "reglas", "channels": ["whatsapp"], "whatsapp_template": "Hi"},
    )
    assert resp.status_code == 303
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.name == "Por WhatsApp"))
    assert campaign.channels == ["whatsapp"]
    detail = c.get(f"/ventas/campanas/{campaign.id}/").get_data(as_text=True)
    assert 'id="message-whatsapp"' in detail and "WhatsApp" in detail


def test_sending_needs_token_and_text(manychat, app, monkeypatch, wa_audience):
    from app.core.errors import ValidationError

    campaign = _campaign([wa_audience["ok"]], whatsapp_template="")
    with pytest.raises(ValidationError, match="Falta el texto WhatsApp"):
        sending.send_campaign(campaign)
    campaign = _campaign([wa_audience["ok"]], name="Otra")
    monkeypatch.setitem(app.config, "MANYCHAT_API_TOKEN", "")
    with pytest.raises(ValidationError, match="falta configurar ManyChat"):
        sending.send_campaign(campaign)
    assert _rows(campaign) == {}


# --- the gatekeeper and ManyChat ------------------------------------------------------------------------------


def test_preview_and_queue_use_whatsapp_consent_and_suppression(login, manychat, wa_audience):
    campaign = _campaign(list(wa_audience.values()))
    preview = audience_queries.preview(campaign)["channels"]["whatsapp"]
    assert preview["eligible"] == 2  # ok and capped (the cap only defers)
    assert preview["excluded"]["sin_consentimiento_canal"] == 1
    assert preview["excluded"]["sin_consentimiento_promociones"] == 1
    assert preview["excluded"]["suprimido"] == 1
    html = login("marketing").get(f"/ventas/campanas/{campaign.id}/audiencia/").get_data(as_text=True)
    assert "WhatsApp: <span" in html and 'id="eligible-whatsapp">2<' in html
    queued = sending.send_campaign(campaign)
    rows = _rows(campaign)
    assert queued == 2 and set(rows) == {wa_audience["ok"].id, wa_audience["capped"].id}
    row = rows[wa_audience["ok"].id]
    assert (row.communication_type, row.message_type, row.destination) == (
        "WHATSAPP",
        "PROMOTIONAL",
        wa_audience["ok"].phone,
    )
    assert row.idempotency_key == f"campaign:{campaign.id}:client:{wa_audience['ok'].id}:whatsapp"


def test_dispatch_through_manychat_after_quiet_hours(manychat, wa_audience):
    ok = wa_audience["ok"]
    campaign = _campaign([ok])
    sending.send_campaign(campaign)
    db.session.commit()

    # 22:00: outside the window, nothing reaches ManyChat
    clock.freeze(NOON.replace(hour=22))
    dispatch_outbox()
    rows = _rows(campaign)
    assert (rows[ok.id].status, rows[ok.id].reason) == ("PENDING", "quiet_hours")
    assert manychat.requests == []

    # the next morning: the phone's subscriber is looked up, then the text is sent to it
    clock.freeze(NOON.replace(hour=10) + timedelta(days=1))
    manychat.answers = [
        (200, {"status": "success", "data": {"id": "987654", "first_name": "Ana"}}, 0),
        (200, {"status": "success"}, 0),
    ]
    dispatch_outbox()
    rows = _rows(campaign)
    assert rows[ok.id].status == "SENT" and rows[ok.id].external_id.startswith("manychat:987654:")
    assert rows[ok.id].content == "Hola Ana, esta semana tinas al 20%: http://127.0.0.1:5000/"
    find, send = manychat.requests[:2]
    assert find["method"] == "GET" and urlparse(find["path"]).path == "/fb/subscriber/findBySystemField"
    assert parse_qs(urlparse(find["path"]).query) == {"phone": [ok.phone]}
    assert find["headers"]["Authorization"] == "Bearer mc-token"
    assert send["path"] == "/fb/sending/sendContent" and send["json"]["subscriber_id"] == "987654"
    assert send["json"]["data"]["content"]["messages"] == [{"type": "text", "text": rows[ok.id].content}]


def test_daily_cap_defers_whatsapp_promotions(manychat, wa_audience):
    capped = wa_audience["capped"]
    for hours in (3, 2):
        _sent_promo(capped, NOON - timedelta(hours=hours))
    campaign = _campaign([capped, wa_audience["ok"]])
    sending.send_campaign(campaign)
    manychat.answers = [(200, {"status": "success", "data": {"id": "1"}}, 0), (200, {"status": "success"}, 0)]
    dispatch_outbox()
    rows = _rows(campaign)
    assert (rows[capped.id].status, rows[capped.id].reason) == ("PENDING", "cap_sms_daily")
    assert rows[wa_audience["ok"].id].status == "SENT"  # negative control: the uncapped client went
    assert len([r for r in manychat.requests if r["method"] == "POST"]) == 1


def test_phone_without_manychat_subscriber_fails_permanently(manychat, wa_audience):
    campaign = _campaign([wa_audience["ok"]])
    sending.send_campaign(campaign)
    manychat.answers = [(200, {"status": "success", "data": []}, 0)]
    dispatch_outbox()
    row = _rows(campaign)[wa_audience["ok"].id]
    assert row.status == "FAILED" and "no es suscriptor de WhatsApp" in row.last_error
    assert [r["method"] for r in manychat.requests] == ["GET"]


def test_without_token_whatsapp_rows_are_not_dispatched(manychat, app, monkeypatch, wa_audience):
    campaign = _campaign([wa_audience["ok"]])
    sending.send_campaign(campaign)
    monkeypatch.setitem(app.config, "MANYCHAT_API_TOKEN", "")
    assert dispatch_outbox().taken == 0
    assert _rows(campaign)[wa_audience["ok"].id].status == "PENDING" and manychat.requests == []
