"""Extension singletons, created unbound and initialised in create_app()."""

from __future__ import annotations

import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

SQLITE_BUSY_TIMEOUT_MS = 10_000


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_wal(dbapi_connection, _record) -> None:
    """SQLite (the `make run` demo): WAL journal, so the in-process scheduler's writes and the requests' reads do
    not block each other, and a busy timeout, so two writers wait for each other instead of failing with
    "database is locked". No effect on PostgreSQL."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if any(row[2] for row in cursor.execute("PRAGMA database_list").fetchall() if row[1] == "main"):
            cursor.execute("PRAGMA journal_mode=WAL")  # a file database (in-memory ones keep "memory")
    except sqlite3.OperationalError:
        pass  # read-only file or locked while switching: the connection still works in the current mode
    finally:
        cursor.close()
