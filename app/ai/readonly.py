"""Read-only execution of registry statements (ai.md §1): inside a read-only transaction (PostgreSQL `SET
TRANSACTION READ ONLY` in a savepoint rolled back afterwards, or a separate `AI_DATABASE_URL` connection; SQLite
`PRAGMA query_only`), with a statement timeout and an outer row limit. Only Select objects from the registry come
here — never text from the model.

The timeout: PostgreSQL `SET LOCAL statement_timeout`; SQLite has no such setting, so a progress handler on the
driver connection interrupts the statement once the deadline has passed (sqlite3 raises "interrupted"). Both end
as `QueryTimeout`."""

from __future__ import annotations

import time
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app

from app.extensions import db


class QueryTimeout(Exception):
    """The statement ran past AI_QUERY_TIMEOUT_SECONDS."""

    def __init__(self, seconds: float | None = None):
        super().__init__(timeout_message(seconds))


def timeout_message(seconds: float | None = None) -> str:
    limit = f" (más de {seconds:g} s)" if seconds else ""
    return f"La consulta tardó demasiado{limit} y se canceló. Pruebe con un rango de fechas o un límite menor."


_engines: dict[str, sa.Engine] = {}


def _separate_engine(url: str) -> sa.Engine:
    if url not in _engines:
        _engines[url] = sa.create_engine(url, pool_pre_ping=True)
    return _engines[url]


def _limited(stmt: sa.Select, limit: int) -> sa.Select:
    inner = stmt.subquery("q")
    return sa.select(*inner.c).limit(limit)


def run_readonly(stmt: sa.Select, *, limit: int | None = None) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of `stmt` wrapped in an outer LIMIT, read in a read-only transaction."""
    cfg = current_app.config
    limit = limit or cfg["AI_SQL_ROW_LIMIT"]
    timeout_ms = int(cfg["AI_QUERY_TIMEOUT_SECONDS"] * 1000)
    query = _limited(stmt, limit)
    with _rolled_back(cfg.get("AI_DATABASE_URL")) as conn:
        try:
            _enter(conn, timeout_ms)
            return _execute(conn, query, timeout_ms)
        finally:
            _leave(conn)


@contextmanager
def _rolled_back(url: str | None):
    """A connection in a transaction that is always rolled back: on the separate `AI_DATABASE_URL` engine when set,
    else a savepoint of the request's own connection."""
    if url:
        with _separate_engine(url).connect() as conn, conn.begin() as tx:
            try:
                yield conn
            finally:
                tx.rollback()
        return
    conn = db.session.connection()
    nested = conn.begin_nested()
    try:
        yield conn
    finally:
        nested.rollback()


def _enter(conn: sa.Connection, timeout_ms: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")
        deadline = time.monotonic() + timeout_ms / 1000
        _driver(conn).set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)


def _leave(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        _driver(conn).set_progress_handler(None, 0)
        conn.exec_driver_sql("PRAGMA query_only = OFF")


def _driver(conn: sa.Connection):
    return conn.connection.driver_connection


def _execute(conn: sa.Connection, query: sa.Select, timeout_ms: int) -> tuple[list[str], list[tuple]]:
    try:
        result = conn.execute(query)
        return list(result.keys()), [tuple(r) for r in result.all()]
    except sa.exc.OperationalError as exc:
        text = str(exc.orig if exc.orig is not None else exc)
        if "statement timeout" in text or "canceling statement" in text or text.strip() == "interrupted":
            raise QueryTimeout(timeout_ms / 1000) from exc
        raise
