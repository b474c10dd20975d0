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
from app.comms.eligibility import current_limits, prefs_dict
from app.comms.models import CommunicationLog
from app.comms.policy import (
    EMAIL,
    MARKETING_TYPES,
    SENT_STATUSES,
    SMS,
    SUPPRESSION_CHANNEL,
    Facts,
    decide,
    is_marketing,
    retry_delay,
    sms_info,
    strip_sms_accents,
)
from app.comms.providers import ProviderError, email_provider, sms_provider
from app.comms.render import list_unsubscribe_headers, render
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
        return (f"{self.taken} tomados: {self.sent} enviados, {self.blocked} bloqueados, {self.deferred} diferidos, "
                f"{self.retried} reintentos, {self.failed} fallidos, {self.recovered} recuperados")


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
        .values(status="PENDING", not_before=now, sent_at=None, updated_at=now,
                last_error="Reenvío: el proceso anterior no confirmó el envío")
    )
    return result.rowcount or 0


def _take(limit: int) -> list[CommunicationLog]:
    now = clock.now()
    marketing_last = sa.case((CommunicationLog.message_type.in_(MARKETING_TYPES), 1), else_=0)
    stmt = (
        sa.select(CommunicationLog)
        .where(CommunicationLog.status == "PENDING", CommunicationLog.not_before <= now,
               CommunicationLog.communication_type.in_((SMS, EMAIL)))
        .order_by(marketing_last, CommunicationLog.not_before, CommunicationLog.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=CommunicationLog)
    )
    return list(db.session.scalars(stmt))


def resolve_destination(row: CommunicationLog) -> str | None:
    """The row's fixed destination, else e-mail: order contact e-mail, else client e-mail; SMS: client phone."""
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
    prefs = {}
    if client_ids:
        prefs = {p.client_id: prefs_dict(p) for p in db.session.scalars(
            sa.select(ClientPreferences).where(ClientPreferences.client_id.in_(client_ids)))}
        db.session.scalars(sa.select(Client).where(Client.id.in_(client_ids))).all()  # fill the identity map
    wanted = {(SUPPRESSION_CHANNEL[r.communication_type], destinations[r.id]) for r in rows if destinations[r.id]}
    suppressed = set()
    if wanted:
        suppressed = set(db.session.execute(
            sa.select(Suppression.channel, Suppression.destination)
            .where(Suppression.destination.in_({d for _, d in wanted}))).tuples())
    sent: dict[tuple[int, str], list] = defaultdict(list)
    marketing_clients = {r.client_id for r in rows if r.client_id and is_marketing(r.message_type)}
    if marketing_clients:
        since = clock.now() - timedelta(days=32)
        for cid, channel, sent_at in db.session.execute(
            sa.select(CommunicationLog.client_id, CommunicationLog.communication_type, CommunicationLog.sent_at)
            .where(CommunicationLog.client_id.in_(marketing_clients),
                   CommunicationLog.message_type.in_(MARKETING_TYPES),
                   CommunicationLog.status.in_(SENT_STATUSES), CommunicationLog.sent_at >= since)
        ):
            sent[(cid, channel)].append(sent_at)
    return prefs, suppressed, sent


