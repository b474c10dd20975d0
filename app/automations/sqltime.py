"""Local wall time → UTC instant inside SQL, so selections stay set-based and DST-correct on both databases.

`local_start_utc(date_col, time_col, minus_hours)` is the UTC instant of a local (America/Santiago) service date and
"HH:MM" start, minus `minus_hours`. PostgreSQL computes it with `timezone()`; SQLite (demo and tests) calls a
Python function registered on the connection with the same zoneinfo rules (`ensure_sqlite_functions`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.clock import LOCAL_TZ
from app.core.db import UTCDateTime

SQLITE_NAME = "aremko_local_start_utc"
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime values in SQLite


class local_start_utc(FunctionElement):  # noqa: N801 (SQL function style)
    type = UTCDateTime()
    inherit_cache = True
    name = SQLITE_NAME


@compiles(local_start_utc, "postgresql")
def _compile_pg(element, compiler, **kw):
    day, hhmm, minus = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"(timezone('America/Santiago', CAST({day} AS date) + CAST({hhmm} AS time)) "
        f"- make_interval(hours => CAST({minus} AS integer)))"
    )


@compiles(local_start_utc)
def _compile_default(element, compiler, **kw):
    return f"{SQLITE_NAME}{compiler.process(element.clause_expr, **kw)}"


def _sqlite_local_start_utc(day: str | None, hhmm: str | None, minus_hours) -> str | None:
    if not day or not hhmm:
        return None
    hour, minute = (int(p) for p in hhmm.split(":"))
    local = datetime.combine(date.fromisoformat(day[:10]), datetime.min.time(), tzinfo=LOCAL_TZ).replace(
        hour=hour, minute=minute
    )
    value = local.astimezone(UTC) - timedelta(hours=int(minus_hours or 0))
    return value.replace(tzinfo=None).strftime(SQLITE_FORMAT)


def ensure_sqlite_functions(session) -> None:
    """Register the SQLite twin of the PostgreSQL expression on the session's connection (idempotent)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.driver_connection
    raw.create_function(SQLITE_NAME, 3, _sqlite_local_start_utc, deterministic=True)


def start_expr(day_col, time_col, minus_hours: int = 0):
    return local_start_utc(day_col, time_col, sa.literal(int(minus_hours), sa.Integer))
