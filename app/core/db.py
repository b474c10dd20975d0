"""Declarative base with a naming convention, so every constraint has a stable name in migrations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def insert_for(dialect: str, table, shape: str | None = None):
    """INSERT into `table` (a model or Table) with the dialect's ON CONFLICT clauses and RETURNING: PostgreSQL's,
    else SQLite's (the two databases the app runs on).

    SQLAlchemy 2.0 never caches these dialect INSERTs (their ON CONFLICT clause has no cache key), so each execution
    compiles the statement anew: ~0.3 ms for a one-row insert, ~10 ms for client_stats' INSERT … SELECT. Pass
    `shape`, a name for this call site's ON CONFLICT clause (its target, SET and WHERE, which may hold columns and
    `excluded` but no bound values — checked), and the statement is compiled once and cached like any other; the
    rest of the statement (values, SELECT, RETURNING) is in the cache key as usual."""
    module = postgresql if dialect == "postgresql" else sqlite
    if shape is None:
        return module.insert(table)
    stmt = _SHAPED[module.__name__](table)
    stmt._shape = shape
    return stmt


def _no_bound_values(clause) -> None:
    from sqlalchemy.sql import visitors

    parts = [getattr(clause, "update_whereclause", None), getattr(clause, "inferred_target_whereclause", None)]
    parts += [value for _, value in getattr(clause, "update_values_to_set", ())]
    for part in parts:
        if part is None:
            continue
        if not isinstance(part, sa.ClauseElement) or any(
            isinstance(e, sa.BindParameter) for e in visitors.iterate(part)
        ):
            raise ValueError("a shaped ON CONFLICT clause holds no bound values (they would be cached)")


def _shaped(base):
    from sqlalchemy.sql.visitors import InternalTraversal

    class Shaped(base):
        """`base` whose ON CONFLICT clause is in the cache key by its shape's name (see insert_for)."""

        inherit_cache = False
        _traverse_internals = [(n, v) for n, v in base._traverse_internals if n != "_post_values_clause"] + [
            ("_shape", InternalTraversal.dp_string)
        ]
        _shape = ""

        def on_conflict_do_update(self, *args, **kwargs):
            stmt = super().on_conflict_do_update(*args, **kwargs)
            _no_bound_values(stmt._post_values_clause)
            return stmt

        def on_conflict_do_nothing(self, *args, **kwargs):
            stmt = super().on_conflict_do_nothing(*args, **kwargs)
            _no_bound_values(stmt._post_values_clause)
            return stmt

    Shaped.__name__ = Shaped.__qualname__ = f"Shaped{base.__module__.split('.')[-2].title()}Insert"
    return Shaped


_SHAPED = {module.__name__: _shaped(module.Insert) for module in (postgresql, sqlite)}


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_connect(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys, and let SQLAlchemy (not pysqlite) issue BEGIN so savepoints and
    rollbacks work as documented (SQLAlchemy's pysqlite "serializable isolation / savepoints" recipe)."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@sa.event.listens_for(sa.engine.Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite returns naive values otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use core.clock.now()")
        from app.core.clock import UTC

        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        from app.core.clock import UTC

        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """Enums are stored as strings guarded by a CHECK constraint (house style §7)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_valid")


def _now():
    from app.core.clock import now

    return now()


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now, nullable=False)


STREAM_CHUNK = 1000  # rows fetched at a time by stream_rows


def stream_rows(session, stmt: sa.Select, *, chunk: int = STREAM_CHUNK) -> sa.Result:
    """The rows of a plain-column select for an export, `chunk` at a time, executed on the session's
    connection: Core rows straight from the cursor, without the ORM's per-row result processing (~2 µs a row).

    On PostgreSQL the rows come from a server-side cursor (constant memory). The planner plans a cursor for fetching
    only `cursor_tuple_fraction` (default 0.1) of its rows, i.e. a fast-start plan; an export reads every row, so
    the transaction plans for all of them (1.000.000 service lines: 4 s instead of 15 s in PostgreSQL)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    return connection.execute(stmt.execution_options(yield_per=chunk))


def lock_and_reload(obj):
    """SELECT … FOR NO KEY UPDATE the row of `obj` and re-read it (the session keeps no stale attributes): writers of
    the row run one after the other, while rows that reference it (KEY SHARE) are not held up."""
    from app.extensions import db

    model = type(obj)
    return db.session.execute(
        sa.select(model)
        .where(model.id == obj.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
