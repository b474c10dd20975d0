"""Where the capabilities meet: a failed message emits the `message.failed` webhook (api.md §8), and a free-text
SMS reply to a campaign message becomes a CampaignInteraction SMS_REPLY (communications.md §7)."""

from __future__ import annotations

import sqlalchemy as sa

from app.comms import hooks
from app.comms.consent_services import record_inbound
from app.comms.models import CommunicationLog
from app.crm.models import Campaign, CampaignInteraction, Contact
from app.webhooks.models import WebhookDelivery


def test_a_failed_message_emits_the_message_failed_webhook(db_session, make_client):
    from app.webhooks.services import create_endpoint

    create_endpoint(url="https://n8n.example.com/webhook/aremko", events=["message.failed"])
    client = make_client()
    log = CommunicationLog(
        client_id=client.id,
        communication_type="SMS",
        message_type="BIRTHDAY",
        status="FAILED",
        idempotency_key="client:1:BIRTHDAY:2026:sms",
        triggered_by="test",
        last_error="Número inválido",
    )
    db_session.add(log)
    db_session.flush()
    hooks.on_message_failed(log)
    [delivery] = db_session.scalars(sa.select(WebhookDelivery)).all()
    assert delivery.event == "message.failed"
    assert delivery.payload["datos"]["comunicacion"] == {
        "id": log.id,
        "tipo": "BIRTHDAY",
        "canal": "SMS",
        "cliente": client.id,
        "motivo": "Número inválido",
    }


def test_a_reply_to_a_campaign_sms_is_a_campaign_interaction(db_session, make_client):
    client = make_client(phone="+56987650001")
    campaign = Campaign(name="Otoño")
    db_session.add(campaign)
    db_session.flush()
    log = CommunicationLog(
        client_id=client.id,
        campaign_id=campaign.id,
        communication_type="SMS",
        message_type="PROMOTIONAL",
        status="SENT",
        external_id="batch-77",
        idempotency_key=f"campaign:{campaign.id}:client:{client.id}:sms",
        triggered_by="campaign",
    )
    db_session.add(log)
    db_session.flush()
    record_inbound(phone="+56987650001", text="¿Tienen cupo el sábado?", batch_id="batch-77")
    contact = db_session.scalar(sa.select(Contact).where(Contact.client_id == client.id))
    [interaction] = db_session.scalars(sa.select(CampaignInteraction)).all()
    assert (interaction.contact_id, interaction.campaign_id, interaction.interaction_type) == (
        contact.id,
        campaign.id,
        "SMS_REPLY",
    )
    assert interaction.details["texto"] == "¿Tienen cupo el sábado?" and log.status == "REPLIED"
    record_inbound(phone="+56987650001", text="STOP", batch_id="batch-77")  # a keyword is not an interaction
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CampaignInteraction)) == 1
