"""A payment and the close of the same cash day (spec reports.md §2.3): the payment waits for a close in progress
and then sees it (recepcion refused, gerente flagged "posterior al cierre"), so no payment lands in a closed day
unseen. Payments take the day's lock shared, so they never wait for each other (the gift-card race still
overdraws without its row lock). The negative control switches the lock off: the payment slips in during the
close and is counted by nobody."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.clients.models import Client
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.core.errors import ValidationError
from app.extensions import db
from app.sales import cash_queries, cash_services, locks
from app.sales.models import CashClose, Order, Payment
from app.sales.payment_services import ensure_payment_methods, record_payment

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=LOCAL_TZ)
DAY = NOW.date()


def prepare(app) -> tuple[int, int, int]:
    with app.app_context():
        ensure_payment_methods()
        desk, manager = User(username="cajera", role="recepcion"), User(username="jefa", role="gerente")
        client = Client(name="Cliente Caja", phone="+56990000002", origin="recepcion")
        db.session.add_all([desk, manager, client])
        db.session.flush()
        order = Order(client_id=client.id, origin="recepcion", total=50000, balance_due=50000)
        db.session.add(order)
        db.session.commit()
        return desk.id, manager.id, order.id


def waits_for_a_lock(worker: threading.Thread) -> bool:
    """True as soon as a session of this database waits for a lock (the payment, behind the close); False once the
    payment finished without waiting. Watched from a connection of its own, so no fixed sleep decides it."""
    deadline = time.monotonic() + 30
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:  # a fresh snapshot each time
        while time.monotonic() < deadline:
            if not worker.is_alive():
                return False
            waiting = watcher.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            if waiting:
                return True
            time.sleep(0.01)
    raise AssertionError("the payment neither finished nor waited for a lock within 30 s")


def pay_during_close(app, payer_id: int, order_id: int) -> tuple[str, bool]:
    """The close holds the day lock while a payment is attempted; returns (payment outcome, payment waited)."""
    outcome: list[str] = []

    def pay():
        with app.app_context():
            try:
                record_payment(
                    db.session.get(Order, order_id), amount=10000, method="efectivo", by=db.session.get(User, payer_id)
                )
                db.session.commit()
                outcome.append("ok")
            except ValidationError as exc:
                db.session.rollback()
                outcome.append(exc.message)
            finally:
                db.session.remove()

    with app.app_context():
        manager = db.session.scalar(sa.select(User).where(User.username == "jefa"))
        counted = {line.code: line.expected for line in cash_queries.expected_by_method(DAY)}
        cash_services.close_day(DAY, counted, None, by=manager)  # the close is written, not yet committed
        worker = threading.Thread(target=pay)
        worker.start()
        waited = waits_for_a_lock(worker)
        db.session.commit()
        db.session.remove()
    worker.join(timeout=10)
    return outcome[0], waited


def state(app):
    with app.app_context():
        close = db.session.scalar(sa.select(CashClose).where(CashClose.business_date == DAY))
        expected_cash = sum(line.expected for line in close.lines if line.method_code == "efectivo")
        payments = db.session.scalars(sa.select(Payment).where(Payment.status == "valido")).all()
        return expected_cash, [(p.amount, p.after_close) for p in payments]


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def test_a_receptionist_payment_waits_for_the_close_and_is_refused(pg_app, frozen):
    desk_id, _, order_id = prepare(pg_app)
    outcome, waited = pay_during_close(pg_app, desk_id, order_id)
    assert waited, "the payment should wait for the close in progress"
    assert outcome == "La caja del 02/03/2026 está cerrada."
    assert state(pg_app) == (0, [])


def test_a_manager_payment_waits_and_is_flagged_after_the_close(pg_app, frozen):
    _, manager_id, order_id = prepare(pg_app)
    outcome, waited = pay_during_close(pg_app, manager_id, order_id)
    assert waited and outcome == "ok"
    assert state(pg_app) == (0, [(10000, True)])  # not in the close, but visibly "posterior al cierre"


def test_negative_control_without_the_lock_the_payment_slips_into_the_closed_day(pg_app, frozen, monkeypatch):
    monkeypatch.setattr(locks, "CASH_LOCKING_ENABLED", False)
    desk_id, _, order_id = prepare(pg_app)
    outcome, waited = pay_during_close(pg_app, desk_id, order_id)
    assert not waited and outcome == "ok"
    expected_cash, payments = state(pg_app)
    assert expected_cash == 0 and payments == [(10000, False)]  # money in a closed day that nobody counted
