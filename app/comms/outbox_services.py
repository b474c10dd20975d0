"""Queue messages in the caller's transaction (communications.md §1, §4.1): one statement, never a commit.

Duplicates hit the unique `idempotency_key` and are skipped (`ON CONFLICT DO NOTHING`) on PostgreSQL and SQLite.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.comms.models import CommunicationLog
from app.comms.policy import COMMUNICATION_TYPES, MESSAGE_TYPES
from app.core import clock
from app.core.db import insert_for
from app.extensions import db

# Columns a selection may yield for enqueue_from_select (labelled exactly so).
SELECT_COLUMNS = (
    "idempotency_key",
    "client_id",
    "order_id",
    "campaign_id",
    "gift_card_id",
    "destination",
    "not_before",
    "expires_at",
)


def _insert(shape: str, dialect: str | None = None):
    """INSERT into the outbox with the dialect's ON CONFLICT (PostgreSQL or SQLite), the session's by default;
    `shape` names the ON CONFLICT clause, so that the statement is compiled once (core.db.insert_for)."""
    return insert_for(dialect or db.session.get_bind().dialect.name, CommunicationLog.__table__, shape=shape)


_ROW_COLUMNS = (
    "client_id",
    "order_id",
    "campaign_id",
    "gift_card_id",
    "communication_type",
    "message_type",
    "destination",
    "status",
    "idempotency_key",
    "not_before",
    "expires_at",
    "payload",
    "force_send",
    "attempts",
    "cost",
    "triggered_by",
    "created_by_id",
    "created_at",
    "updated_at",
)


@functools.cache
def _row_statement(dialect: str, debounce: bool):
    """One-row INSERT of every `_row` column as bound parameters, built once per dialect: ON CONFLICT DO NOTHING,
    or (debounce) push `not_before` of a PENDING row with the same key."""
    table = CommunicationLog.__table__
    shape = "outbox.debounce" if debounce else "outbox.once"
    stmt = _insert(shape, dialect).values({name: sa.bindparam(name, type_=table.c[name].type) for name in _ROW_COLUMNS})
    if not debounce:
        return stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return stmt.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={"not_before": stmt.excluded.not_before, "updated_at": stmt.excluded.updated_at},
        where=table.c.status == sa.literal_column("'PENDING'"),
    )


def _execute_row(values: dict | list[dict], *, debounce: bool) -> int:
    """One row, or several in one round trip (a list: executemany, sent as one multi-row INSERT)."""
    db.session.flush()
    statement = _row_statement(db.session.get_bind().dialect.name, debounce)
    return db.session.execute(statement, values).rowcount


def _check(message_type: str, channel: str) -> None:
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"unknown message_type {message_type!r}")
    if channel not in COMMUNICATION_TYPES:
        raise ValueError(f"unknown channel {channel!r}")


def _user_id(created_by) -> int | None:
    return getattr(created_by, "id", created_by)


def _row(
    *,
    message_type,
    channel,
    idempotency_key,
    client_id,
    order_id,
    campaign_id,
    gift_card_id,
    destination,
    not_before,
    expires_at,
    triggered_by,
    created_by,
    now,
    payload=None,
) -> dict:
    _check(message_type, channel)
    return {
        "client_id": client_id,
        "order_id": order_id,
        "campaign_id": campaign_id,
        "gift_card_id": gift_card_id,
        "communication_type": channel,
        "message_type": message_type,
        "destination": destination,
        "status": "PENDING",
        "idempotency_key": idempotency_key,
        "not_before": not_before or now,
        "expires_at": expires_at,
        "payload": payload,
        "force_send": False,
        "attempts": 0,
        "cost": 0,
        "triggered_by": triggered_by,
        "created_by_id": _user_id(created_by),
        "created_at": now,
        "updated_at": now,
    }


def enqueue(
    *,
    message_type: str,
    channel: str,
    idempotency_key: str,
    client_id: int | None = None,
    order_id: int | None = None,
    campaign_id: int | None = None,
    gift_card_id: int | None = None,
    destination: str | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    triggered_by: str,
    created_by=None,
    payload: dict | None = None,
) -> bool:
    """Insert one PENDING outbox row unless its key exists; flushes nothing else, never commits.

    Returns whether a row was inserted.
    """
    now = clock.now()
    values = _row(
        message_type=message_type,
        channel=channel,
        idempotency_key=idempotency_key,
        client_id=client_id,
        order_id=order_id,
        campaign_id=campaign_id,
        gift_card_id=gift_card_id,
        destination=destination,
        not_before=not_before,
        expires_at=expires_at,
        triggered_by=triggered_by,
        created_by=created_by,
        now=now,
        payload=payload,
    )
    return _execute_row(values, debounce=False) == 1


def enqueue_from_select(
    select: sa.Select, *, message_type: str, channel: str, triggered_by: str, created_by=None
) -> int:
    """Set-based queueing: `INSERT … SELECT … ON CONFLICT DO NOTHING` in one statement; never commits.

    `select` yields labelled columns among SELECT_COLUMNS; `idempotency_key` is required, the others default to
    NULL (`not_before` to now). Returns how many rows were inserted (existing keys are skipped).
    """
    _check(message_type, channel)
    now = clock.now()
    sub = select.subquery("sel")
    names = set(sub.c.keys())
    unknown = names - set(SELECT_COLUMNS)
    if "idempotency_key" not in names or unknown:
        raise ValueError(f"selection must yield idempotency_key and only {SELECT_COLUMNS}; got {sorted(names)}")
    table = CommunicationLog.__table__

    def col(name, type_):
        return sub.c[name] if name in names else sa.cast(sa.null(), type_)

    nb = (
        sa.func.coalesce(sub.c.not_before, sa.literal(now, table.c.not_before.type))
        if "not_before" in names
        else sa.literal(now, table.c.not_before.type)
    )
    columns = {
        "idempotency_key": sub.c.idempotency_key,
        "client_id": col("client_id", sa.Integer),
        "order_id": col("order_id", sa.Integer),
        "campaign_id": col("campaign_id", sa.Integer),
        "gift_card_id": col("gift_card_id", sa.Integer),
        "destination": col("destination", sa.String),
        "not_before": nb,
        "expires_at": sub.c.expires_at if "expires_at" in names else sa.literal(None, table.c.expires_at.type),
        "communication_type": sa.literal(channel),
        "message_type": sa.literal(message_type),
        "status": sa.literal("PENDING"),
        "payload": sa.null(),
        "force_send": sa.literal(False),
        "attempts": sa.literal(0),
        "cost": sa.literal(0),
        "triggered_by": sa.literal(triggered_by),
        "created_by_id": sa.literal(_user_id(created_by), sa.Integer),
        "created_at": sa.literal(now, table.c.created_at.type),
        "updated_at": sa.literal(now, table.c.updated_at.type),
    }
    outer = sa.select(*[expr.label(name) for name, expr in columns.items()]).where(sa.true())
    db.session.flush()
    stmt = _insert("outbox.once").from_select(list(columns), outer)
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return db.session.execute(stmt).rowcount


def _debounce_row(
    *,
    message_type: str,
    channel: str,
    idempotency_key: str,
    debounce_seconds: int,
    client_id: int | None = None,
    order_id: int | None = None,
    gift_card_id: int | None = None,
    destination: str | None = None,
    expires_at: datetime | None = None,
    triggered_by: str,
    created_by=None,
    now: datetime,
) -> dict:
    return _row(
        message_type=message_type,
        channel=channel,
        idempotency_key=idempotency_key,
        client_id=client_id,
        order_id=order_id,
        campaign_id=None,
        gift_card_id=gift_card_id,
        destination=destination,
        not_before=now + timedelta(seconds=debounce_seconds),
        expires_at=expires_at,
        triggered_by=triggered_by,
        created_by=created_by,
        now=now,
    )


def debounce_upsert(**message) -> bool:
    """§4.1: insert with not_before = now + debounce; an existing PENDING row gets not_before pushed to the same
    instant; a row already sent (or blocked) is left alone. One statement, never commits. `message`: the keyword
    arguments of `_debounce_row` (message_type, channel, idempotency_key, debounce_seconds, triggered_by, …),
    without `now`.

    Returns whether a row was inserted or pushed.
    """
    return _execute_row(_debounce_row(**message, now=clock.now()), debounce=True) == 1


def debounce_upsert_many(rows: list[dict]) -> None:
    """`debounce_upsert` for several messages (each a dict of its keyword arguments) in one statement (issue 20:
    the confirmation's SMS and e-mail rows of a checkout); the same `now` for all of them. Never commits."""
    if not rows:
        return
    now = clock.now()
    values = [_debounce_row(**row, now=now) for row in rows]
    _execute_row(values if len(values) > 1 else values[0], debounce=True)
