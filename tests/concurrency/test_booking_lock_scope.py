"""The booking lock is per service and day (and, for massages, per qualified provider and day): a checkout waits
only for checkouts that could take the same capacity, and the provider shared by two massage services is guarded
across both (spec catalog.md §4.4, ARCHITECTURE §2). Two transactions on two connections, PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import Provider, Service
from app.catalog.policy import validate_slot_grid
from app.extensions import db
from app.sales import locks

DAY = date(2026, 3, 2)
OTHER_DAY = DAY + timedelta(days=7)


def _service(name: str, service_type: str) -> Service:
    return Service(
        name=name,
        base_price=25000,
        min_people=1,
        max_people=2,
        service_type=service_type,
        duration_minutes=60,
        max_concurrent_bookings=1,
        slot_grid=validate_slot_grid({"monday": ["14:00"]}),
    )


@pytest.fixture
def catalogue(pg_app):
    """A tub, and two massage services that share one provider; committed."""
    with pg_app.app_context():
        provider = Provider(name="Terapeuta Compartida")
        tub = _service("Tina", "tina")
        massage_a, massage_b = _service("Masaje A", "masaje"), _service("Masaje B", "masaje")
        massage_a.providers.append(provider)
        massage_b.providers.append(provider)
        db.session.add_all([tub, massage_a, massage_b])
        db.session.commit()
        return {"tub": tub.id, "a": massage_a.id, "b": massage_b.id}


def _would_wait(app, slots) -> bool:
    """Whether a second transaction taking the booking locks of `slots` has to wait (lock_timeout 300 ms)."""
    with app.app_context():
        db.session.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
        try:
            locks.lock_services(slots)
        except sa.exc.OperationalError as exc:
            assert "lock timeout" in str(exc)
            return True
        finally:
            db.session.rollback()
            db.session.remove()
        return False


def test_service_day_lock_blocks_only_the_same_service_and_day(pg_app, catalogue):
    with pg_app.app_context():
        locks.lock_services([(catalogue["tub"], DAY)])  # held until this transaction ends
        assert _would_wait(pg_app, [(catalogue["tub"], DAY)])
        assert not _would_wait(pg_app, [(catalogue["tub"], OTHER_DAY)])
        assert not _would_wait(pg_app, [(catalogue["a"], DAY)])
        db.session.rollback()
        assert not _would_wait(pg_app, [(catalogue["tub"], DAY)])  # released with the transaction


def test_shared_provider_serialises_two_massage_services_on_the_same_day(pg_app, catalogue):
    with pg_app.app_context():
        locks.lock_services([(catalogue["a"], DAY)])
        assert _would_wait(pg_app, [(catalogue["b"], DAY)])
        assert not _would_wait(pg_app, [(catalogue["b"], OTHER_DAY)])
        db.session.rollback()


def test_negative_control_without_locking_nothing_waits(pg_app, catalogue, monkeypatch):
    monkeypatch.setattr(locks, "SLOT_LOCKING_ENABLED", False)
    with pg_app.app_context():
        locks.lock_services([(catalogue["tub"], DAY)])
        assert not _would_wait(pg_app, [(catalogue["tub"], DAY)])
        db.session.rollback()


def test_lock_keys_are_distinct_per_namespace_id_and_day():
    keys = {
        locks.booking_lock_key(ns, row_id, day)
        for ns in (locks.SLOT_LOCK, locks.PROVIDER_LOCK)
        for row_id in (1, 2, 2**31 - 1)
        for day in (DAY, OTHER_DAY, date(2870, 1, 1))
    }
    assert len(keys) == 18
    assert all(0 < k < 2**63 for k in keys)
