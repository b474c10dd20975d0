"""Two processes offering the same freed place (e.g. the expiry job and a cancellation's receiver) give exactly one
offer (self-service.md §4: one offer per freed place, decided under the service-day lock).

The negative control switches the booking lock off and must offer the place twice, proving the test sees a race."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.catalog.models import Service
from app.catalog.policy import validate_slot_grid
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.extensions import db
from app.sales import locks
from app.sales.checkout_services import CheckoutData, place_order
from app.sales.models import CartHold, ServiceLine
from app.sales.services import LineRequest
from app.waitlist import services as waitlist
from app.waitlist.models import WaitlistEntry
from tests.concurrency.conftest import rendezvous_in, run_concurrently

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)
DAY = date(2026, 3, 2)
N = 2  # two schedulers / processes


def prepare(app) -> int:
    """A capacity-1 tub whose 14:00 was booked (then the booking was cancelled, freeing the place) and two waiting
    entries, committed. Returns the service id."""
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
        order = place_order(
            lines=[LineRequest(service_id=service.id, day=DAY, hhmm="14:00", people=1)],
            data=CheckoutData(telefono="+56911111111", nombre="Ocupa Cupo"),
            origin="recepcion",
            staff=True,
        )
        for phone in ("+56922222222", "+56933333333"):
            waitlist.join_waitlist(
                waitlist.JoinData(
                    nombre="En Espera",
                    telefono=phone,
                    servicio_id=service.id,
                    fecha=DAY,
                    hora="14:00",
                    cantidad_personas=1,
                    acepta_contacto=True,
                )
            )
        order.service_lines[0].status = "cancelada"  # the place frees without a signal: the processes decide
        db.session.commit()
        return service.id


def race(app, service_id, monkeypatch) -> tuple[int, list[str], list[str]]:
    # between reading the free place (and the first waiting entry) and writing the offer: without the lock both
    # have read them before either writes (certain); with it the second reads only after the first committed
    rendezvous_in(monkeypatch, waitlist, "_make_offer", N, all_arrive=not locks.SLOT_LOCKING_ENABLED)

    def offer(_i, start):
        start()
        waitlist.offer_freed(service_id, DAY)

    outcomes = run_concurrently(app, range(N), offer)
    with app.app_context():
        holds = db.session.scalar(
            sa.select(sa.func.count()).select_from(CartHold).where(CartHold.service_id == service_id)
        )
        states = list(db.session.scalars(sa.select(WaitlistEntry.status).order_by(WaitlistEntry.id)))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceLine)) == 1
    return holds, states, outcomes


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def test_two_processes_give_one_offer(pg_app, frozen, monkeypatch):
    holds, states, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert outcomes == ["ok", "ok"], outcomes
    assert holds == 1
    assert states == ["ofrecida", "esperando"]
    with pg_app.app_context():
        keys = db.session.scalars(
            sa.text("SELECT idempotency_key FROM communication_logs WHERE message_type = 'WAITLIST_OFFER'")
        ).all()
        assert len(keys) == 1 and keys[0].endswith(":WAITLIST_OFFER:1:SMS")


def test_negative_control_without_the_lock_offers_twice(pg_app, frozen, monkeypatch):
    monkeypatch.setattr(locks, "SLOT_LOCKING_ENABLED", False)
    holds, states, outcomes = race(pg_app, prepare(pg_app), monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    assert holds == 2, "without the service-day lock both processes should offer the place; no race was seen"
