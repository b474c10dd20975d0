"""The scheduler's leader lock (communications.md §9) on a throwaway PostgreSQL database: one holder, no stacking,
a holder whose connection dies steps down and another process's leader takes over."""

from __future__ import annotations

import sqlalchemy as sa

from app import create_app
from app.scheduler import LEADER_LOCK_KEY, Leader
from tests.conftest import make_test_config
from tests.deploy.test_scale_out import pg_database, wait_until  # noqa: F401  (fixture)


def holders(engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = :k AND granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"k": LEADER_LOCK_KEY},
            ).scalars()
        )


def test_one_holder_steps_down_when_its_connection_dies_and_another_takes_over(pg_database):  # noqa: F811
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=pg_database, SQLALCHEMY_ENGINE_OPTIONS={}))
    first, second = Leader(app), Leader(app)
    observer = sa.create_engine(pg_database, isolation_level="AUTOCOMMIT")
    try:
        assert first.acquire() is True and second.acquire() is False
        assert first.acquire() is True and second.acquire() is False  # retries change nothing
        (pid,) = holders(observer)
        with observer.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})  # the link dies
        assert first.acquire() is False  # steps down instead of crashing the scheduler
        assert second.acquire() is True and len(holders(observer)) == 1
        assert first.acquire() is False
        second.release()  # its connection is closed; the server drops the lock as the backend exits
        wait_until(lambda: holders(observer) == [], timeout=15, what="lock released")
        assert first.acquire() is True
    finally:
        first.release()
        second.release()
        observer.dispose()
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()


def test_on_sqlite_the_single_process_is_always_the_leader(tmp_path):
    app = create_app(
        make_test_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'one.db'}", SQLALCHEMY_ENGINE_OPTIONS={})
    )
    leader = Leader(app)
    assert leader.acquire() is True and leader.conn is None
