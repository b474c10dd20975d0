"""Consent changes coming from messages (communications.md §7, crm.md §5): unsubscribe links, the preferences
page, STOP/START replies, suppressions. Every change goes through clients.services.set_consents (one ConsentEvent
per field + one `consent_changed` client event). Services flush, never commit.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from app.clients.models import CHANNEL_FIELDS, CONSENT_FIELDS, MARKETING_FIELDS, Client, ClientPreferences, Suppression
from app.clients.services import record_event, set_consents
from app.comms import hooks
from app.comms.models import CommunicationLog, InboundSms
from app.comms.policy import SUPPRESSION_CHANNEL, TYPE_PLURALS, consent_switch, reply_keyword
from app.core import clock
from app.core.phone import InvalidPhone, normalize_phone
from app.extensions import db


def _ensure_prefs(client: Client) -> ClientPreferences:
    if client.preferences is None:
        client.preferences = ClientPreferences(client_id=client.id)
        db.session.flush()
    return client.preferences


def suppress(*, channel: str, destination: str, reason: str, client: Client | None = None, by=None) -> bool:
    """Add (channel, destination) to the suppression list unless present; flushes. Returns whether it was added."""
    if not destination:
        return False
    exists = db.session.scalar(
        sa.select(Suppression.id).where(Suppression.channel == channel, Suppression.destination == destination)
    )
    if exists:
        return False
    db.session.add(
        Suppression(
            channel=channel,
            destination=destination,
            reason=reason,
            client_id=getattr(client, "id", None),
            created_by_id=getattr(by, "id", None),
            created_at=clock.now(),
        )
    )
    db.session.flush()
    if client is not None:
        label = "SMS" if channel == "sms" else "e-mail"
        record_event(client, "consent_changed", f"Destino {label} suprimido ({reason})", by=by)
    return True


def unsuppress(suppression: Suppression, *, by=None) -> None:
    """Remove a suppression (staff or START); flushes."""
    client = db.session.get(Client, suppression.client_id) if suppression.client_id else None
    db.session.delete(suppression)
    db.session.flush()
    if client is not None:
        label = "SMS" if suppression.channel == "sms" else "e-mail"
        record_event(client, "consent_changed", f"Destino {label} quitado de la lista de supresión", by=by)


def unsubscribe(log: CommunicationLog, *, everything: bool, ip: str | None = None) -> str:
    """Apply a one-click unsubscribe for the row's message; flushes. Returns the Spanish confirmation."""
    client = log.client
    if everything:
        if client is not None:
            update_preferences(client, {}, nothing=True, ip=ip, source="unsubscribe_link", message_id=log.id)
        elif log.destination:
            suppress(
                channel=SUPPRESSION_CHANNEL.get(log.communication_type, "email"),
                destination=log.destination,
                reason="manual",
            )
        return "Listo. Ya no recibirás mensajes de Aremko."
    switch = consent_switch(log.message_type)
    if client is not None and switch:
        _ensure_prefs(client)
        set_consents(client, {switch: False}, source="unsubscribe_link", ip=ip, message_id=log.id)
        return f"Listo. Ya no recibirás {TYPE_PLURALS.get(log.message_type, 'este tipo de mensajes')}."
    if log.destination:
        suppress(
            channel=SUPPRESSION_CHANNEL.get(log.communication_type, "email"),
            destination=log.destination,
            reason="manual",
            client=client,
        )
    return "Listo. Ya no recibirás mensajes en este destino."


PREFERENCE_FIELDS = CHANNEL_FIELDS[:2] + tuple(f for f in CONSENT_FIELDS if f not in CHANNEL_FIELDS)


def update_preferences(
    client: Client,
    values: dict[str, bool],
    *,
    nothing: bool,
    ip: str | None = None,
    source: str = "preferences_page",
    by=None,
    message_id: int | None = None,
    note: str | None = None,
) -> int:
    """The preferences page (or staff fragment): checkboxes per channel and type, or "No recibir nada"; flushes.
    `note`: the staff's optional note, kept with the change (crm.md §3)."""
    prefs = _ensure_prefs(client)
    if nothing:
        count = set_consents(
            client,
            {f: False for f in CHANNEL_FIELDS + MARKETING_FIELDS},
            source=source,
            by=by,
            ip=ip,
            message_id=message_id,
            note=note,
        )
        prefs.opt_out_date = clock.now()
        db.session.flush()
        return count
    changes = {f: bool(values.get(f)) for f in PREFERENCE_FIELDS}
    count = set_consents(client, changes, source=source, by=by, ip=ip, message_id=message_id, note=note)
    if count and any(changes.values()):
        prefs.opt_out_date = None
    db.session.flush()
    return count


# --- inbound SMS (STOP / START) --------------------------------------------------------------------------------


def _dedupe_key(phone: str, text: str, received_at: datetime | None, batch_id: str | None) -> str:
    stamp = received_at.isoformat() if received_at else ""
    raw = f"{batch_id or ''}|{phone}|{stamp}|{text}"
    return hashlib.sha256(raw.encode()).hexdigest()


def record_inbound(
    *,
    phone: str,
    text: str,
    received_at: datetime | None = None,
    batch_id: str | None = None,
    provider_key: str | None = None,
) -> InboundSms | None:
    """Store one SMS reply and act on STOP/START (§7); flushes. A reply already stored returns None.

    `provider_key` identifies a polled reply across polls (else phone + text + time + batch).
    """
    try:
        e164 = normalize_phone(phone)
    except InvalidPhone:
        e164 = (phone or "").strip()[:20]
    key = (
        hashlib.sha256(provider_key.encode()).hexdigest()
        if provider_key
        else _dedupe_key(e164, text, received_at, batch_id)
    )
    if db.session.scalar(sa.select(InboundSms.id).where(InboundSms.dedupe_key == key)):
        return None
    now = clock.now()
    client = db.session.scalar(sa.select(Client).where(Client.phone == e164))
    source_log = None
    if batch_id:
        source_log = db.session.scalar(
            sa.select(CommunicationLog)
            .where(CommunicationLog.external_id == batch_id)
            .order_by(CommunicationLog.id.desc())
            .limit(1)
        )
    inbound = InboundSms(
        phone=e164,
        text=text or "",
        received_at=received_at or now,
        batch_id=batch_id,
        dedupe_key=key,
        client_id=getattr(client, "id", None),
        communication_log_id=getattr(source_log, "id", None),
        action=reply_keyword(text or ""),
    )
    db.session.add(inbound)
    db.session.flush()
    if inbound.action == "stop":
        if client is not None:
            _ensure_prefs(client)
            set_consents(client, {"accepts_sms": False}, source="sms_stop", message_id=inbound.communication_log_id)
        suppress(channel="sms", destination=e164, reason="stop", client=client)
    elif inbound.action == "start":
        existing = db.session.scalar(
            sa.select(Suppression).where(
                Suppression.channel == "sms", Suppression.destination == e164, Suppression.reason == "stop"
            )
        )
        if existing is not None:
            unsuppress(existing)
        if client is not None:
            prefs = _ensure_prefs(client)
            set_consents(client, {"accepts_sms": True}, source="sms_start", message_id=inbound.communication_log_id)
            prefs.opt_out_date = None
    if source_log is not None and inbound.action is None:
        if source_log.status in ("SENT", "DELIVERED", "READ"):
            source_log.status = "REPLIED"
        source_log.replied_at = inbound.received_at
        for listener in list(hooks.reply_listeners):  # e.g. CampaignInteraction SMS_REPLY (crm)
            listener(inbound, source_log)
    inbound.processed_at = now
    db.session.flush()
    return inbound
