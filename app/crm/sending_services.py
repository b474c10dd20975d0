"""Campaign sending through the comms outbox (crm.md §9.3): queue now or at a scheduled time, test sends, cancel;
the PROMOTIONAL renderer and the campaign_cancelled relevance check the dispatcher calls; the scheduler job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app

from app.comms import hooks
from app.comms import outbox_services as outbox
from app.comms.models import CommunicationLog
from app.comms.policy import EMAIL, SMS, WHATSAPP, SmsInfo, sms_info, strip_sms_accents
from app.comms.providers import WHATSAPP_OFF_MESSAGE, whatsapp_configured
from app.comms.render import NoRenderer, Rendered, register_renderer, render_email, sms_footer
from app.core import clock
from app.core.db import lock_and_reload
from app.core.errors import ConflictError, ValidationError
from app.core.identity import normalize_email
from app.core.phone import is_mobile, normalize_phone
from app.crm import policy
from app.crm.audience_queries import CHANNEL_CODES, PROMOTIONAL, _queue_select
from app.crm.models import Campaign
from app.extensions import db

OPEN = ("Planning", "Active")
# Tests switch this off to show that without the row lock a send and a cancel both win (negative control).
LOCKING_ENABLED = True


def lock_campaign(campaign: Campaign) -> Campaign:
    """SELECT … FOR NO KEY UPDATE the campaign and re-read it (its status above all): a send, a cancel and the
    scheduler's queueing of one campaign run one after the other, each seeing what the previous one wrote; the
    outbox rows that reference the campaign are not held up."""
    if not LOCKING_ENABLED:
        return campaign
    return lock_and_reload(campaign)


def queue_campaign(campaign: Campaign, *, by=None) -> int:
    """One INSERT … SELECT per channel of PROMOTIONAL rows for every eligible client (key
    `campaign:<id>:client:<cid>:<channel>`, so re-sending never duplicates); flushes. Returns rows inserted."""
    queued = 0
    for key in campaign.channels or []:
        queued += outbox.enqueue_from_select(
            _queue_select(campaign, key),
            message_type=PROMOTIONAL,
            channel=CHANNEL_CODES[key],
            triggered_by="campaign",
            created_by=by,
        )
    return queued


def _check_sendable(campaign: Campaign) -> None:
    if campaign.status not in OPEN:
        raise ConflictError(f"La campaña está {campaign.status_label.lower()}: no se puede enviar.")
    if not campaign.channels:
        raise ValidationError("Elija al menos un canal (SMS, correo electrónico o WhatsApp) antes de enviar.")
    if "sms" in campaign.channels and not (campaign.sms_template or "").strip():
        raise ValidationError("Falta el texto SMS de la campaña.")
    if "email" in campaign.channels and not (
        (campaign.email_subject_template or "").strip() and (campaign.email_body_template or "").strip()
    ):
        raise ValidationError("Faltan el asunto o el cuerpo del correo electrónico de la campaña.")
    if "whatsapp" in campaign.channels:
        if not whatsapp_configured():
            raise ValidationError(WHATSAPP_OFF_MESSAGE)
        if not (campaign.whatsapp_template or "").strip():
            raise ValidationError("Falta el texto WhatsApp de la campaña.")


def send_campaign(campaign: Campaign, *, when: datetime | None = None, by=None) -> int:
    """Queue the campaign now (returns rows queued) or schedule it for `when` (aware, future; returns 0); the
    campaign becomes Active; flushes. Raises ConflictError when it is not open, ValidationError when it lacks
    channels/texts or the time is past. Under the campaign's row lock."""
    campaign = lock_campaign(campaign)
    _check_sendable(campaign)
    campaign.status = "Active"
    if when is not None:
        if when <= clock.now():
            raise ValidationError("La fecha y hora programada debe ser futura.", field="fecha_hora")
        campaign.scheduled_at = when
        db.session.flush()
        return 0
    campaign.scheduled_at = None
    queued = queue_campaign(campaign, by=by)
    campaign.sent_at = campaign.sent_at or clock.now()
    db.session.flush()
    return queued


