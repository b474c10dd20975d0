"""Read side of the webhook page: endpoints and the filtered delivery log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core.clock import LOCAL_TZ
from app.web.params import parse_id
from app.webhooks.models import DELIVERY_STATUSES, EVENTS, PING, WebhookDelivery, WebhookEndpoint


def endpoints_statement() -> sa.Select:
    return sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def delivery_filters(args) -> dict:
    """The filters that apply, from query-string values (bad values are ignored, never a 500)."""
    out = {}
    if args.get("estado") in DELIVERY_STATUSES:
        out["estado"] = args["estado"]
    if args.get("evento") in (*EVENTS, PING):
        out["evento"] = args["evento"]
    if parse_id(args.get("webhook")):
        out["webhook"] = parse_id(args["webhook"])
    for key in ("desde", "hasta"):
        if _day(args.get(key)):
            out[key] = args[key]
    return out


def deliveries_statement(filters: dict) -> sa.Select:
    stmt = (
        sa.select(WebhookDelivery)
        .options(joinedload(WebhookDelivery.endpoint))
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )
    if "estado" in filters:
        stmt = stmt.where(WebhookDelivery.status == filters["estado"])
    if "evento" in filters:
        stmt = stmt.where(WebhookDelivery.event == filters["evento"])
    if "webhook" in filters:
        stmt = stmt.where(WebhookDelivery.endpoint_id == filters["webhook"])
    if "desde" in filters:
        stmt = stmt.where(WebhookDelivery.created_at >= datetime.combine(_day(filters["desde"]), time(), LOCAL_TZ))
    if "hasta" in filters:
        end = datetime.combine(_day(filters["hasta"]) + timedelta(days=1), time(), LOCAL_TZ)
        stmt = stmt.where(WebhookDelivery.created_at < end)
    return stmt
