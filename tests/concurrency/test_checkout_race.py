"""50 parallel checkouts of separate carts for one capacity-1 slot -> exactly one order (spec catalog.md §4.4).

The negative control switches the row lock off and must oversell, proving the test can see a race."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import Service
from app.catalog.policy import validate_slot_grid
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.extensions import db
from app.sales import cart_services, checkout_services, locks
from app.sales import services as sales_services
from app.sales.models import CartHold, Order, ServiceLine
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 50
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)


def prepare(app) -> list[str]:
    """One capacity-1 tub and 50 carts, each with an (expired) hold on Monday 14:00, committed."""
    with app.app_context():
        service = Service(
            name="Tina Calipso",
            base_price=25000,
            min_people=1,
            max_people=4,
            service_type="tina",
            duration_minutes=120,
            max_concurrent_bookings=1,
            slot_grid=validate_slot_grid({"monday": ["14:00"]}),
        )
        db.session.add(service)
        db.session.flush()
        tokens = []
        for _ in range(N):
            cart = cart_services.create_cart()
            db.session.add(
                CartHold(
                    cart=cart,
                    service_id=service.id,
                    date=NOW.date(),
                    time="14:00",
                    people=2,
                    unit_price=25000,
                    pricing_rule="por_persona",
                    subtotal=50000,
                    expires_at=NOW - timedelta(minutes=1),
                )
            )
            tokens.append(cart.token)
        db.session.commit()
        return tokens


def race(app, tokens, monkeypatch) -> tuple[int, list[str]]:
    """Run the checkouts in parallel threads; returns (orders for the slot, outcomes)."""
    # between the capacity check's read and the insert: without the slot lock every checkout has read a free slot
    # before any writes (certain); with it, the first waits 1 s once and the others follow one at a time
    rendezvous_in(
        monkeypatch, sales_services, "load_slot_context", N, after=True, all_arrive=not locks.SLOT_LOCKING_ENABLED
    )

    def checkout(i, start):
        start()
        checkout_services.checkout_cart(
            cart_services.get_cart(tokens[i]),
            checkout_services.CheckoutData(
                telefono=f"+569{60000000 + i:08d}",
                nombre=f"Cliente {i}",
                email=f"c{i}@example.com",
                metodo_pago="transferencia",
            ),
        )

    outcomes = run_concurrently(
        app,
        range(len(tokens)),
        checkout,
        lambda exc: "sin_cupo" if isinstance(exc, sales_services.SlotUnavailable) else None,
    )
    with app.app_context():
        orders = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(ServiceLine.order_id))).where(ServiceLine.status != "cancelada")
        )
        assert orders == db.session.scalar(sa.select(sa.func.count()).select_from(Order))
    return orders, outcomes


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def test_fifty_parallel_checkouts_sell_the_slot_once(pg_app, frozen, monkeypatch):
    orders, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert len(outcomes) == N
    assert outcomes.count("ok") == 1 and outcomes.count("sin_cupo") == N - 1, outcomes
    assert orders == 1


def test_negative_control_without_the_lock_oversells(pg_app, frozen, monkeypatch):
    monkeypatch.setattr(locks, "SLOT_LOCKING_ENABLED", False)
    orders, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    assert orders > 1, "without the row lock the race should oversell; the test could not see a race"
