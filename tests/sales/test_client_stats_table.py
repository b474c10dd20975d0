"""The client_stats table (issue 20 item 4): equal to the set-based client_stats() after every kind of change, on
random data with a fixed seed; written in the transaction of the change (a rollback leaves it as it was); the
nightly job recomputes it, reports the rows that differed and repairs them."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.clients.models import Client
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.extensions import db
from app.sales import checkout_services
from app.sales import services as sales_services
from app.sales.client_merge_services import merge_clients
from app.sales.client_queries import SEGMENT_KEYS, client_stats, segment_figures, stats_select
from app.sales.client_stats_services import NOT_A_VISIT, recompute_all
from app.sales.line_services import cancel_line, move_service_line
from app.sales.models import ClientStats, Order, ServiceLine
from app.sales.payment_services import record_payment, refund

MONDAY = date(2026, 3, 2)
FIGURES = ("visits", "spend", "last_visit")


def _rows(stmt) -> dict[int, tuple]:
    q = stmt.subquery()
    return {r.client_id: tuple(r) for r in db.session.execute(sa.select(q))}


def _first_visits(today: date) -> dict[int, date | None]:
    """An independent reference for first_visit: the earliest visit day (per order: its latest counted line ≤
    today) of the client's non-cancelled orders."""
    per_order = (
        sa.select(ServiceLine.order_id, sa.func.max(ServiceLine.service_date).label("day"))
        .where(ServiceLine.status.not_in(NOT_A_VISIT), ServiceLine.service_date <= today)
        .group_by(ServiceLine.order_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Order.client_id, sa.func.min(per_order.c.day))
        .join(per_order, per_order.c.order_id == Order.id)
        .where(Order.cancelled_at.is_(None))
        .group_by(Order.client_id)
    ).all()
    return dict(rows)


def assert_table_exact(context: str = "") -> None:
    """stats_select() (the table) equals client_stats() (the reference) for every client; every client has a row;
    every row that claims to be exact today holds the reference figures (first_visit too)."""
    today = clock.today()
    expected = _rows(client_stats(today))
    assert _rows(stats_select(today)) == expected, context
    table = {r.client_id: r for r in db.session.scalars(sa.select(ClientStats))}
    assert set(table) == set(expected), context
    counts, revenue = segment_figures(today)  # the board's figures: stored rows − aged rows + aged rows redone
    want_counts, want_revenue = dict.fromkeys(SEGMENT_KEYS, 0), dict.fromkeys(SEGMENT_KEYS, 0)
    for row in expected.values():
        want_counts[row[-1]] += 1
        want_revenue[row[-1]] += row[2]
    assert (counts, revenue) == (want_counts, want_revenue), context
    firsts = _first_visits(today)
    for cid, row in table.items():
        if row.as_of <= today and (row.next_visit is None or row.next_visit > today):
            assert (row.visits, row.spend, row.last_visit) == expected[cid][1:4], (context, cid)
            assert row.first_visit == firsts.get(cid), (context, cid)


def test_table_equals_client_stats_after_every_kind_of_change(booking_setup, make_client, db_session):
    rng = random.Random(20)
    service = booking_setup["calipso"]
    clients = [make_client() for _ in range(6)]

    def orders():
        return list(db.session.scalars(sa.select(Order).order_by(Order.id)))

    def lines():
        return list(db.session.scalars(sa.select(ServiceLine).order_by(ServiceLine.id)))

    def line(order_id, offset, status="pendiente"):
        return ServiceLine(
            order_id=order_id,
            service_id=service.id,
            service_date=clock.today() + timedelta(days=offset),
            start_time="14:00",
            people=1,
            unit_price=25000,
            pricing_rule="por_persona",
            subtotal=25000,
            status=status,
        )

    def new_client():
        clients.append(make_client())

    def new_order():
        order = Order(client_id=rng.choice(clients).id, origin="recepcion", total=0, paid=rng.choice([0, 30000]))
        db.session.add(order)
        db.session.flush()
        for _ in range(rng.randrange(0, 3)):
            db.session.add(line(order.id, rng.randrange(-10, 10), rng.choice(["pendiente", "checkout", "no_show"])))

    def add_line():
        if orders():
            db.session.add(line(rng.choice(orders()).id, rng.randrange(-10, 10)))

    def line_status():
        if lines():
            rng.choice(lines()).status = rng.choice(["pendiente", "checkin", "checkout", "no_show", "cancelada"])

    def move_line():
        if lines():
            rng.choice(lines()).service_date = clock.today() + timedelta(days=rng.randrange(-10, 10))

    def pay():
        if orders():
            rng.choice(orders()).paid += rng.choice([10000, 45000, 200000, -10000])

    def cancel_or_reinstate():
        if orders():
            order = rng.choice(orders())
            order.cancelled_at = None if order.cancelled_at else clock.now()

    def move_order():
        if orders():
            rng.choice(orders()).client_id = rng.choice(clients).id

    def move_line_to_other_order():
        if lines() and len(orders()) > 1:
            moved, target = rng.choice(lines()), rng.choice(orders())
            if rng.random() < 0.5:
                moved.order_id = target.id
            else:  # through the relationship
                moved.order = target

    def delete_line():
        if lines():
            db.session.delete(rng.choice(lines()))

    def merge():
        if len(clients) > 2:
            survivor, dup = rng.sample(clients, 2)
            merge_clients(survivor, [dup], by=None)
            clients.remove(dup)

    def delete_client():
        ids_with_orders = set(db.session.scalars(sa.select(Order.client_id)))
        free = [c for c in clients if c.id not in ids_with_orders]
        if free and len(clients) > 2:
            victim = rng.choice(free)
            db.session.delete(victim)
            clients.remove(victim)

    def next_day():  # a booked day arrives: the rows past their next_visit are recomputed by the reads
        clock.freeze(datetime.combine(clock.today() + timedelta(days=1), datetime.min.time(), LOCAL_TZ))

    steps = [new_client, new_order, new_order, new_order, add_line, line_status, move_line, pay, pay]
    steps += [cancel_or_reinstate, move_order, move_line_to_other_order, delete_line, merge, delete_client, next_day]
    seen = set()
    for i in range(160):
        step = rng.choice(steps)
        step()
        seen.add(step.__name__)
        if i % 2:
            db.session.commit()
        else:
            db.session.flush()
        assert_table_exact(f"step {i}: {step.__name__}")
    assert seen == {s.__name__ for s in steps}
    # the nightly job finds nothing to correct, only rows aged by the days that went by
    report = recompute_all()
    assert (report["differed"], report["missing"], report["orphans"]) == (0, 0, 0)
    assert_table_exact("after the job")