def _prepare(rows: list[CommunicationLog], result: DispatchResult) -> list[CommunicationLog]:
    """Gatekeeper, pre-send hooks and rendering for the locked rows; returns those to send (now SENDING)."""
    now = clock.now()
    limits = current_limits()
    destinations = {r.id: resolve_destination(r) for r in rows}
    prefs, suppressed, sent = _load_context(rows, destinations)
    strip = current_app.config.get("SMS_STRIP_ACCENTS", True)
    cost_per_segment = current_app.config.get("SMS_COST_CLP", 12)
    to_send = []
    for row in rows:
        destination = destinations[row.id]
        channel = row.communication_type
        facts = Facts(
            message_type=row.message_type, channel=channel, destination=destination,
            has_client=row.client_id is not None, prefs=prefs.get(row.client_id),
            suppressed=(SUPPRESSION_CHANNEL[channel], destination) in suppressed,
            is_mobile=bool(destination) and channel == SMS and is_mobile(destination),
            expires_at=row.expires_at, relevance=_relevance(row), force=row.force_send,
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
            with db.session.begin_nested():
                for hook in hooks.pre_send_hooks(row.message_type):
                    hook(row)
                rendered = render(row)
        except Exception as exc:  # a rendering bug must not stop the batch: retried, then FAILED
            log.exception("render failed for communication %s", row.id)
            row.attempts += 1
            _temporary_failure(row, f"Error al preparar el mensaje: {type(exc).__name__}: {exc}", result)
            continue
        row.subject = rendered.subject
        if channel == SMS:
            text = strip_sms_accents(rendered.text) if strip else rendered.text
            info = sms_info(text)
            row.content, row.segments, row.cost = text, info.segments, info.segments * cost_per_segment
        else:
            row.content, row.segments, row.cost = rendered.html or rendered.text, None, 0
        row._rendered = rendered  # kept in memory for the provider call (text part, attachments)
        row.status, row.attempts, row.sent_at = "SENDING", row.attempts + 1, now
        if row.client_id and is_marketing(row.message_type):
            sent[(row.client_id, channel)].append(now)
        to_send.append(row)
    return to_send


def _temporary_failure(row: CommunicationLog, message: str, result: DispatchResult) -> None:
    now = clock.now()
    row.last_error = message
    row.sent_at = None
    delay = retry_delay(row.attempts)
    if delay is None:
        _fail(row, message, result)
        return
    row.status, row.not_before = "PENDING", now + delay
    result.retried += 1


def _fail(row: CommunicationLog, message: str, result: DispatchResult) -> None:
    row.status, row.failed_at, row.last_error, row.sent_at = "FAILED", clock.now(), message, None
    result.failed += 1
    hooks.on_message_failed(row)


def _call_provider(row: CommunicationLog, sms, email) -> dict:
    rendered = row._rendered
    if row.communication_type == SMS:
        return sms.send_sms(row.destination, row.content, label=f"{row.message_type}:{row.id}",
                            commercial=is_marketing(row.message_type), client_id=row.client_id)
    cfg = current_app.config
    marketing = is_marketing(row.message_type)
    headers = list_unsubscribe_headers(row) if marketing else {}
    return email.send_email(
        row.destination, rendered.subject or "", rendered.text, rendered.html, headers, rendered.attachments,
        from_addr=cfg["DEFAULT_FROM_EMAIL"] if marketing else cfg["VENTAS_FROM_EMAIL"],
        reply_to=cfg["VENTAS_FROM_EMAIL"], message_id=message_id_for(row.idempotency_key),
    )


def _add_bounce_suppression(row: CommunicationLog) -> None:
    from app.comms.consent import suppress

    suppress(channel=SUPPRESSION_CHANNEL[row.communication_type], destination=row.destination,
                         reason="bounce", client=row.client)


def _send(row: CommunicationLog, sms, email, result: DispatchResult) -> None:
    try:
        answer = _call_provider(row, sms, email)
    except ProviderError as exc:
        row.provider_response = exc.response if isinstance(exc.response, dict) else None
        if exc.permanent:
            _fail(row, exc.message, result)
            if exc.bounce and row.communication_type == EMAIL:
                _add_bounce_suppression(row)
        else:
            _temporary_failure(row, exc.message, result)
        return
    except Exception as exc:  # an adapter bug is treated as temporary (retried, then FAILED)
        log.exception("provider call failed for communication %s", row.id)
        _temporary_failure(row, f"{type(exc).__name__}: {exc}", result)
        return
    row.status, row.sent_at, row.reason = "SENT", clock.now(), None
    row.external_id = str(answer.get("provider_id") or "") or None
    response = answer.get("response")
    row.provider_response = response if isinstance(response, dict) else {"provider_id": row.external_id}
    result.sent += 1


def dispatch_outbox(limit: int | None = None, *, sms=None, email=None) -> DispatchResult:
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
    to_send = _prepare(rows, result)
    db.session.commit()  # blocks, deferrals and SENDING are durable before any provider call
    if to_send:
        sms = sms or sms_provider()
        email = email or email_provider()
    for row in to_send:
        _send(row, sms, email, result)
        db.session.commit()
    return result
