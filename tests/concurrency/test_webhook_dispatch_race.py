"""Two scheduler processes dispatching at once send every webhook delivery exactly once (spec api.md §8).

Claims use `FOR UPDATE SKIP LOCKED`; the negative control switches that off and must double-send, proving the
test can see a race. Both dispatchers wait at a rendezvous between their read and their mark: without the lock both
have read every row before either marks one (certain, not timing-dependent); with it, the first holds its row locks
while the other reads and skips them."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from app.extensions import db
from app.webhooks import dispatch_services as dispatcher
from app.webhooks.event_services import emit_event
from app.webhooks.models import WebhookDelivery
from app.webhooks.sender import FAKE
from app.webhooks.services import create_endpoint
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 30
DISPATCHERS = 2


def prepare(app) -> None:
    FAKE.reset()
    with app.app_context():
        create_endpoint(url="https://n8n.example.com/a", events=["message.failed"])
        create_endpoint(url="https://n8n.example.com/b", events=["message.failed"])
        for i in range(N // 2):
            emit_event("message.failed", {"comunicacion": {"id": i}})
        db.session.commit()


def race(app, monkeypatch) -> list[str]:
    # between the select and the mark (a dispatcher that skipped every row never marks: the other waits 1 s once)
    rendezvous_in(monkeypatch, dispatcher, "mark_sending", DISPATCHERS, all_arrive=not dispatcher.LOCKING_ENABLED)

    def run(_n, start):
        start()
        dispatcher.dispatch()

    return run_concurrently(app, list(range(DISPATCHERS)), run)


def sent_per_delivery() -> Counter:
    return Counter((r.url, r.headers["X-Aremko-Delivery"]) for r in FAKE.requests)


def test_two_dispatchers_send_each_delivery_once(pg_app, monkeypatch):
    prepare(pg_app)
    outcomes = race(pg_app, monkeypatch)
    assert outcomes == ["ok"] * DISPATCHERS, outcomes
    sent = sent_per_delivery()
    assert len(sent) == N and set(sent.values()) == {1}
    with pg_app.app_context():
        rows = db.session.execute(sa.select(WebhookDelivery.status, WebhookDelivery.attempts)).all()
    assert rows and all(r == ("DELIVERED", 1) for r in rows) and len(rows) == N
    FAKE.reset()


def test_negative_control_without_skip_locked_sends_twice(pg_app, monkeypatch):
    prepare(pg_app)
    monkeypatch.setattr(dispatcher, "LOCKING_ENABLED", False)
    outcomes = race(pg_app, monkeypatch)
    assert outcomes == ["ok"] * DISPATCHERS, outcomes
    assert max(sent_per_delivery().values()) > 1
    FAKE.reset()
