"""Two (or more) dispatchers at once on PostgreSQL never send a row twice: `FOR UPDATE SKIP LOCKED` plus the
SENDING commit before the provider call (communications.md §6). The negative control takes rows without the lock
and must produce duplicates, proving the test can see a race."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.comms import dispatch_services as dispatcher
from app.comms.models import CommunicationLog
from app.comms.outbox_services import enqueue
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.extensions import db
from tests.concurrency.conftest import run_concurrently

ROWS = 120
WORKERS = 4
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL_TZ)


class CountingSms:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = Counter()

    def send_sms(self, phone, text, label, commercial, client_id=None, with_reply=True):
        with self.lock:
            self.sent[label] += 1
        return {"provider_id": label}


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def prepare(app) -> None:
    with app.app_context():
        for i in range(ROWS):
            enqueue(
                message_type="OTHER",
                channel="SMS",
                idempotency_key=f"staff:race:{i}",
                destination=f"+5698{i:07d}",
                triggered_by="test",
                payload={"text": f"Mensaje {i}"},
            )
        db.session.commit()


def race(app, limit: int, *, strict: bool = True) -> CountingSms:
    sms = CountingSms()

    def action(_arg, start):
        start()
        dispatcher.dispatch_outbox(limit, sms=sms, email=object())

    outcomes = run_concurrently(app, list(range(WORKERS)), action)
    if strict:
        assert outcomes == ["ok"] * WORKERS, outcomes
    return sms


def test_concurrent_dispatchers_send_each_row_once(pg_app, frozen):
    prepare(pg_app)
    sms = race(pg_app, 40)
    with pg_app.app_context():
        statuses = Counter(db.session.scalars(sa.select(CommunicationLog.status)))
        # whatever the first wave left behind goes in a second, sequential run
        dispatcher.dispatch_outbox(200, sms=sms)
        final = Counter(db.session.scalars(sa.select(CommunicationLog.status)))
    assert statuses["SENT"] >= 40
    assert final == {"SENT": ROWS}
    assert len(sms.sent) == ROWS and max(sms.sent.values()) == 1


def test_negative_control_without_row_locks_sends_twice(pg_app, frozen, monkeypatch):
    original = dispatcher._take

    def unlocked(limit):
        with one_at_a_time:  # no worker reads while another still holds the row locks: none of them skips a row
            rows = original(limit)  # same selection…
            db.session.commit()  # …but the locks are dropped at once, as without FOR UPDATE SKIP LOCKED
        barrier.wait(timeout=30)  # every worker has read the same PENDING rows
        return rows

    one_at_a_time = threading.Lock()
    barrier = threading.Barrier(WORKERS)
    monkeypatch.setattr(dispatcher, "_take", unlocked)
    prepare(pg_app)
    sms = race(pg_app, ROWS, strict=False)  # unlocked writers may also deadlock: only duplicates matter here
    assert sms.sent and max(sms.sent.values()) > 1, sms.sent
