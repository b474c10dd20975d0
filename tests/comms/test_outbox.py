"""Outbox inserts: one statement, ON CONFLICT DO NOTHING, set-based INSERT … SELECT, debounce upsert."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.clients.models import Client
from app.comms.models import CommunicationLog
from app.comms.outbox_services import debounce_upsert, enqueue, enqueue_from_select
from app.core.clock import LOCAL_TZ

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)


def rows(db_session):
    return db_session.scalars(sa.select(CommunicationLog).order_by(CommunicationLog.id)).all()


def test_enqueue_inserts_once_per_key(db_session, make_client, freeze_clock):
    freeze_clock(NOW)
    c = make_client()
    kwargs = dict(
        message_type="OTHER",
        channel="SMS",
        idempotency_key="staff:abc",
        client_id=c.id,
        triggered_by="staff:ana",
        payload={"text": "Hola"},
    )
    assert enqueue(**kwargs) is True
    assert enqueue(**kwargs) is False
    [row] = rows(db_session)
    assert (row.status, row.attempts, row.cost, row.not_before) == ("PENDING", 0, 0, NOW)
    assert row.payload == {"text": "Hola"} and row.triggered_by == "staff:ana"


def test_enqueue_from_select_is_set_based_and_idempotent(db_session, make_client, freeze_clock, count_statements):
    freeze_clock(NOW)
    clients = [make_client() for _ in range(5)]
    ids = [c.id for c in clients]
    expires = NOW + timedelta(days=14)
    select = sa.select(
        (sa.literal("client:") + sa.cast(Client.id, sa.String) + sa.literal(":REACTIVATION:2026-1")).label(
            "idempotency_key"
        ),
        Client.id.label("client_id"),
        sa.literal(expires, CommunicationLog.__table__.c.expires_at.type).label("expires_at"),
    ).where(Client.id.in_(ids))
    inserted = []
    statements = count_statements(
        lambda: inserted.append(
            enqueue_from_select(select, message_type="REACTIVATION", channel="EMAIL", triggered_by="reactivation")
        )
    )
    assert inserted == [5] and statements == 1
    assert enqueue_from_select(select, message_type="REACTIVATION", channel="EMAIL", triggered_by="x") == 0
    got = rows(db_session)
    assert [r.client_id for r in got] == ids
    assert {(r.status, r.communication_type, r.message_type, r.expires_at, r.not_before) for r in got} == {
        ("PENDING", "EMAIL", "REACTIVATION", expires, NOW)
    }


def test_debounce_pushes_pending_and_leaves_sent(db_session, make_client, freeze_clock):
    freeze_clock(NOW)
    c = make_client()
    kw = dict(
        message_type="BOOKING_CONFIRMATION",
        channel="SMS",
        idempotency_key="order:1:BOOKING_CONFIRMATION:SMS",
        client_id=c.id,
        debounce_seconds=60,
        triggered_by="checkout",
    )
    assert debounce_upsert(**kw)
    freeze_clock(NOW + timedelta(seconds=40))
    assert debounce_upsert(**kw)
    [row] = rows(db_session)
    db_session.refresh(row)
    assert row.not_before == NOW + timedelta(seconds=100)
    row.status = "SENT"
    db_session.flush()
    freeze_clock(NOW + timedelta(seconds=300))
    assert debounce_upsert(**kw) is False
    db_session.refresh(row)
    assert row.not_before == NOW + timedelta(seconds=100) and len(rows(db_session)) == 1
