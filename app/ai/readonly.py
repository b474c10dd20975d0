"""Read-only execution of registry statements (ai.md §1): inside a read-only transaction (PostgreSQL `SET
TRANSACTION READ ONLY` in a savepoint rolled back afterwards, or a separate `AI_DATABASE_URL` connection; SQLite
`PRAGMA query_only`), with a statement timeout and an outer row limit. Only Select objects from the registry come
here — never text from the model."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.extensions import db


class QueryTimeout(Exception):
    """The statement ran past AI_QUERY_TIMEOUT_SECONDS."""


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
    url = cfg.get("AI_DATABASE_URL")
    if url:
        with _separate_engine(url).connect() as conn:
            with conn.begin() as tx:
                _enter(conn, timeout_ms, first=True)
                result = _execute(conn, query)
                tx.rollback()
                return result
    conn = db.session.connection()
    nested = conn.begin_nested()
    try:
        _enter(conn, timeout_ms, first=False)
        return _execute(conn, query)
    finally:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = OFF")
        nested.rollback()


def _enter(conn: sa.Connection, timeout_ms: int, *, first: bool) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")


def _execute(conn: sa.Connection, query: sa.Select) -> tuple[list[str], list[tuple]]:
    try:
        result = conn.execute(query)
    except sa.exc.OperationalError as exc:
        if "statement timeout" in str(exc) or "canceling statement" in str(exc):
            raise QueryTimeout() from exc
        raise
    return list(result.keys()), [tuple(r) for r in result.all()]
