"""Factories for the automation tests: orders with service lines written directly (availability is not the subject
here), frozen local time, and a look at the outbox."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.core.clock import LOCAL_TZ


def local(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


@pytest.fixture
def service(make_service):
    return make_service(name="Tina Calipso")


@pytest.fixture
def make_order(db_session, make_client, service):
    """make_order(client=None, lines=[(date, "HH:MM")], created_at=None, cancelled=False, line_status="pendiente",
    paid=0) -> Order (totals from the lines)."""
    from app.core import clock
    from app.sales.models import Order, ServiceLine

    def factory(
        client=None,
        lines=((date(2026, 3, 3), "14:00"),),
        created_at=None,
        cancelled=False,
        line_status="pendiente",
        paid=0,
        svc=None,
        **order_kw,
    ):
        client = client or make_client()
        created = created_at or clock.now()
        total = 25000 * len(lines)
        order = Order(
            client_id=client.id,
            origin="recepcion",
            created_at=created,
            sold_at=created,
            total=total,
            services_total=total,
            paid=paid,
            balance_due=total - paid,
            payment_status="pagado" if paid >= total else "parcial" if paid else "pendiente",
            cancelled_at=created if cancelled else None,
            **order_kw,
        )
        db_session.add(order)
        db_session.flush()
        for day, hhmm in lines:
            db_session.add(
                ServiceLine(
                    order_id=order.id,
                    service_id=(svc or service).id,
                    service_date=day,
                    start_time=hhmm,
                    people=1,
                    unit_price=25000,
                    pricing_rule="por_persona",
                    subtotal=25000,
                    status=line_status,
                )
            )
        db_session.flush()
        db_session.expire(order)
        return order

    return factory


@pytest.fixture
def outbox(db_session):
    """outbox(message_type=None) -> rows ordered by key."""
    from app.comms.models import CommunicationLog

    def rows(message_type: str | None = None):
        stmt = sa.select(CommunicationLog).order_by(CommunicationLog.idempotency_key)
        if message_type:
            stmt = stmt.where(CommunicationLog.message_type == message_type)
        return db_session.scalars(stmt).all()

    return rows


@pytest.fixture
def consent(db_session):
    """consent(client, **switches) sets ClientPreferences switches."""

    def set_(client, **switches):
        for key, value in switches.items():
            setattr(client.preferences, key, value)
        db_session.flush()

    return set_
