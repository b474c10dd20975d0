"""client_stats() (crm.md §6): visits, spend, last visit and segment in one query, at every band boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.sales.client_queries import (
    SEGMENT_KEYS,
    Thresholds,
    client_activity,
    client_stats,
    segment_counts,
    segment_labels,
    segment_of,
    segment_stats,
)
from app.sales.client_stats_services import settle
from app.sales.models import Order, ServiceLine

TODAY = date(2026, 3, 2)
DEFAULT = Thresholds(2, 6, 50000, 150000)


@pytest.fixture
def add_order(db_session, booking_setup):
    service = booking_setup["calipso"]

    def add(client, *, paid=0, days=(), status="pendiente", cancelled=False):
        """An order with `paid` money and one service line per entry of `days` (offsets from TODAY)."""
        from app.core import clock

        order = Order(
            client_id=client.id,
            origin="recepcion",
            paid=paid,
            total=paid,
            cancelled_at=clock.now() if cancelled else None,
        )
        db_session.add(order)
        db_session.flush()
        for offset in days:
            db_session.add(
                ServiceLine(
                    order_id=order.id,
                    service_id=service.id,
                    service_date=TODAY + timedelta(days=offset),
                    start_time="14:00",
                    people=1,
                    unit_price=25000,
                    pricing_rule="por_persona",
                    subtotal=25000,
                    status=status,
                )
            )
        db_session.flush()
        return order

    return add


def stats_of(client):
    q = client_stats(TODAY).subquery()
    return db.session.execute(db.select(q).where(q.c.client_id == client.id)).one()


@pytest.mark.parametrize(
    "visits, spend, expected",
    [
        (0, 0, "zero_spend"),
        (0, 30000, "new_low_spend"),  # paid for a future booking, no visit yet
        (1, 49999, "new_low_spend"),
        (1, 50000, "new_medium_spend"),
        (2, 0, "regular_low_spend"),
        (2, 130000, "regular_medium_spend"),
        (5, 149999, "regular_medium_spend"),
        (5, 150000, "regular_high_spend"),
        (6, 0, "vip_low_spend"),
        (6, 150000, "vip_high_spend"),
    ],
)
def test_pure_rule_at_boundaries(visits, spend, expected):
    assert segment_of(visits, spend, DEFAULT) == expected


@pytest.mark.parametrize(
    "visits, spend",
    [
        (0, 0),
        (0, 30000),
        (1, 49999),
        (1, 50000),
        (2, 49999),
        (5, 149999),
        (5, 150000),
        (6, 50000),
        (6, 150000),
    ],
)
def test_sql_segment_matches_pure_rule(add_order, make_client, visits, spend):
    client = make_client()
    for i in range(visits):
        add_order(client, days=[-1 - i])
    if spend:
        add_order(client, paid=spend, days=[7])  # future booking: money counts, the visit does not
    row = stats_of(client)
    assert (row.visits, row.spend) == (visits, spend)
    assert row.segment == segment_of(visits, spend, DEFAULT)


def test_visit_definition(add_order, make_client):
    client = make_client()
    add_order(client, days=[-10, -9])  # one order, two past days → one visit, last day -9
    add_order(client, days=[0])  # today counts
    add_order(client, days=[3])  # future: not a visit
    add_order(client, days=[-2], status="cancelada")  # cancelled line: not a visit
    add_order(client, days=[-3], status="no_show")  # no-show: not a visit
    add_order(client, days=[-4], cancelled=True, paid=80000)  # cancelled order: neither visit nor spend
    add_order(client, paid=20000)  # product-only order: spend, no visit
    row = stats_of(client)
    assert row.visits == 2
    assert row.last_visit == TODAY
    assert row.spend == 20000


def test_client_without_orders_is_zero_spend(make_client, booking_setup):
    client = make_client()
    row = stats_of(client)
    assert (row.visits, row.spend, row.last_visit, row.segment) == (0, 0, None, "zero_spend")


def test_thresholds_come_from_settings(app, add_order, make_client):
    client = make_client()
    add_order(
        client,
        paid=60000,
        days=[
            -1,
        ],
    )
    app.config["SEGMENT_SPEND_MEDIUM"] = 70000
    try:
        assert stats_of(client).segment == "new_low_spend"
    finally:
        app.config["SEGMENT_SPEND_MEDIUM"] = 50000
    assert stats_of(client).segment == "new_medium_spend"


def test_segment_counts_cover_every_key(add_order, make_client):
    a = make_client()
    make_client()  # a client without orders
    add_order(a, paid=200000, days=[-1])
    counts = segment_counts(TODAY)
    assert set(counts) == set(SEGMENT_KEYS)
    total_clients = db.session.scalar(db.select(db.func.count()).select_from(client_stats(TODAY).subquery()))
    assert sum(counts.values()) == total_clients
    assert counts["new_high_spend"] >= 1 and counts["zero_spend"] >= 1


def test_labels_follow_thresholds():
    labels = segment_labels(DEFAULT)
    assert labels["regular_medium_spend"] == "Regulares (2-5 Visitas, Gasto Medio)"
    assert labels["new_low_spend"] == "Nuevos (0-1 Visita, Bajo Gasto)"
    assert labels["vip_high_spend"] == "VIP (>5 Visitas, Alto Gasto)"
    assert labels["zero_spend"] == "Clientes Sin Gasto Registrado"
    assert set(labels) == set(SEGMENT_KEYS)


@pytest.fixture
def mixed_clients(add_order, make_client):
    """Clients of several segments, plus the three ways to be zero_spend: no order, only cancelled orders, an
    unpaid order without a visit."""
    a, b, c = make_client(), make_client(), make_client()
    add_order(a, paid=200000, days=[-1])
    add_order(a, days=[-3, -2])
    for i in range(6):
        add_order(b, paid=30000, days=[-1 - i])
    add_order(c, paid=10000, days=[5])
    make_client()
    add_order(make_client(), paid=90000, days=[-1], cancelled=True)
    add_order(make_client(), days=[4])
    return a, b, c


def _rows(stmt):
    q = stmt.subquery()
    return {r.client_id: tuple(r) for r in db.session.execute(db.select(q))}


def test_client_activity_rows_equal_client_stats_rows_of_clients_with_an_order(mixed_clients):
    everyone = _rows(client_stats(TODAY))
    active = _rows(client_activity(TODAY))
    live_orders = set(db.session.scalars(db.select(Order.client_id).where(Order.cancelled_at.is_(None))))
    assert set(active) == live_orders
    assert active == {cid: row for cid, row in everyone.items() if cid in live_orders}
    assert all(row[-1] == "zero_spend" for cid, row in everyone.items() if cid not in live_orders)
    a, b, c = mixed_clients
    assert active[a.id][1:4] == (2, 200000, TODAY - timedelta(days=1))
    assert (active[b.id][1], active[b.id][-1]) == (6, "vip_high_spend")
    assert (active[c.id][1:4], active[c.id][-1]) == ((0, 10000, None), "new_low_spend")


def test_segment_stats_is_client_stats_filtered_for_every_key(mixed_clients):
    everyone = _rows(client_stats(TODAY))
    for key in SEGMENT_KEYS:
        assert _rows(segment_stats(key, TODAY)) == {cid: r for cid, r in everyone.items() if r[-1] == key}, key
    assert _rows(segment_stats(None, TODAY)) == everyone


def test_segment_counts_equal_client_stats_grouped_in_one_statement(mixed_clients, count_statements):
    q = client_stats(TODAY).subquery()
    expected = dict.fromkeys(SEGMENT_KEYS, 0)
    expected.update(db.session.execute(db.select(q.c.segment, db.func.count()).group_by(q.c.segment)).all())
    counts = {}
    settle()  # the table's rows of the setup written (the read alone is counted)
    assert count_statements(lambda: counts.update(segment_counts(TODAY))) == 1
    assert counts == expected
    assert counts["zero_spend"] >= 3 and counts["vip_high_spend"] >= 1