def place(booking_setup, phone="+56987654321", service="calipso", day=MONDAY, people=2, hhmm="14:00"):
    svc = booking_setup[service]
    return checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=svc.id, day=day, hhmm=hhmm, people=people)],
        data=checkout_services.CheckoutData(telefono=phone, nombre="María Pérez", email="maria@example.com"),
        origin="recepcion",
        by=None,
        staff=True,
    )


def test_the_sales_services_keep_the_table(booking_setup, make_user, db_session):
    gerente = make_user("gerente")
    order = place(booking_setup)
    db.session.commit()
    assert_table_exact("place_order")
    record_payment(order, amount=20000, method="efectivo", by=gerente)
    db.session.commit()
    assert_table_exact("record_payment")
    row = db.session.get(ClientStats, order.client_id)
    assert (row.visits, row.spend, row.last_visit) == (1, 20000, MONDAY)
    move_service_line(order.service_lines[0], day=MONDAY + timedelta(days=2), hhmm="14:00", by=gerente)
    db.session.commit()
    assert_table_exact("move_service_line")
    db.session.refresh(row)
    assert (row.visits, row.last_visit, row.next_visit) == (0, None, MONDAY + timedelta(days=2))
    other = place(booking_setup, phone="+56911111111", service="grande", day=MONDAY + timedelta(days=7), hhmm="19:00")
    cancel_line(other.service_lines[0], reason="cliente", by=gerente)
    db.session.commit()
    assert_table_exact("cancel_line")
    sales_services.cancel_order(order, reason="cliente no puede asistir", by=gerente)
    db.session.commit()
    assert_table_exact("cancel_order")
    refund(order, amount=20000, method="efectivo", reason="devolución", by=gerente)
    db.session.commit()
    assert_table_exact("refund")
    db.session.refresh(row)
    assert (row.visits, row.spend) == (0, 0)


def test_a_rolled_back_change_leaves_the_table_unchanged(booking_setup, make_user, db_session):
    gerente = make_user("gerente")
    order = place(booking_setup)
    db.session.commit()
    client_id = order.client_id

    def snapshot():
        return db.session.execute(sa.select(*ClientStats.__table__.c).order_by(ClientStats.client_id)).all()

    before = snapshot()
    record_payment(order, amount=30000, method="efectivo", by=gerente)
    place(booking_setup, phone="+56922222222", service="grande", hhmm="19:00")
    during = snapshot()
    assert during != before  # written inside the transaction …
    db.session.rollback()
    assert snapshot() == before  # … and gone with it
    assert db.session.get(ClientStats, client_id).spend == 0
    # negative control: the same change committed does change the table
    order = db.session.get(Order, order.id)
    record_payment(order, amount=30000, method="efectivo", by=gerente)
    db.session.commit()
    assert snapshot() != before and db.session.get(ClientStats, client_id).spend == 30000


def test_the_job_reports_and_repairs_a_corrupted_row(booking_setup, make_client, db_session, app):
    order = place(booking_setup)
    make_client()
    db.session.commit()
    cid = order.client_id
    # a write outside the application (no session event sees it)
    db.session.execute(sa.update(ClientStats).where(ClientStats.client_id == cid).values(visits=99, spend=1))
    db.session.commit()
    assert _rows(stats_select()) != _rows(client_stats())  # the corruption is visible …
    report = recompute_all()
    db.session.commit()
    assert report["differed"] == 1 and report["written"] >= 1 and report["missing"] == 0
    assert_table_exact("repaired")  # … and repaired
    assert recompute_all()["differed"] == 0
    # a client row lost: reported missing and written back
    db.session.execute(sa.delete(ClientStats).where(ClientStats.client_id != cid))
    assert recompute_all()["missing"] == db.session.scalar(sa.select(sa.func.count()).select_from(Client)) - 1
    assert_table_exact("rows written back")


def test_the_cli_command_recomputes(app, booking_setup, db_session):
    place(booking_setup)
    db.session.commit()
    db.session.execute(sa.update(ClientStats).values(spend=7))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["recompute-client-stats"])
    assert result.exit_code == 0, result.output
    assert "client_stats: 1 filas distintas" in result.output
    assert_table_exact("cli")


def test_a_client_without_a_row_is_recomputed_by_the_per_client_read(booking_setup, db_session):
    from app.sales.client_queries import stats_for_select

    order = place(booking_setup)
    record_payment(order, amount=5000, method="efectivo")
    db.session.commit()
    db.session.execute(sa.delete(ClientStats).where(ClientStats.client_id == order.client_id))  # e.g. a raw import
    row = db.session.execute(stats_for_select([order.client_id])).one()
    assert (row.visits, row.spend, row.segment) == (1, 5000, "new_low_spend")
