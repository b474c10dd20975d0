"""The dispatcher (communications.md §6): gatekeeper, render, SENDING + commit, provider call, outcome.

Runs as the job `dispatch_outbox` and `flask dispatch-outbox`. It commits itself (several short transactions):
the rows taken are locked (`FOR UPDATE SKIP LOCKED`) until they are BLOCKED, deferred or marked SENDING, so two
dispatchers never take the same row; the provider is called only after that commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.clients.models import Client, ClientPreferences, Suppression
from app.comms import hooks
from app.comms.eligibility_queries import current_limits, prefs_dict
from app.comms.models import CommunicationLog
from app.comms.policy import (
    EMAIL,
    MARKETING_TYPES,
    SENT_STATUSES,
    SMS,
    SUPPRESSION_CHANNEL,
    WHATSAPP,
    Facts,
    decide,
    is_marketing,
    retry_delay,
    sms_info,
    strip_sms_accents,
)
from app.comms.providers import ProviderError, email_provider, sms_provider, whatsapp_provider
from app.comms.render import list_unsubscribe_headers, render
from app.comms.sms_template_services import cached_texts
from app.core import clock
from app.core.phone import is_mobile
from app.extensions import db

log = logging.getLogger(__name__)
STUCK_AFTER = timedelta(minutes=10)
ORDER_TYPES_CANCEL_EXEMPT = ("BOOKING_CANCELLED",)


@dataclass
class DispatchResult:
    taken: int = 0
    sent: int = 0
    blocked: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __str__(self) -> str:
        return (
            f"{self.taken} tomados: {self.sent} enviados, {self.blocked} bloqueados, {self.deferred} diferidos, "
            f"{self.retried} reintentos, {self.failed} fallidos, {self.recovered} recuperados"
        )


def message_id_for(key: str) -> str:
    """E-mail Message-ID derived from the idempotency key (a duplicate after a crash is recognisable)."""
    from_addr = current_app.config.get("VENTAS_FROM_EMAIL") or "ventas@aremko.cl"
    domain = from_addr.rpartition("@")[2] or "aremko.cl"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def recover_stuck() -> int:
    """Rows in SENDING for more than 10 minutes (dead process) go back to PENDING: at-least-once."""
    now = clock.now()
    result = db.session.execute(
        sa.update(CommunicationLog)
        .where(CommunicationLog.status == "SENDING", CommunicationLog.updated_at < now - STUCK_AFTER)
        .values(
            status="PENDING",
            not_before=now,
            sent_at=None,
            updated_at=now,
            last_error="Reenvío: el proceso anterior no confirmó el envío",
        )
    )
    return result.rowcount or 0


def _take(limit: int) -> list[CommunicationLog]:
    now = clock.now()
    marketing_last = sa.case((CommunicationLog.message_type.in_(MARKETING_TYPES), 1), else_=0)
    stmt = (
        sa.select(CommunicationLog)
        .where(
            CommunicationLog.status == "PENDING",
            CommunicationLog.not_before <= now,
            CommunicationLog.communication_type.in_(dispatched_channels()),
        )
        .order_by(marketing_last, CommunicationLog.not_before, CommunicationLog.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=CommunicationLog)
    )
    return list(db.session.scalars(stmt))


def dispatched_channels() -> tuple[str, ...]:
    """SMS and e-mail; WhatsApp too once ManyChat is configured (before, WhatsApp rows are n8n's log only)."""
    return (SMS, EMAIL, WHATSAPP) if current_app.config.get("MANYCHAT_API_TOKEN") else (SMS, EMAIL)


def resolve_destination(row: CommunicationLog) -> str | None:
    """The row's fixed destination (for WhatsApp a ManyChat subscriber id or a phone), else e-mail: order contact
    e-mail, else client e-mail; SMS and WhatsApp: client phone (the adapter finds the phone's ManyChat subscriber)."""
    if row.destination:
        return row.destination
    if row.communication_type == EMAIL:
        if row.order is not None and row.order.contact_email:
            return row.order.contact_email
        return row.client.email if row.client else None
    return row.client.phone if row.client else None


def builtin_relevance(row: CommunicationLog) -> str | None:
    """§5 row 0 for what comms knows: cancelled orders, payment confirmation of an order no longer paid."""
    order = row.order
    if order is None:
        return None
    if order.booking_status == "cancelada" or order.payment_status == "cancelado":
        if row.message_type not in ORDER_TYPES_CANCEL_EXEMPT:
            return "order_cancelled"
    if row.message_type == "PAYMENT_CONFIRMATION" and order.payment_status != "pagado":
        return "stale"
    return None


def _relevance(row: CommunicationLog) -> str | None:
    reason = builtin_relevance(row)
    for check in hooks.relevance_checks(row.message_type):
        reason = reason or check(row)
    return reason


def _load_context(rows: list[CommunicationLog], destinations: dict[int, str | None]):
    """Preferences, suppressions and marketing sends of the batch's clients, in three set-based queries."""
    client_ids = {r.client_id for r in rows if r.client_id}
    prefs, clients = {}, []
    if client_ids:
        prefs = {
            p.client_id: prefs_dict(p)
            for p in db.session.scalars(sa.select(ClientPreferences).where(ClientPreferences.client_id.in_(client_ids)))
        }
        clients = db.session.scalars(sa.select(Client).where(Client.id.in_(client_ids))).all()
    wanted = {(SUPPRESSION_CHANNEL[r.communication_type], destinations[r.id]) for r in rows if destinations[r.id]}
    suppressed = set()
    if wanted:
        suppressed = set(
            db.session.execute(
                sa.select(Suppression.channel, Suppression.destination).where(
                    Suppression.destination.in_({d for _, d in wanted})
                )
            ).tuples()
        )
    sent: dict[tuple[int, str], list] = defaultdict(list)
    marketing_clients = {r.client_id for r in rows if r.client_id and is_marketing(r.message_type)}
    if marketing_clients:
        since = clock.now() - timedelta(days=32)
        for cid, channel, sent_at in db.session.execute(
            sa.select(CommunicationLog.client_id, CommunicationLog.communication_type, CommunicationLog.sent_at).where(
                CommunicationLog.client_id.in_(marketing_clients),
                CommunicationLog.message_type.in_(MARKETING_TYPES),
                CommunicationLog.status.in_(SENT_STATUSES),
                CommunicationLog.sent_at >= since,
            )
        ):
            sent[(cid, channel)].append(sent_at)
    return prefs, suppressed, sent, clients  # `clients` keeps the identity map filled while the batch runs


def _prepare(rows: list[CommunicationLog], result: DispatchResult) -> list[CommunicationLog]:
    """Gatekeeper, pre-send hooks and rendering for the locked rows; returns those to send (now SENDING)."""
    now = clock.now()
    limits = current_limits()
    destinations = {r.id: resolve_destination(r) for r in rows}
    prefs, suppressed, sent, _clients = _load_context(rows, destinations)
    strip = current_app.config.get("SMS_STRIP_ACCENTS", True)
    cost_per_segment = current_app.config.get("SMS_COST_CLP", 12)
    to_send = []
    for row in rows:
        destination = destinations[row.id]
        channel = row.communication_type
        facts = Facts(
            message_type=row.message_type,
            channel=channel,
            destination=destination,
            has_client=row.client_id is not None,
            prefs=prefs.get(row.client_id),
            suppressed=(SUPPRESSION_CHANNEL[channel], destination) in suppressed,
            is_mobile=bool(destination) and channel == SMS and is_mobile(destination),
            expires_at=row.expires_at,
            relevance=_relevance(row),
            force=row.force_send,
            sent_marketing=tuple(sent.get((row.client_id, channel), ())),
        )
        decision = decide(facts, now, limits)
        row.destination = destination
        if decision.action == "block":
            row.status, row.reason = "BLOCKED", decision.reason
            if decision.last_error:
                row.last_error = decision.last_error
            result.blocked += 1
            result.reasons[decision.reason] += 1
            continue
        if decision.action == "defer":
            row.not_before, row.reason = decision.not_before, decision.reason
            result.deferred += 1
            result.reasons[decision.reason] += 1
            continue
        try:
            pre_send = hooks.pre_send_hooks(row.message_type)
            if pre_send:  # hooks write (gift cards, codes): undo them alone if this row fails
                with db.session.begin_nested():
                    for hook in pre_send:
                        hook(row)
                    rendered = render(row)
            else:
                rendered = render(row)
        except Exception as exc:  # a rendering bug must not stop the batch: retried, then FAILED
            log.exception("render failed for communication %s", row.id)
            row.attempts += 1
            _temporary_failure(row, f"Error al preparar el mensaje: {type(exc).__name__}: {exc}", result)
            continue
        row.subject = rendered.subject
        if channel == WHATSAPP:
            row.content, row.segments, row.cost = rendered.text, None, 0
        elif channel == SMS:
            text = strip_sms_accents(rendered.text) if strip else rendered.text
            info = sms_info(text)
            row.content, row.segments, row.cost = text, info.segments, info.segments * cost_per_segment
        else:
            row.content, row.segments, row.cost = rendered.html or rendered.text, None, 0
        row.status, row.attempts, row.sent_at = "SENDING", row.attempts + 1, now
        if row.client_id and is_marketing(row.message_type):
            sent[(row.client_id, channel)].append(now)
        to_send.append(
            Outgoing(
                id=row.id,
                channel=channel,
                message_type=row.message_type,
                destination=destination,
                content=row.content,
                rendered=rendered,
                client_id=row.client_id,
                key=row.idempotency_key,
                attempts=row.attempts,
                headers=list_unsubscribe_headers(row) if channel == EMAIL and is_marketing(row.message_type) else {},
            )
        )
    return to_send


@dataclass
class Outgoing:
    """What the provider call needs, captured before the SENDING commit (no reload per row afterwards)."""

    id: int
    channel: str
    message_type: str
    destination: str
    content: str
    rendered: object
    client_id: int | None
    key: str
    attempts: int
    headers: dict


def _retry_values(attempts: int, message: str) -> dict:
    """PENDING with backoff, or FAILED after the last attempt."""
    now = clock.now()
    delay = retry_delay(attempts)
    if delay is None:
        return {"status": "FAILED", "failed_at": now, "last_error": message, "sent_at": None}
    return {"status": "PENDING", "not_before": now + delay, "last_error": message, "sent_at": None}


def _temporary_failure(row: CommunicationLog, message: str, result: DispatchResult) -> None:
    for key, value in _retry_values(row.attempts, message).items():
        setattr(row, key, value)
    if row.status == "FAILED":
        result.failed += 1
        hooks.on_message_failed(row)
    else:
        result.retried += 1


def _call_provider(out: Outgoing, sms, email, whatsapp=None) -> dict:
    if out.channel == WHATSAPP:
        return (whatsapp or whatsapp_provider()).send_whatsapp(out.destination, out.content)
    if out.channel == SMS:
        return sms.send_sms(
            out.destination,
            out.content,
            label=f"{out.message_type}:{out.id}",
            commercial=is_marketing(out.message_type),
            client_id=out.client_id,
        )
    cfg = current_app.config
    rendered = out.rendered
    return email.send_email(
        out.destination,
        rendered.subject or "",
        rendered.text,
        rendered.html,
        out.headers,
        rendered.attachments,
        from_addr=cfg["DEFAULT_FROM_EMAIL"] if is_marketing(out.message_type) else cfg["VENTAS_FROM_EMAIL"],
        reply_to=cfg["VENTAS_FROM_EMAIL"],
        message_id=message_id_for(out.key),
    )


def _update(out: Outgoing, values: dict) -> None:
    values["updated_at"] = clock.now()
    db.session.execute(sa.update(CommunicationLog).where(CommunicationLog.id == out.id).values(**values))


def _send(out: Outgoing, sms, email, result: DispatchResult, whatsapp=None) -> None:
    try:
        answer = _call_provider(out, sms, email, whatsapp)
    except ProviderError as exc:
        response = exc.response if isinstance(exc.response, dict) else None
        if exc.permanent:
            values = {"status": "FAILED", "failed_at": clock.now(), "last_error": exc.message, "sent_at": None}
        else:
            values = _retry_values(out.attempts, exc.message)
        _update(out, {**values, "provider_response": response} if response else values)
        if values["status"] == "FAILED":
            _after_failure(out, bounce=exc.bounce and exc.permanent and out.channel == EMAIL)
            result.failed += 1
        else:
            result.retried += 1
        return
    except Exception as exc:  # an adapter bug is treated as temporary (retried, then FAILED)
        log.exception("provider call failed for communication %s", out.id)
        values = _retry_values(out.attempts, f"{type(exc).__name__}: {exc}")
        _update(out, values)
        if values["status"] == "FAILED":
            _after_failure(out, bounce=False)
            result.failed += 1
        else:
            result.retried += 1
        return
    external_id = str(answer.get("provider_id") or "") or None
    response = answer.get("response")
    _update(
        out,
        {
            "status": "SENT",
            "sent_at": clock.now(),
            "reason": None,
            "external_id": external_id,
            "provider_response": response if isinstance(response, dict) else {"provider_id": external_id},
        },
    )
    result.sent += 1


def _after_failure(out: Outgoing, *, bounce: bool) -> None:
    from app.comms.consent_services import suppress

    row = db.session.get(CommunicationLog, out.id, populate_existing=True)
    if bounce:
        suppress(
            channel=SUPPRESSION_CHANNEL[out.channel], destination=out.destination, reason="bounce", client=row.client
        )
    hooks.on_message_failed(row)


def dispatch_outbox(limit: int | None = None, *, sms=None, email=None, whatsapp=None) -> DispatchResult:
    """One dispatcher run (§6). Commits: recovery, then decisions + SENDING, then each provider outcome."""
    result = DispatchResult()
    limit = min(limit or current_app.config.get("DISPATCH_BATCH_SIZE", 200), 200)
    result.recovered = recover_stuck()
    db.session.commit()
    rows = _take(limit)
    result.taken = len(rows)
    if not rows:
        db.session.commit()
        return result
    with db.session.no_autoflush, cached_texts():
        to_send = _prepare(rows, result)
    db.session.commit()  # blocks, deferrals and SENDING are durable before any provider call
    del rows  # the snapshots are enough now: let the identity map drop the rows (no expiry work per commit)
    if to_send:
        sms = sms or sms_provider()
        email = email or email_provider()
    relaxed = db.session.get_bind().dialect.name == "postgresql"
    for out in to_send:
        if relaxed:
            # Outcome commits need not wait for the disk: if the database server itself crashes before they
            # reach it, the row stays SENDING and is sent again after 10 minutes (at-least-once, same key).
            db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
        _send(out, sms, email, result, whatsapp)
        db.session.commit()
    return result
