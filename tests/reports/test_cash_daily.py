"""Caja diaria and caja diaria recepcionistas (spec reports.md §2.1–2.2): totals, filters, views, Excel."""

from __future__ import annotations

import io
import random
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from app.core import clock
from app.core.clock import LOCAL_TZ
from app.extensions import db
from app.reports import cash_queries as queries
from app.reports.cash_queries import CashFilter
from app.reports.cash_views import load_summary
from app.sales.models import Discount, Order, Payment, PaymentMethod
from app.sales.payment_services import ensure_payment_methods

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ)  # Monday 02/03/2026 12:00 local
TODAY = NOW.date()
CASH_METHODS = (
    "efectivo",
    "tarjeta",
    "transferencia",
    "webpay",
    "flow",
    "mercadopago",
    "scotiabank",
    "bancoestado",
    "cuentarut",
)


def at(day: date, hh: int = 10, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LOCAL_TZ)


def build_cash_env(db_session, make_client, make_user, freeze_clock) -> SimpleNamespace:
    """Frozen clock, seeded payment methods, one order; helpers to add payments and discounts."""
    freeze_clock(NOW)
    ensure_payment_methods()
    client = make_client(name="Ana Pérez")
    order = Order(client_id=client.id, origin="recepcion")
    db_session.add(order)
    db_session.flush()

    def pay(
        amount, method="efectivo", by=None, when=NOW, status="valido", after_close=False, reference=None, target=None
    ):
        p = Payment(
            order_id=(target or order).id,
            amount=amount,
            method=method,
            paid_at=when,
            status=status,
            recorded_by_id=getattr(by, "id", None),
            is_refund=amount < 0,
            after_close=after_close,
            reference=reference,
            created_at=clock.now(),
        )
        db_session.add(p)
        db_session.flush()
        return p

    def discount(amount, by=None, when=NOW, status="activo"):
        d = Discount(
            order_id=order.id,
            amount=amount,
            reason="Cortesía",
            created_by_id=getattr(by, "id", None),
            created_at=when,
            status=status,
        )
        db_session.add(d)
        db_session.flush()
        return d

    return SimpleNamespace(client=client, order=order, pay=pay, discount=discount, make_user=make_user)


@pytest.fixture
def cash_env(db_session, make_client, make_user, freeze_clock):
    return build_cash_env(db_session, make_client, make_user, freeze_clock)


def day_filter(start=TODAY, end=TODAY, **kw) -> CashFilter:
    return CashFilter(at(start, 0), at(end + timedelta(days=1), 0), **kw)


# --- totals ------------------------------------------------------------------------------------------------------


def test_blocks_separate_real_money_gift_cards_and_discounts(cash_env):
    u = cash_env.make_user("recepcion")
    cash_env.pay(10000, "efectivo", by=u)
    cash_env.pay(5000, "efectivo", by=u)
    cash_env.pay(-3000, "efectivo", by=u)
    cash_env.pay(20000, "tarjeta", by=u)
    cash_env.pay(99999, "tarjeta", by=u, status="anulado")
    cash_env.pay(7000, "giftcard", by=u)
    cash_env.pay(1000, "efectivo", by=u, when=at(TODAY - timedelta(days=1), 23, 59))  # yesterday: out of range
    cash_env.discount(4000, by=u)
    cash_env.discount(500, by=u, status="anulado")

    s = load_summary(day_filter())
    rows = {m.code: m for m in s.methods}
    assert list(rows) == ["efectivo", "tarjeta"]  # sort_order, only methods with movements, no gift card
    assert (rows["efectivo"].transactions, rows["efectivo"].income, rows["efectivo"].refunds, rows["efectivo"].net) == (
        3,
        15000,
        -3000,
        12000,
    )
    assert rows["tarjeta"].net == 20000 and rows["tarjeta"].transactions == 1
    assert s.cash_total == {"transactions": 4, "income": 35000, "refunds": -3000, "net": 32000}
    assert (s.giftcards.count, s.giftcards.total) == (1, 7000)
    assert (s.discount_count, s.discount_total) == (1, 4000)
    [d] = s.users
    assert (d.username, d.payments, d.cash_net, d.giftcard, d.discount_count, d.discounts) == (
        u.username,
        5,
        32000,
        7000,
        1,
        4000,
    )
    for value in (*s.cash_total.values(), s.giftcards.total, s.discount_total, d.cash_net):
        assert type(value) is int  # CLP integers on every backend


