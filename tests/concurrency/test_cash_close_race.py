"""Parallel closes of the same cash day -> exactly one CashClose `cerrada`; the others get the 409 message
(spec reports.md §2.3).

Two guards: the day's advisory lock (a second close waits, then sees the first) and the partial unique index
(business_date WHERE status = 'cerrada'), which alone must still refuse the losers. The negative control switches
both off and must produce several closes of one day, proving the test can see a race."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.clients.models import Client
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.core.errors import ConflictError
from app.extensions import db
from app.sales import cash_queries, cash_services, locks
from app.sales.models import CashClose, Order, Payment
from app.sales.payment_services import ensure_payment_methods
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 8
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=LOCAL_TZ)
DAY = NOW.date()
CONFLICT = re.compile(r"^La caja del 02/03/2026 ya fue cerrada por cajero\d a las 18:00\.$")


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def prepare(app) -> list[int]:
    """N receptionists and one cash payment of the day, committed; returns the user ids."""
    with app.app_context():
        ensure_payment_methods()
        users = [User(username=f"cajero{i}", role="recepcion") for i in range(N)]
        client = Client(name="Cliente Caja", phone="+56990000001", origin="recepcion")
        db.session.add_all([*users, client])
        db.session.flush()
        order = Order(client_id=client.id, origin="recepcion")
        db.session.add(order)
        db.session.flush()
        db.session.add(
            Payment(order_id=order.id, amount=25000, method="efectivo", paid_at=NOW, recorded_by_id=users[0].id)
        )
        db.session.commit()
        return [u.id for u in users]


def race(app, user_ids, monkeypatch) -> tuple[int, list[str]]:
    """Every user closes the day at once; returns (closes `cerrada` of the day, outcomes)."""
    # between the check "not closed yet" and the insert: without the day lock every close has checked before any
    # inserts (certain); with it, the first close waits 1 s once and the others then find the day closed
    rendezvous_in(
        monkeypatch, cash_services, "expected_by_method", N, after=True, all_arrive=not locks.CASH_LOCKING_ENABLED
    )

    def close(uid, start):
        user = db.session.get(User, uid)
        counted = {ln.code: ln.expected for ln in cash_queries.expected_by_method(DAY)}
        db.session.rollback()  # start the close in a fresh transaction, as a request would
        start()
        cash_services.close_day(DAY, counted, "cierre", by=user)

    def outcome_of(exc):
        if isinstance(exc, ConflictError):
            return "conflict" if CONFLICT.match(exc.message) else f"bad message: {exc.message}"
        return None

    outcomes = run_concurrently(app, user_ids, close, outcome_of)
    with app.app_context():
        closed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CashClose)
            .where(CashClose.business_date == DAY, CashClose.status == "cerrada")
        )
        db.session.remove()
    return closed, outcomes


def test_parallel_closes_of_one_day_close_it_once(pg_app, frozen, monkeypatch):
    closed, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert len(outcomes) == N
    assert outcomes.count("ok") == 1 and outcomes.count("conflict") == N - 1, outcomes
    assert closed == 1


def test_unique_index_alone_refuses_the_losers(pg_app, frozen, monkeypatch):
    """Without the day lock every close passes the pre-check; the partial unique index still lets one win and the
    others get the same 409 message (IntegrityError inside a savepoint -> ConflictError)."""
    monkeypatch.setattr(locks, "CASH_LOCKING_ENABLED", False)
    closed, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert outcomes.count("ok") == 1 and outcomes.count("conflict") == N - 1, outcomes
    assert closed == 1


def test_negative_control_without_lock_and_index_closes_twice(pg_app, frozen, monkeypatch):
    monkeypatch.setattr(locks, "CASH_LOCKING_ENABLED", False)
    with pg_app.app_context():
        db.session.execute(sa.text("DROP INDEX uq_cash_closes_open_day"))
        db.session.commit()
        db.session.remove()
    closed, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert not any(o.startswith(("error", "bad")) for o in outcomes), outcomes
    assert closed > 1, "without the lock and the unique index the race should close the day twice"
