"""The sales core's signals run their receivers inside the sender's transaction (docs/ARCHITECTURE.md §1): the
outbox rows the automation rules write are committed or rolled back with the sale that caused them. Read back
through a second connection on PostgreSQL, after the sender's transaction has ended.

Negative control: a receiver that writes outside the sender's transaction (its own connection, autocommit) leaves
its row behind after the rollback — which is what this check would see if a receiver ever escaped the
transaction (an after-commit hook, a thread, a second session)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.catalog.models import Service
from app.catalog.policy import validate_slot_grid
from app.comms.models import CommunicationLog
from app.core import clock
from app.extensions import db
from app.sales import checkout_services, signals
from app.sales.models import Order
from app.sales.services import LineRequest

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.fixture
def tub(pg_app):
    with pg_app.app_context():
        service = Service(
            name="Tina Calipso",
            base_price=25000,
            min_people=1,
            max_people=4,
            service_type="tina",
            duration_minutes=120,
            max_concurrent_bookings=1,
            slot_grid=validate_slot_grid({day: ["14:00"] for day in WEEKDAYS}),
        )
        db.session.add(service)
        db.session.commit()
        return service.id


def _place(service_id: int) -> Order:
    data = checkout_services.CheckoutData(
        nombre="Camila Rojas", telefono="+56987654321", email="camila@example.com", metodo_pago="transferencia"
    )
    line = LineRequest(service_id=service_id, day=clock.today() + timedelta(days=3), hhmm="14:00", people=2)
    return checkout_services.place_order(lines=[line], data=data, origin="telefono", staff=True)


def _count(app, table: str) -> int:
    """Rows of `table` as a second connection sees them (only what was committed)."""
    with app.app_context(), db.engine.connect() as other:
        return other.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_receivers_write_in_the_senders_transaction_and_roll_back_with_it(pg_app, tub):
    with pg_app.app_context():
        order = _place(tub)
        queued = db.session.scalars(sa.select(CommunicationLog).where(CommunicationLog.order_id == order.id)).all()
        assert {row.message_type for row in queued} == {"BOOKING_CONFIRMATION"}  # the order_placed receiver ran
        assert _count(pg_app, "communication_logs") == 0  # … in this transaction: nobody else sees it yet
        db.session.rollback()
    assert _count(pg_app, "orders") == 0
    assert _count(pg_app, "communication_logs") == 0  # gone with the order


def test_committed_sale_keeps_its_outbox_rows(pg_app, tub):
    with pg_app.app_context():
        _place(tub)
        db.session.commit()
    assert _count(pg_app, "orders") == 1
    assert _count(pg_app, "communication_logs") == 2  # SMS and e-mail confirmation


def test_negative_control_a_receiver_outside_the_transaction_survives_the_rollback(pg_app, tub):
    def escaping_receiver(order, **_):
        with Session(db.engine) as own:  # its own session and connection: not the sender's transaction
            own.add(
                CommunicationLog(
                    communication_type="SMS",
                    message_type="BOOKING_CONFIRMATION",
                    idempotency_key=f"escaped:{order.id}",
                    triggered_by="test",
                )
            )
            own.commit()

    signals.order_placed.connect(escaping_receiver)
    try:
        with pg_app.app_context():
            _place(tub)
            db.session.rollback()
    finally:
        signals.order_placed.disconnect(escaping_receiver)
    assert _count(pg_app, "orders") == 0
    assert _count(pg_app, "communication_logs") == 1  # the escaped row stayed: the check above would catch it
