"""Staff actions on the outbox. Flush, never commit."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.comms.models import CommunicationLog
from app.comms.outbox_services import enqueue
from app.comms.policy import CHANNELS, is_marketing
from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.extensions import db


def resend(log: CommunicationLog, *, by) -> CommunicationLog:
    """Queue a copy of `log` as a new PENDING row with key `<key>:resend:<n>`; flushes. Raises ConflictError for
    rows the dispatcher does not send (WhatsApp/calls logged by n8n)."""
    if log.communication_type not in CHANNELS:
        raise ConflictError("Este mensaje no se envía desde el sistema.")
    base = log.idempotency_key.split(":resend:")[0]
    count = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                CommunicationLog.idempotency_key.like(
                    base.replace("%", r"\%").replace("_", r"\_") + ":resend:%", escape="\\"
                )
            )
        )
        or 0
    )
    key = f"{base}:resend:{count + 1}"
    username = getattr(by, "username", "sistema")
    enqueue(
        message_type=log.message_type,
        channel=log.communication_type,
        idempotency_key=key,
        client_id=log.client_id,
        order_id=log.order_id,
        campaign_id=log.campaign_id,
        gift_card_id=log.gift_card_id,
        destination=log.destination if log.client_id is None else None,
        triggered_by=f"staff:{username}",
        created_by=by,
        payload=log.payload,
    )
    return db.session.scalar(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key))


def send_now(log: CommunicationLog, *, by=None) -> None:
    """A deferred row skips quiet hours and caps at the next dispatch (never consent); flushes."""
    if log.status != "PENDING":
        raise ConflictError("Solo se puede enviar ahora un mensaje pendiente.")
    log.force_send = True
    log.not_before = clock.now()
    db.session.flush()


def queue_staff_message(
    *,
    channel: str,
    text: str,
    subject: str | None = None,
    client_id: int | None = None,
    order_id: int | None = None,
    destination: str | None = None,
    message_type: str = "OTHER",
    by=None,
) -> CommunicationLog:
    """A staff-written message (OTHER/FOLLOW_UP, key `staff:<uuid>`); flushes. Raises ValidationError."""
    if message_type not in ("OTHER", "FOLLOW_UP") or channel not in CHANNELS:
        raise ValidationError("Tipo o canal inválido.")
    if not (text or "").strip():
        raise ValidationError("El mensaje es obligatorio.", field="text")
    if client_id is None and not destination:
        raise ValidationError("Indique un cliente o un destino.")
    key = f"staff:{uuid.uuid4()}"
    enqueue(
        message_type=message_type,
        channel=channel,
        idempotency_key=key,
        client_id=client_id,
        order_id=order_id,
        destination=destination,
        triggered_by=f"staff:{getattr(by, 'username', 'sistema')}",
        created_by=by,
        payload={"text": text.strip(), "subject": (subject or "").strip() or None},
    )
    return db.session.scalar(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key))


def can_resend(log: CommunicationLog, role: str) -> bool:
    """recepcion: transactional only; marketing and admin: any (spec communications.md §10)."""
    if role in ("marketing", "admin"):
        return True
    return role == "recepcion" and not is_marketing(log.message_type) and log.message_type != "STAFF_REPORT"