@pytest.mark.parametrize("seed", range(8))
def test_property_valid_detail_rows_equal_block_totals(cash_env, seed):
    """For random payments (refunds, voided, gift cards, several users and methods) and random filters:
    Σ valid detail rows = blocks A/B/D; voided never counted; discounts never in the cash totals."""
    rnd = random.Random(seed)
    users = [cash_env.make_user(rnd.choice(["recepcion", "gerente", "admin"])) for _ in range(3)] + [None]
    methods = [*CASH_METHODS, "giftcard"]
    start, end = TODAY - timedelta(days=2), TODAY
    payments, discounts = [], []
    for _ in range(rnd.randint(0, 60)):
        day = start + timedelta(days=rnd.randint(-1, 3))  # some before and after the range
        when = at(day, 0) if rnd.random() < 0.1 else at(day, rnd.randint(0, 23), rnd.randint(0, 59))
        amount = rnd.choice([1, -1]) * rnd.randint(1, 200) * 500 if rnd.random() < 0.2 else rnd.randint(1, 400) * 250
        p = cash_env.pay(
            amount,
            rnd.choice(methods),
            by=rnd.choice(users),
            when=when,
            status="anulado" if rnd.random() < 0.2 else "valido",
            after_close=rnd.random() < 0.1,
        )
        payments.append(p)
    for _ in range(rnd.randint(0, 10)):
        when = at(start + timedelta(days=rnd.randint(-1, 3)), rnd.randint(0, 23))
        discounts.append(
            cash_env.discount(
                rnd.randint(1, 50) * 100,
                by=rnd.choice(users),
                when=when,
                status=rnd.choice(["activo", "activo", "anulado"]),
            )
        )
    method = rnd.choice([None, None, rnd.choice(methods)])
    user = rnd.choice([None, None, *[u for u in users if u]])
    f = day_filter(start, end, method=method, user_ids=[user.id] if user else None)
    lo, hi = f.start_utc, f.end_utc

    def selected(p):
        return (
            lo <= p.paid_at < hi
            and (method is None or p.method == method)
            and (user is None or p.recorded_by_id == user.id)
        )

    expected_valid = [p for p in payments if selected(p) and p.status == "valido"]
    s = load_summary(f)
    detail = db.session.execute(queries.detail(f)).all()
    assert sorted(r.id for r in detail) == sorted(p.id for p in expected_valid)
    assert all(r.status == "valido" for r in detail)
    with_voided = db.session.execute(queries.detail(CashFilter(**{**f.__dict__, "include_voided": True}))).all()
    assert sorted(r.id for r in with_voided) == sorted(p.id for p in payments if selected(p))

    cash_codes = set(CASH_METHODS)
    per_method = defaultdict(lambda: [0, 0, 0, 0])
    for r in detail:
        if r.method in cash_codes:
            m = per_method[r.method]
            m[0] += 1
            m[1] += max(r.amount, 0)
            m[2] += min(r.amount, 0)
            m[3] += r.amount
    assert {m.code: [m.transactions, m.income, m.refunds, m.net] for m in s.methods} == dict(per_method)
    assert s.cash_total["net"] == sum(r.amount for r in detail if r.method in cash_codes)
    gift = [r.amount for r in detail if r.method == "giftcard"]
    assert (s.giftcards.count, s.giftcards.total) == (len(gift), sum(gift))
    assert s.cash_total["net"] + s.giftcards.total == sum(r.amount for r in detail)
    assert (s.totals.count, s.totals.total) == (len(detail), sum(r.amount for r in detail))
    assert s.totals.voided == len(with_voided) - len(detail)
    pages = [db.session.execute(queries.detail_page(f, n, 7)).all() for n in range(1, len(detail) // 7 + 2)]
    assert [r.id for page in pages for r in page] == [r.id for r in detail]  # pages tile the detail in order

    active = [
        d
        for d in discounts
        if d.status == "activo" and lo <= d.created_at < hi and (user is None or d.created_by_id == user.id)
    ]
    assert (s.discount_count, s.discount_total) == (len(active), sum(d.amount for d in active))

    by_user = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in detail:
        uid = next(p.recorded_by_id for p in expected_valid if p.id == r.id)
        by_user[uid][0] += 1
        by_user[uid][1] += r.amount if r.method in cash_codes else 0
        by_user[uid][2] += r.amount if r.method == "giftcard" else 0
    for d in active:
        by_user[d.created_by_id][3] += 1
        by_user[d.created_by_id][4] += d.amount
    assert {u.user_id: [u.payments, u.cash_net, u.giftcard, u.discount_count, u.discounts] for u in s.users} == dict(
        by_user
    )


def test_reception_only_covers_recepcion_users(cash_env):
    r1, r2, g = (cash_env.make_user("recepcion"), cash_env.make_user("recepcion"), cash_env.make_user("gerente"))
    cash_env.pay(1000, by=r1)
    cash_env.pay(2000, by=r2)
    cash_env.pay(4000, by=g)
    cash_env.pay(8000, by=None)
    assert load_summary(day_filter(reception_only=True)).cash_total["net"] == 3000
    assert load_summary(day_filter(reception_only=True, user_ids=[r2.id])).cash_total["net"] == 2000
    assert load_summary(day_filter()).cash_total["net"] == 15000


# --- views -------------------------------------------------------------------------------------------------------


def test_page_and_fragment(cash_env, login):
    c = login("gerente")
    p = cash_env.pay(12345, "efectivo", by=c.user, reference="boleta 77")
    late = cash_env.pay(500, "tarjeta", by=c.user, after_close=True)
    voided = cash_env.pay(999, "efectivo", by=c.user, status="anulado")
    full = c.get("/ventas/caja-diaria/")
    assert full.status_code == 200 and "HX-Request" in full.headers["Vary"]
    html = full.text
    assert "<html" in html and 'id="cash-filters"' in html and 'id="cash-report"' in html
    assert 'hx-push-url="true"' in html and 'hx-target="#cash-report"' in html
    assert f'id="payment-{p.id}"' in html and "boleta 77" in html and "$12.345" in html
    assert re.search(rf'id="payment-{late.id}".*?posterior al cierre', html, re.S)
    assert f'id="payment-{voided.id}"' not in html
    assert re.search(r'id="cash-total">\$12\.845<', html)
    assert "data-chart='" in html and "chart-4.5.1.umd.min." in html and "js/charts." in html
    frag = c.get("/ventas/caja-diaria/?incluir_anulados=1", headers={"HX-Request": "true"})
    assert frag.status_code == 200
    assert frag.text.lstrip().startswith('<div id="cash-report"') and "<html" not in frag.text
    assert re.search(rf'<tr id="payment-{voided.id}" class="[^"]*text-decoration-line-through', frag.text)
    assert re.search(r'id="cash-total">\$12\.845<', frag.text)  # voided shown, never counted


def test_bad_filters_give_notices_not_errors(cash_env, login):
    c = login("admin")
    cash_env.pay(1000)
    resp = c.get("/ventas/caja-diaria/?fecha_inicio=32/13/2026&metodo_pago=bitcoin&usuario=9999999&page=abc")
    assert resp.status_code == 200
    assert "Fecha inválida, se usó hoy" in resp.text
    assert "Método de pago inválido" in resp.text and "Usuario inválido" in resp.text
    assert login("admin").get("/ventas/caja-diaria/?usuario=abc&metodo_pago=").status_code == 200


def test_filters_by_method_user_and_dates(cash_env, login):
    c = login("gerente")
    other = cash_env.make_user("recepcion")
    a = cash_env.pay(1000, "efectivo", by=other)
    b = cash_env.pay(2000, "tarjeta", by=c.user)
    old = cash_env.pay(3000, "efectivo", by=other, when=at(TODAY - timedelta(days=3)))
    html = c.get(f"/ventas/caja-diaria/?metodo_pago=efectivo&usuario={other.id}").text
    assert f'id="payment-{a.id}"' in html and f'id="payment-{b.id}"' not in html
    html = c.get(f"/ventas/caja-diaria/?fecha_inicio={TODAY}&fecha_fin={TODAY - timedelta(days=5)}").text
    assert all(f'id="payment-{p.id}"' in html for p in (a, b, old))  # inverted range swapped


def test_pagination_50_per_page_with_totals_over_all_rows(cash_env, login):
    c = login("gerente")
    for i in range(55):
        cash_env.pay(1000, when=NOW - timedelta(minutes=i))
    first = c.get("/ventas/caja-diaria/").text
    assert first.count('<tr id="payment-') == 50 and "Página 1 de 2" in first
    assert re.search(r'id="detail-total">\$55\.000<', first)
    second = c.get("/ventas/caja-diaria/?page=2", headers={"HX-Request": "true"}).text
    assert second.count('<tr id="payment-') == 5


def test_statements_per_request_do_not_grow_with_rows(cash_env, login, count_statements):
    c = login("gerente")
    users = [cash_env.make_user("recepcion") for _ in range(3)]

    def add(n):
        for i in range(n):
            cash_env.pay(
                1000 + i,
                ["efectivo", "tarjeta", "giftcard"][i % 3],
                by=users[i % 3],
                status="anulado" if i % 7 == 0 else "valido",
                after_close=i % 5 == 0,
            )
            cash_env.discount(100, by=users[i % 3])

    url = "/ventas/caja-diaria/?incluir_anulados=1"
    add(3)
    few = count_statements(lambda: c.get(url))
    add(27)
    many = count_statements(lambda: c.get(url))
    assert few == many, (few, many)
    # The export runs the same statements as the page (the gift-card sales line is one grouped statement in both),
    # with the streamed "Detalle" query instead of the page's; on PostgreSQL stream_rows adds exactly one constant
    # statement before it, `SET LOCAL cursor_tuple_fraction = 1.0` (a plan for reading every row of the cursor).
    streaming_setup = 1 if db.session.get_bind().dialect.name == "postgresql" else 0
    assert count_statements(lambda: c.get(url + "&export=xlsx")) <= many + streaming_setup


def test_excel_export(cash_env, login):
    c = login("gerente")
    cash_env.pay(10000, "efectivo", by=c.user)
    cash_env.pay(-2500, "efectivo", by=c.user)
    cash_env.pay(4000, "giftcard", by=c.user)
    cash_env.pay(777, "tarjeta", by=c.user, status="anulado")
    cash_env.discount(1500, by=c.user)
    for export in ("excel", "xlsx"):
        resp = c.get(f"/ventas/caja-diaria/?export={export}")
        assert resp.status_code == 200
        assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert resp.headers["Content-Disposition"] == 'attachment; filename="Caja_Diaria_20260302_120000.xlsx"'
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["Resumen", "Por Usuario", "Detalle"]
    resumen = list(wb["Resumen"].iter_rows(values_only=True))
    total = next(r for r in resumen if r[1] == "Total dinero real")
    assert total[2:] == (2, 10000, -2500, 7500)
    assert next(r for r in resumen if r[0] == "Gift cards redimidas")[5] == 4000
    assert next(r for r in resumen if r[1] == "Total descuentos")[2::3] == (1, 1500)
    assert next(r for r in resumen if r[1] == "Fecha inicio")[2] == datetime(2026, 3, 2)
    users = list(wb["Por Usuario"].iter_rows(values_only=True))
    assert users[1] == (c.user.username, 3, 7500, 4000, 1, 1500)
    detail = list(wb["Detalle"].iter_rows(values_only=True))
    assert detail[0] == (
        "ID Pago",
        "Fecha Pago",
        "ID Venta/Reserva",
        "Cliente",
        "Método de Pago",
        "Monto",
        "Usuario",
        "Tipo",
        "Estado",
        "Referencia",
    )
    assert len(detail) == 4  # voided left out unless incluir_anulados
    assert detail[1][1] == datetime(2026, 3, 2, 12, 0) and detail[1][3] == "Ana Pérez"
    assert {r[7] for r in detail[1:]} == {"Pago", "Reembolso"} and sum(r[5] for r in detail[1:]) == 11500
    with_voided = load_workbook(io.BytesIO(c.get("/ventas/caja-diaria/?export=xlsx&incluir_anulados=1").data))
    assert [r[8] for r in with_voided["Detalle"].iter_rows(min_row=2, values_only=True)].count("Anulado") == 1


# --- recepcionistas ----------------------------------------------------------------------------------------------


def test_recepcion_sees_only_own_payments_whatever_the_query_string(cash_env, login):
    other = cash_env.make_user("recepcion")
    c = login("recepcion")
    mine = cash_env.pay(1000, by=c.user)
    theirs = cash_env.pay(2000, by=other)
    for url in ("/ventas/caja-diaria-recepcionistas/", f"/ventas/caja-diaria-recepcionistas/?usuario={other.id}"):
        resp = c.get(url)
        assert resp.status_code == 200
        assert "Caja Diaria - Recepción" in resp.text
        assert f'id="payment-{mine.id}"' in resp.text and f'id="payment-{theirs.id}"' not in resp.text
        assert 'name="usuario"' not in resp.text  # user filter fixed and hidden
        assert re.search(r'id="cash-total">\$1\.000<', resp.text)
    xlsx = load_workbook(io.BytesIO(c.get(f"/ventas/caja-diaria-recepcionistas/?usuario={other.id}&export=xlsx").data))
    assert [r[0] for r in xlsx["Detalle"].iter_rows(min_row=2, values_only=True)] == [mine.id]
    assert c.get("/ventas/caja-diaria/").status_code == 403


def test_manager_reception_page_lists_active_recepcion_users(cash_env, login):
    r1 = cash_env.make_user("recepcion", full_name="Rocío")
    inactive = cash_env.make_user("recepcion", is_active=False)
    c = login("gerente")
    p1 = cash_env.pay(1000, by=r1)
    p_manager = cash_env.pay(5000, by=c.user)
    html = c.get("/ventas/caja-diaria-recepcionistas/").text
    assert "Todos los de recepción" in html
    assert f'<option value="{r1.id}"' in html and f'<option value="{inactive.id}"' not in html
    assert f'<option value="{c.user.id}"' not in html
    assert f'id="payment-{p1.id}"' in html and f'id="payment-{p_manager.id}"' not in html
    html = c.get(f"/ventas/caja-diaria-recepcionistas/?usuario={c.user.id}").text  # not a recepcion user
    assert "Usuario inválido" in html and f'id="payment-{p_manager.id}"' not in html


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/ventas/caja-diaria/", {"gerente", "admin"}),
        ("/ventas/caja-diaria-recepcionistas/", {"recepcion", "gerente", "admin"}),
    ],
)
def test_access_by_role(cash_env, client, login, path, allowed):
    assert client.get(path).status_code == 302
    for role in ("recepcion", "marketing", "gerente", "admin"):
        assert login(role).get(path).status_code == (200 if role in allowed else 403), role


