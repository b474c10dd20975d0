from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.webhooks.models import EVENTS, WebhookDelivery
from app.webhooks.sender import FAKE


@pytest.fixture
def fake_sender():
    FAKE.reset()
    yield FAKE
    FAKE.reset()


@pytest.fixture
def make_endpoint(db_session):
    from app.webhooks.services import create_endpoint

    def factory(events=tuple(EVENTS), url="https://n8n.example.com/webhook/aremko", **kw):
        return create_endpoint(url=url, events=list(events), **kw)

    return factory


@pytest.fixture
def deliveries(db_session):
    """deliveries(event=None) -> the queued deliveries (optionally of one event), oldest first."""

    def read(event: str | None = None) -> list[WebhookDelivery]:
        stmt = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
        if event:
            stmt = stmt.where(WebhookDelivery.event == event)
        return list(db_session.scalars(stmt))

    return read
