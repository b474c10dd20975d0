"""Queue webhook events in the changing transaction (spec api.md §8): one delivery per subscribed endpoint.

Services call `emit_event(...)` next to their audit entry; nothing is sent here (the dispatcher sends after
commit), so a rolled-back change leaves no delivery behind. Flushes, never commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa

from app.core import clock
from app.core.settings import data_version
from app.extensions import db
from app.web.fragments import cached_value
from app.webhooks.models import EVENTS, PING, WebhookDelivery, WebhookEndpoint


def _json_default(value):
    if isinstance(value, datetime):
        return clock.to_local(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def build_body(event: str, event_id: str, datos: dict) -> dict:
    """The body every receiver gets: {"id", "evento", "fecha", "datos"} (plain JSON values only)."""
    body = {"id": event_id, "evento": event, "fecha": clock.local_now().isoformat(timespec="seconds"), "datos": datos}
    return json.loads(json.dumps(body, default=_json_default))


def emit_event(event: str, datos: dict | Callable[[], dict]) -> list[WebhookDelivery]:
    """Queue `event` for every active endpoint subscribed to it, in the current transaction; flushes.

    `datos` may be a callable so callers pay for building the payload (e.g. the order representation) only when
    somebody listens. Returns the queued deliveries (one event id shared by all of them).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = [endpoint_id for endpoint_id, events in _active_endpoints() if event in events]
    if not endpoints:
        return []
    data = datos() if callable(datos) else datos
    return queue(endpoints, event, data)


def _active_endpoints() -> list[tuple[int, tuple]]:
    """(id, events) of the active endpoints, read once per data version and process (issue 20: every order emits;
    endpoints change a few times a year, and app.catalog.version bumps the version in the same transaction)."""

    def load():
        rows = db.session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.is_active))
        return [(e.id, tuple(e.events or ())) for e in rows]

    return cached_value("webhook-endpoints", data_version(), "active", load)


def queue(endpoints, event: str, datos: dict) -> list[WebhookDelivery]:
    """Insert one PENDING delivery per endpoint (an endpoint or its id) with one shared event id; flushes."""
    event_id = str(uuid.uuid4())
    body = build_body(event, event_id, datos)
    now = clock.now()
    deliveries = [
        WebhookDelivery(
            endpoint_id=getattr(e, "id", e),
            event=event,
            event_id=event_id,
            payload=body,
            status="PENDING",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for e in endpoints
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    return deliveries


def queue_ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The admin's "Enviar prueba": a `ping` delivery to one endpoint (active or not); flushes."""
    datos = {"mensaje": "Prueba de webhook de Aremko", "endpoint": {"id": endpoint.id, "url": endpoint.url}}
    event_id = str(uuid.uuid4())
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event=PING,
        event_id=event_id,
        payload=build_body(PING, event_id, datos),
        status="PENDING",
        attempts=0,
        next_attempt_at=clock.now(),
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery


def emit_message_failed(
    *, message_id: int, message_type: str, channel: str, client_id: int | None, reason: str | None
) -> list[WebhookDelivery]:
    """`message.failed` for an outbox message that reached FAILED (called by the communications dispatcher)."""
    return emit_event(
        "message.failed",
        {
            "comunicacion": {
                "id": message_id,
                "tipo": message_type,
                "canal": channel,
                "cliente": client_id,
                "motivo": reason,
            }
        },
    )


def giftcard_datos(card, *, amount: int, order_id: int | None) -> dict:
    """`giftcard.redeemed` payload: the card, the amount redeemed, the balance left and the order."""
    return {
        "giftcard": {"codigo": card.code, "monto_redimido": amount, "saldo": card.balance, "venta_reserva": order_id}
    }


def message_failed_from_log(log) -> list[WebhookDelivery]:
    """Called by the communications outbox for a CommunicationLog that became FAILED -> `message.failed`."""
    return emit_message_failed(
        message_id=log.id,
        message_type=log.message_type,
        channel=log.communication_type,
        client_id=log.client_id,
        reason=log.reason or log.last_error,
    )
