"""The webhook outbox dispatcher (job `dispatch_webhooks`, every minute; spec api.md §8).

1. Claim due rows in a short transaction: `FOR UPDATE SKIP LOCKED`, status SENDING, attempts + 1 and a lease
   (a second scheduler process skips them; a crashed sender's rows come back when the lease ends). Commit.
2. POST each one outside any transaction (10 s timeout, signed).
3. Record the outcome in its own transaction: 2xx = DELIVERED; otherwise PENDING again after 1 min, 5 min,
   30 min, 2 h, 12 h; FAILED after attempt 6.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import sqlalchemy as sa

from app.core import clock
from app.extensions import db
from app.webhooks.models import WebhookDelivery
from app.webhooks.sender import SendResult, get_sender, signed_headers

log = logging.getLogger(__name__)
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(minutes=5)
BATCH_SIZE = 100
# Tests switch this off to show that without the row lock two dispatchers send a delivery twice (negative control).
LOCKING_ENABLED = True


def next_delay(attempts: int) -> timedelta | None:
    """Wait before the next attempt after `attempts` failed ones; None = give up (FAILED)."""
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts < MAX_ATTEMPTS else None


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def claim(limit: int = BATCH_SIZE, only_ids: list[int] | None = None) -> list[int]:
    """Mark due deliveries SENDING under `SKIP LOCKED` and commit; returns their ids."""
    now = clock.now()
    stmt = (
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.status.in_(("PENDING", "SENDING")), WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if only_ids is not None:
        stmt = stmt.where(WebhookDelivery.id.in_(only_ids))
    if LOCKING_ENABLED:
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(stmt))
    if ids:
        mark_sending(ids, now)
    db.session.commit()
    return ids


def mark_sending(ids: list[int], now) -> None:
    db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(status="SENDING", attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )


def send(*, url: str, secret: str, event: str, event_id: str, payload: dict, sender) -> SendResult:
    """POST one signed body (no database access)."""
    body = body_bytes(payload)
    timestamp = int(clock.now().timestamp())
    headers = signed_headers(secret=secret, event=event, event_id=event_id, timestamp=timestamp, body=body)
    try:
        return sender.post(url, body, headers)
    except Exception as exc:  # an adapter bug must not stop the batch
        log.exception("webhook delivery %s failed to send", event_id)
        return SendResult(None, error=f"{type(exc).__name__}: {exc}"[:500])


def record(delivery: WebhookDelivery, result: SendResult) -> None:
    """Store the outcome of the attempt just made and schedule the next one; flushes."""
    now = clock.now()
    delivery.last_status_code = result.status_code
    delivery.response_excerpt = (result.text or "")[:500] or None
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.last_error = "DELIVERED", now, None
    else:
        delivery.last_error = (result.error or f"HTTP {result.status_code}")[:500]
        delay = next_delay(delivery.attempts)
        if delay is None:
            delivery.status = "FAILED"
        else:
            delivery.status, delivery.next_attempt_at = "PENDING", now + delay
    db.session.flush()


def dispatch(limit: int = BATCH_SIZE, only_ids: list[int] | None = None) -> dict[str, int]:
    """Claim, send and record due deliveries; commits after the claim and after each delivery."""
    sender = get_sender()
    counts = {"DELIVERED": 0, "PENDING": 0, "FAILED": 0}
    for delivery_id in claim(limit, only_ids):
        delivery = db.session.get(WebhookDelivery, delivery_id)
        endpoint = delivery.endpoint
        job = {
            "url": endpoint.url,
            "secret": endpoint.secret,
            "event": delivery.event,
            "event_id": delivery.event_id,
            "payload": delivery.payload,
        }
        db.session.commit()  # no transaction stays open during the HTTP call
        result = send(**job, sender=sender)
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:  # its endpoint was deleted meanwhile
            db.session.commit()
            continue
        record(delivery, result)
        status = delivery.status
        db.session.commit()
        counts[status] += 1
    return counts


def dispatch_webhooks() -> str:
    """Job `dispatch_webhooks` (every minute)."""
    counts = dispatch()
    return f"{counts['DELIVERED']} webhooks entregados, {counts['PENDING']} reprogramados, {counts['FAILED']} fallidos"
