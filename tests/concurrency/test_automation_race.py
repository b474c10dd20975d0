"""Two scheduler processes (threads with their own sessions) run the same automation for the same window on one
PostgreSQL database -> every message is queued once (communications.md §9: the leader lock, and the idempotency
keys with INSERT … ON CONFLICT DO NOTHING as the second safety net).

Negative controls: only one of two processes gets the leader lock; and the same selection written with a plain
check-then-insert into a table without a unique key duplicates the messages, proving the race is real."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

import sqlalchemy as sa

from app.automations import jobs
from app.automations.selection_queries import SMS, reminders
from app.clients.models import Client, ClientPreferences
from app.comms.models import CommunicationLog
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.extensions import db
from app.sales.models import Order, ServiceLine
from app.scheduler import Leader
from tests.concurrency.conftest import run_concurrently

ORDERS = 40
WORKERS = 4
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)


def prepare(app) -> None:
    """ORDERS orders with a line this afternoon (booked long ago), committed."""
    from app.catalog.models import Service
    from app.catalog.policy import validate_slot_grid

    with app.app_context():
        service = Service(
            name="Tina Calipso",
            base_price=25000,
            duration_minutes=120,
            min_people=1,
            max_people=4,
            service_type="tina",
            slot_grid=validate_slot_grid({"monday": ["17:00"]}),
        )
        db.session.add(service)
        db.session.flush()
        for i in range(ORDERS):
            client = Client(name=f"Cliente {i}", phone=f"+5699{i:07d}", email=f"c{i}@example.com", origin="seed")
            db.session.add(client)
            db.session.flush()
            db.session.add(ClientPreferences(client_id=client.id))
            order = Order(client_id=client.id, origin="recepcion", created_at=datetime(2026, 2, 1, tzinfo=LOCAL_TZ))
            db.session.add(order)
            db.session.flush()
            db.session.add(
                ServiceLine(
                    order_id=order.id,
                    service_id=service.id,
                    service_date=date(2026, 3, 2),
                    start_time="17:00",
                    people=1,
                    unit_price=25000,
                    pricing_rule="por_persona",
                    subtotal=25000,
                )
            )
        db.session.commit()


def test_two_schedulers_queue_each_reminder_once(pg_app):
    prepare(pg_app)
    clock.freeze(NOW)
    try:

        def run(_arg, start):
            start()
            jobs.booking_reminders()
            time.sleep(0.2)  # hold the transaction open: the others' inserts meet uncommitted keys

        outcomes = run_concurrently(pg_app, range(WORKERS), run)
    finally:
        clock.freeze(None)
    assert outcomes == ["ok"] * WORKERS
    with pg_app.app_context():
        keys = db.session.scalars(sa.select(CommunicationLog.idempotency_key)).all()
        assert len(keys) == 2 * ORDERS and len(set(keys)) == 2 * ORDERS


def test_only_one_process_holds_the_leader_lock(pg_app):
    first, second = Leader(pg_app), Leader(pg_app)
    try:
        assert first.acquire() is True
        assert second.acquire() is False  # retried every 30 s; it never runs a job meanwhile
        assert first.acquire() is True  # the holder keeps it (session-level lock on its own connection)
    finally:
        first.release()
        second.release()


def test_negative_control_without_keys_the_same_selection_duplicates(pg_app):
    """A check-then-insert into a table without a unique key (what the outbox would be without its key)."""
    prepare(pg_app)
    control = sa.Table("race_control", sa.MetaData(), sa.Column("idempotency_key", sa.String))
    with pg_app.app_context():
        control.create(db.engine)
    inserted = threading.Barrier(WORKERS)  # nobody commits before everybody checked and inserted: a certain race
    clock.freeze(NOW)
    try:

        def run(_arg, start):
            selection = reminders(clock.now(), SMS).subquery()
            start()
            db.session.execute(
                control.insert().from_select(
                    ["idempotency_key"],
                    sa.select(selection.c.idempotency_key).where(
                        ~sa.exists().where(control.c.idempotency_key == selection.c.idempotency_key)
                    ),
                )
            )
            inserted.wait(timeout=30)

        outcomes = run_concurrently(pg_app, range(WORKERS), run)
    finally:
        clock.freeze(None)
    assert outcomes == ["ok"] * WORKERS
    with pg_app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(control))
        distinct = db.session.scalar(sa.select(sa.func.count(sa.distinct(control.c.idempotency_key))))
    assert distinct == ORDERS and total > ORDERS  # duplicates: the race is real