def cancel_campaign_send(campaign: Campaign) -> int:
    """Its PENDING rows become BLOCKED `campaign_cancelled`; the campaign becomes Cancelled; flushes.
    Returns how many rows were blocked. Under the campaign's row lock: a send in flight is waited for, and its rows
    are blocked too."""
    campaign = lock_campaign(campaign)
    now = clock.now()
    result = db.session.execute(
        sa.update(CommunicationLog)
        .where(CommunicationLog.campaign_id == campaign.id, CommunicationLog.status == "PENDING")
        .values(status="BLOCKED", reason="campaign_cancelled", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    campaign.status = "Cancelled"
    campaign.scheduled_at = None
    db.session.flush()
    return result.rowcount


def send_test(campaign: Campaign, destination: str, *, by=None) -> str:
    """Queue the campaign text rendered with sample names to a typed phone or e-mail (type OTHER, never capped);
    flushes. Returns the channel. Raises ValidationError for a bad destination or a missing text."""
    text = (destination or "").strip()
    link = current_app.config["PUBLIC_BASE_URL"] + "/"
    names = {"first_name": "Nombre", "last_name": "Apellido", "link": link}
    if "@" in text:
        email = normalize_email(text)
        if not email or not (campaign.email_body_template or "").strip():
            raise ValidationError(
                "Indique un correo electrónico válido y el cuerpo del correo de la campaña.", field="destino"
            )
        channel, dest = EMAIL, email
        payload = {
            "subject": "[Prueba] " + policy.render_template_text(campaign.email_subject_template, **names),
            "text": policy.render_template_text(campaign.email_body_template, **names),
        }
    else:
        dest = normalize_phone(text)
        if not is_mobile(dest) or not (campaign.sms_template or "").strip():
            raise ValidationError("Indique un celular válido y el texto SMS de la campaña.", field="destino")
        channel = SMS
        payload = {"text": policy.render_template_text(campaign.sms_template, **names)}
    outbox.enqueue(
        message_type="OTHER",
        channel=channel,
        idempotency_key=f"staff:{uuid.uuid4()}",
        destination=dest,
        campaign_id=campaign.id,
        triggered_by=f"staff:{getattr(by, 'username', '')}",
        created_by=by,
        payload=payload,
    )
    return channel


SAMPLE_NAMES = {"first_name": "Camila", "last_name": "Rojas"}


@dataclass(frozen=True)
class CampaignPreview:
    """The campaign's texts filled for a sample client, the SMS as the dispatcher would send it (footer, accents);
    a text that cannot be filled (unknown variable saved outside the form) gives its Spanish error instead."""

    sample_name: str
    sms_text: str | None
    sms: SmsInfo | None
    email_subject: str | None
    email_body: str | None
    error: str | None = None


def campaign_preview(campaign: Campaign) -> CampaignPreview:
    names = {**SAMPLE_NAMES, "link": current_app.config["PUBLIC_BASE_URL"] + "/"}
    sample = f"{SAMPLE_NAMES['first_name']} {SAMPLE_NAMES['last_name']}"
    texts = (campaign.sms_template, campaign.email_subject_template, campaign.email_body_template)
    error = next((e for e in map(policy.template_error, texts) if e), None)
    if error:
        return CampaignPreview(sample, None, None, None, None, error=error)
    sms_text = info = None
    if (campaign.sms_template or "").strip():
        sample_row = SimpleNamespace(id=999_999, message_type=PROMOTIONAL)  # a footer as long as a real one
        sms_text = policy.render_template_text(campaign.sms_template, **names) + sms_footer(sample_row)
        if current_app.config.get("SMS_STRIP_ACCENTS", True):
            sms_text = strip_sms_accents(sms_text)
        info = sms_info(sms_text)
    subject = body = None
    if (campaign.email_body_template or "").strip() or (campaign.email_subject_template or "").strip():
        subject = policy.render_template_text(campaign.email_subject_template, **names)
        body = policy.render_template_text(campaign.email_body_template, **names)
    return CampaignPreview(sample, sms_text, info, subject, body)


def run_scheduler() -> str:
    """Job `campaign_scheduler`: queue due scheduled campaigns; complete Active campaigns past their end date with
    no PENDING rows."""
    now = clock.now()
    due = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.status == "Active", Campaign.scheduled_at.is_not(None), Campaign.scheduled_at <= now)
        .with_for_update(key_share=True, skip_locked=True)  # the lock of lock_campaign
        .execution_options(populate_existing=True)
    ).all()
    queued = 0
    for campaign in due:
        queued += queue_campaign(campaign)
        campaign.scheduled_at = None
        campaign.sent_at = campaign.sent_at or now
    pending = sa.exists().where(CommunicationLog.campaign_id == Campaign.id, CommunicationLog.status == "PENDING")
    finished = db.session.scalars(
        sa.select(Campaign)
        .where(
            Campaign.status == "Active",
            Campaign.end_date.is_not(None),
            Campaign.end_date < clock.today(),
            Campaign.scheduled_at.is_(None),
            ~pending,
        )
        .with_for_update(key_share=True, skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    for campaign in finished:
        campaign.status = "Completed"
    db.session.flush()
    return f"{len(due)} campañas programadas encoladas ({queued} mensajes), {len(finished)} completadas"


# --- dispatcher hooks ------------------------------------------------------------------------------------------


@hooks.register_relevance(PROMOTIONAL)
def _campaign_relevance(log) -> str | None:
    if log.campaign_id is None:
        return None
    campaign = db.session.get(Campaign, log.campaign_id)
    return "campaign_cancelled" if campaign is None or campaign.status == "Cancelled" else None


@register_renderer(PROMOTIONAL)
def render_promotional(log) -> Rendered:
    """The campaign template filled for the row's client (+ unsubscribe footer / links)."""
    campaign = db.session.get(Campaign, log.campaign_id) if log.campaign_id else None
    if campaign is None and (log.payload or {}).get("text"):  # a one-off offer sent by staff (AI module)
        if log.communication_type == SMS:
            return Rendered(text=log.payload["text"] + sms_footer(log))
        if log.communication_type == WHATSAPP:
            return Rendered(text=log.payload["text"])
    if campaign is None:
        raise NoRenderer("PROMOTIONAL row without campaign")
    client = log.client
    names = {
        "first_name": client.first_name if client else "",
        "last_name": client.last_name if client else "",
        "link": current_app.config["PUBLIC_BASE_URL"] + "/",
    }
    if log.communication_type == SMS:
        return Rendered(text=policy.render_template_text(campaign.sms_template, **names) + sms_footer(log))
    if log.communication_type == WHATSAPP:  # ManyChat: the subscriber stops from WhatsApp itself
        return Rendered(text=policy.render_template_text(campaign.whatsapp_template, **names))
    if log.communication_type == EMAIL:
        return render_email(
            log,
            "message",
            subject=policy.render_template_text(campaign.email_subject_template, **names),
            body=policy.render_template_text(campaign.email_body_template, **names),
        )
    raise NoRenderer(f"{log.communication_type} is not sent by the dispatcher")


def record_sms_reply(inbound, log) -> None:
    """A free-text SMS reply to a campaign message → CampaignInteraction SMS_REPLY on the client's contact
    (communications.md §7); replies to other messages are only kept on the replies page."""
    from app.clients.models import Client
    from app.crm.models import CampaignInteraction
    from app.crm.services import ensure_contact_for_client

    if log.campaign_id is None or log.client_id is None:
        return
    client = db.session.get(Client, log.client_id)
    if client is None:
        return
    contact = ensure_contact_for_client(client)
    db.session.add(
        CampaignInteraction(
            contact_id=contact.id,
            campaign_id=log.campaign_id,
            interaction_type="SMS_REPLY",
            timestamp=inbound.received_at,
            details={"texto": inbound.text, "mensaje_id": log.id},
        )
    )
    db.session.flush()


if record_sms_reply not in hooks.reply_listeners:
    hooks.reply_listeners.append(record_sms_reply)
