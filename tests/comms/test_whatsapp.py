"""WhatsApp through ManyChat (integrations.md §6): an outbox channel dispatched only when MANYCHAT_API_TOKEN is set,
with its own consent (`accepts_whatsapp`), the same gatekeeper as SMS, tested against a local ManyChat stub."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.clients.models import ClientPreferences
from app.comms.dispatch_services import dispatch_outbox
from app.comms.models import CommunicationLog
from app.comms.outbox_services import enqueue
from app.core.clock import LOCAL_TZ
from app.extensions import db
from tests.ai.stub_server import StubServer


@pytest.fixture
def manychat(app, monkeypatch, freeze_clock):
    freeze_clock(datetime(2026, 3, 4, 15, 0, tzinfo=LOCAL_TZ))
    with StubServer() as stub:
        monkeypatch.setitem(app.config, "MANYCHAT_API_TOKEN", "mc-token")
        monkeypatch.setitem(app.config, "MANYCHAT_API_URL", stub.url)
        yield stub


def _queue(client, key, *, message_type="OTHER", text="Hola por WhatsApp", subscriber="12345"):
    enqueue(
        message_type=message_type,
        channel="WHATSAPP",
        idempotency_key=key,
        client_id=client.id if client else None,
        destination=subscriber,
        triggered_by="test",
        payload={"text": text},
    )
    return db.session.scalars(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key)).one()


def _reload(row):
    db.session.expire_all()
    return db.session.get(CommunicationLog, row.id)


def test_sent_through_manychat(db_session, manychat, make_client):
    manychat.answers = [(200, {"status": "success"}, 0)]
    row = _queue(make_client(), "staff:wa-1")
    result = dispatch_outbox()
    row = _reload(row)
    assert result.sent == 1 and row.status == "SENT" and row.content == "Hola por WhatsApp"
    assert row.external_id.startswith("manychat:12345:")
    req = manychat.requests[0]
    assert req["path"] == "/fb/sending/sendContent"
    assert req["headers"]["Authorization"] == "Bearer mc-token"
    assert req["json"]["subscriber_id"] == "12345"
    assert req["json"]["data"]["content"]["messages"] == [{"type": "text", "text": "Hola por WhatsApp"}]


def test_off_without_token_rows_stay_for_n8n(db_session, app, monkeypatch, make_client):
    monkeypatch.setitem(app.config, "MANYCHAT_API_TOKEN", "")
    row = _queue(make_client(), "staff:wa-off")
    assert dispatch_outbox().taken == 0
    assert _reload(row).status == "PENDING"


def test_own_consent_and_same_gatekeeper(db_session, manychat, make_client):
    no_consent = make_client()
    db.session.execute(
        sa.update(ClientPreferences).where(ClientPreferences.client_id == no_consent.id).values(accepts_whatsapp=False)
    )
    promo = make_client(marketing_consent=True)
    blocked = _queue(no_consent, "staff:wa-2")
    no_subscriber = _queue(None, "staff:wa-3", subscriber=None)  # no subscriber and no client phone
    promo_row = _queue(promo, "campaign:0:client:x:WHATSAPP", message_type="PROMOTIONAL")
    manychat.answers = [(200, {"status": "success"}, 0)]
    dispatch_outbox()
    assert (_reload(blocked).status, _reload(blocked).reason) == ("BLOCKED", "no_channel_consent")
    assert (_reload(no_subscriber).status, _reload(no_subscriber).reason) == ("BLOCKED", "no_destination")
    assert _reload(promo_row).status == "SENT"
    # marketing: quiet hours defer it (negative control above: 15:00 sent)
    from app.core import clock

    clock.freeze(datetime(2026, 3, 4, 22, 0, tzinfo=LOCAL_TZ))
    late = _queue(promo, "campaign:0:client:y:WHATSAPP", message_type="PROMOTIONAL")
    dispatch_outbox()
    late = _reload(late)
    assert (late.status, late.reason) == ("PENDING", "quiet_hours")


def test_whatsapp_channel_switch(db_session, app, manychat, monkeypatch, make_client):
    monkeypatch.setitem(app.config, "COMMUNICATION_WHATSAPP_ENABLED", False)
    row = _queue(make_client(), "staff:wa-sw")
    dispatch_outbox()
    assert (_reload(row).status, _reload(row).reason) == ("BLOCKED", "channel_disabled")
    assert manychat.requests == []


def test_manychat_refusal_is_permanent_and_5xx_retried(db_session, manychat, make_client):
    manychat.answers = [(400, {"status": "error", "message": "Subscriber not found"}, 0), (502, {}, 0)]
    refused = _queue(make_client(), "staff:wa-4")
    retried = _queue(make_client(), "staff:wa-5")
    dispatch_outbox()
    refused, retried = _reload(refused), _reload(retried)
    assert refused.status == "FAILED" and "Subscriber not found" in refused.last_error
    assert retried.status == "PENDING" and "502" in retried.last_error