def test_payment_methods_fixture_is_complete(cash_env):
    codes = set(db.session.scalars(queries.payment_methods().with_only_columns(PaymentMethod.code)))
    assert codes >= {*CASH_METHODS, "giftcard"}


def test_rows_without_a_user_and_the_sistema_user_make_one_sistema_row(cash_env, login):
    """UX review D20: payments and discounts with no user (old data, jobs) and those of the built-in `sistema` user
    were two rows both labelled "sistema" in *Por usuario*, *Descuentos otorgados* and the Excel sheet."""
    from app.auth.services import ensure_system_user

    sistema = ensure_system_user()
    c = login("gerente")
    cash_env.pay(10000, "efectivo", by=None)
    cash_env.pay(5000, "tarjeta", by=sistema)
    cash_env.pay(3000, "giftcard", by=sistema)
    cash_env.pay(2000, "efectivo", by=c.user)
    cash_env.discount(1000, by=None)
    cash_env.discount(500, by=sistema)
    s = load_summary(day_filter())
    assert [(u.username, u.payments, u.cash_net, u.giftcard, u.discount_count, u.discounts) for u in s.users] == [
        (c.user.username, 1, 2000, 0, 0, 0),
        ("sistema", 3, 15000, 3000, 2, 1500),
    ]
    assert [(d.username, d.count, d.total) for d in s.discounts] == [("sistema", 2, 1500)]
    html = c.get("/ventas/caja-diaria/").text
    by_user = html.split('id="by-user"')[1].split("</section>")[0]
    assert by_user.count("<td>sistema</td>") == 1
    discounts = html.split('id="discounts"')[1].split("</section>")[0]
    assert discounts.count("<td>sistema</td>") == 1
    wb = load_workbook(io.BytesIO(c.get("/ventas/caja-diaria/?export=xlsx").data))
    users = list(wb["Por Usuario"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in users] == [c.user.username, "sistema"] and users[1][1:] == (3, 15000, 3000, 2, 1500)


def test_gift_card_redemptions_are_spelled_in_plural(cash_env, login):
    c = login("gerente")
    cash_env.pay(3000, "giftcard", by=c.user)
    assert "1 redención<" in c.get("/ventas/caja-diaria/").text
    cash_env.pay(2000, "giftcard", by=c.user)
    html = c.get("/ventas/caja-diaria/").text
    assert "2 redenciones<" in html and "redenciónes" not in html
