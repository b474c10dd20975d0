"""Concurrency tests need real parallel transactions and row locks: PostgreSQL, on a fresh migrated database.

They use TEST_DATABASE_URL, else the local server at the CI address; CI always has it. The migrations run once per
session, into a template database; each test gets its own copy of it (CREATE DATABASE … TEMPLATE).
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import fresh_database, make_test_config, migrate_to_head

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    if not url.startswith("postgresql"):
        return None
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    return url


@pytest.fixture
def pg_app(tmp_path, monkeypatch, database_templates):
    """An app on a database of its own, migrated to the head (a copy of the session's migrated template)."""
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL reachable: row-lock guarantees are tested on PostgreSQL (spec README §2)")
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    with fresh_database(tmp_path, template=database_templates.get(migrate_to_head)) as fresh:
        application = create_app(
            make_test_config(
                SQLALCHEMY_DATABASE_URI=fresh,
                SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 60, "max_overflow": 0, "pool_timeout": 30},
            )
        )
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def run_concurrently(app, args, action, outcome_of=lambda exc: None) -> list[str]:
    """One thread per item of `args`, each with its own app context and session: `action(arg, start)` does its
    preparation, calls `start()` (a barrier: everybody goes at once) and its write; the harness commits. Returns one
    outcome per thread: "ok", `outcome_of(exc)` for an expected refusal, else "error: …" (shown by assertions)."""
    import threading

    barrier = threading.Barrier(len(args))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(arg):
        with app.app_context():
            try:
                action(arg, lambda: barrier.wait(timeout=30))
                db.session.commit()
                result = "ok"
            except Exception as exc:
                db.session.rollback()
                result = outcome_of(exc) or f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(arg,)) for arg in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def rendezvous_in(
    monkeypatch, owner, name: str, parties: int, timeout: float = 1.0, *, after: bool = False, all_arrive: bool = False
) -> None:
    """Make every caller of `owner.name` wait there until `parties` callers arrived (or `timeout` passed once).

    Put inside a read-check-write window, it makes a race certain instead of likely, without sleeping: unlocked
    writers all arrive and go on together with what they read; locked writers arrive one at a time, so the first
    waits `timeout` once, the barrier breaks and everybody after it passes straight through. `after`: wait once
    the original returned (wrapping a lock helper: just after the lock).

    `all_arrive` (negative controls, where nothing serialises the callers): wait for every one of them however
    loaded the machine is (up to 30 s, then the callers fail with BrokenBarrierError, which the outcomes show), so
    that every writer has read before any of them writes: the race the control must see is certain."""
    import threading

    barrier = threading.Barrier(parties)
    original = getattr(owner, name)

    def wait():
        if all_arrive:
            barrier.wait(timeout=30)
            return
        try:
            barrier.wait(timeout=timeout)
        except threading.BrokenBarrierError:
            pass

    def waiting(*args, **kwargs):
        if after:
            result = original(*args, **kwargs)
            wait()
            return result
        wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, waiting)
