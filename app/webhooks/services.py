"""Webhook endpoint administration (admin only, spec api.md §8). Services flush, never commit."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app

from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.webhooks.models import EVENTS, WebhookDelivery, WebhookEndpoint
from app.webhooks.netguard import UnsafeTarget, resolve


def new_secret() -> str:
    """32 random bytes, hex (64 characters)."""
    return secrets.token_hex(32)


def clean_url(raw: str | None) -> str:
    url = (raw or "").strip()
    if not url:
        raise ValidationError("Ingrese la URL del webhook.", field="url")
    if len(url) > 500:
        raise ValidationError("La URL admite hasta 500 caracteres.", field="url")
    parts = urlsplit(url)
    allowed = ("https", "http") if current_app.config.get("WEBHOOK_ALLOW_HTTP") else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise ValidationError("La URL debe comenzar con https:// y tener un dominio.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError("El puerto de la URL no es válido.", field="url") from None
    try:
        resolve(parts.hostname, port, strict=False)  # checked again, resolved, at every delivery
    except UnsafeTarget as exc:
        raise ValidationError(str(exc), field="url") from None
    return url


def clean_events(events) -> list[str]:
    chosen = [e for e in EVENTS if e in set(events or [])]
    unknown = set(events or []) - set(EVENTS)
    if unknown:
        raise ValidationError("Evento desconocido: " + ", ".join(sorted(unknown)) + ".", field="eventos")
    if not chosen:
        raise ValidationError("Elija al menos un evento.", field="eventos")
    return chosen


def create_endpoint(*, url: str, description: str = "", events, is_active: bool = True, by=None) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret; flushes; ValidationError for a bad URL or no events."""
    endpoint = WebhookEndpoint(
        url=clean_url(url),
        description=(description or "").strip()[:200],
        events=clean_events(events),
        is_active=is_active,
        secret=new_secret(),
        created_by_id=getattr(by, "id", None),
        created_at=clock.now(),
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(
    endpoint: WebhookEndpoint, *, url: str, description: str = "", events, is_active: bool
) -> WebhookEndpoint:
    """Change URL, description, events and the active switch (the secret stays); flushes."""
    endpoint.url = clean_url(url)
    endpoint.description = (description or "").strip()[:200]
    endpoint.events = clean_events(events)
    endpoint.is_active = is_active
    db.session.flush()
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret; deliveries sent from now on are signed with it; flushes."""
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = clock.now()
    db.session.flush()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log; flushes."""
    db.session.query(WebhookDelivery).filter(WebhookDelivery.endpoint_id == endpoint.id).delete(
        synchronize_session=False
    )
    db.session.delete(endpoint)
    db.session.flush()


def replay_delivery(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again with the same payload and event id: back to PENDING, due now, a fresh series of attempts."""
    if delivery.status == "SENDING":
        raise ValidationError("La entrega se está enviando en este momento; intente en un minuto.")
    delivery.status = "PENDING"
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    db.session.flush()
    return delivery
