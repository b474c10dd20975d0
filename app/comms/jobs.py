"""Thin functions the scheduler calls (communications.md §6, §7, §9)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.comms import hooks
from app.comms.dispatch_services import dispatch_outbox as run_dispatcher
from app.comms.models import CommunicationLog
from app.comms.providers import ProviderError, sms_provider
from app.core import clock
from app.extensions import db

log = logging.getLogger(__name__)


def dispatch_outbox() -> str:
    return str(run_dispatcher())


def _sms_batches(hours: int, statuses: tuple[str, ...]) -> list[str]:
    since = clock.now() - timedelta(hours=hours)
    return list(
        db.session.scalars(
            sa.select(CommunicationLog.external_id)
            .where(
                CommunicationLog.communication_type == "SMS",
                CommunicationLog.status.in_(statuses),
                CommunicationLog.external_id.is_not(None),
                CommunicationLog.sent_at >= since,
            )
            .distinct()
        )
    )


def poll_sms_status(*, sms=None) -> str:
    """SMS SENT in the last 48 h: one status call per batch; RECIBIDO → DELIVERED, FALLIDO → FAILED."""
    sms = sms or sms_provider()
    delivered = failed = errors = 0
    now = clock.now()
    for batch in _sms_batches(48, ("SENT",)):
        try:
            entries = sms.batch_status(batch)
        except ProviderError as exc:
            errors += 1
            log.warning("poll_sms_status %s: %s", batch, exc.message)
            continue
        states = {str(e.get("message") or "").upper() for e in entries}
        rows = db.session.scalars(
            sa.select(CommunicationLog).where(CommunicationLog.external_id == batch, CommunicationLog.status == "SENT")
        ).all()
        for row in rows:
            if "RECIBIDO" in states:
                row.status, row.delivered_at = "DELIVERED", now
                delivered += 1
            elif "FALLIDO" in states:
                row.status, row.failed_at, row.last_error = "FAILED", now, "Redvoiss: FALLIDO"
                failed += 1
                hooks.on_message_failed(row)
        db.session.commit()
    return f"{delivered} entregados, {failed} fallidos, {errors} errores de consulta"


def _parse_time(raw) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=clock.LOCAL_TZ)


def poll_sms_replies(*, sms=None) -> str:
    """Replies of SMS batches of the last 72 h (stored once, STOP/START acted on)."""
    from app.comms.consent_services import record_inbound

    sms = sms or sms_provider()
    stored = errors = 0
    for batch in _sms_batches(72, ("SENT", "DELIVERED", "READ", "REPLIED")):
        try:
            replies = sms.replies(batch)
        except ProviderError as exc:
            errors += 1
            log.warning("poll_sms_replies %s: %s", batch, exc.message)
            continue
        for reply in replies:
            phone = reply.get("destination") or reply.get("origin") or reply.get("phone") or ""
            text = reply.get("message") or reply.get("text") or ""
            when = _parse_time(reply.get("date") or reply.get("receivedDate") or reply.get("fecha"))
            key = reply.get("id") or reply.get("msgCod")
            if record_inbound(
                phone=phone,
                text=text,
                received_at=when,
                batch_id=batch,
                provider_key=f"{batch}:{key}:{phone}:{text}" if key else None,
            ):
                stored += 1
        db.session.commit()
    return f"{stored} respuestas nuevas, {errors} errores de consulta"
