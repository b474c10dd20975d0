"""Sales list `/ventas/venta_reservas/` (spec reports.md §5): filters, footer, pagination, HTMX, Excel, statements."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.core.clock import LOCAL_TZ
from app.core.money import format_clp
from app.sales.models import Order, ProductLine, ServiceLine
from app.sales.payment_services import record_payment
from app.sales.services import cancel_order, recalculate_order

MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)
URL = "/ventas/venta_reservas/"
HX = {"HX-Request": "true"}


def make_order(db_session, client, *, lines=(), products=(), sold_at=None, origin="recepcion", **fields):
    """Rows written directly (the report reads rows; the booking rules are tested in tests/sales)."""
    order = Order(client_id=client.id, origin=origin, contact_name=client.name, contact_phone=client.phone, **fields)
    if sold_at is not None:
        order.sold_at = order.created_at = sold_at
    db_session.add(order)
    db_session.flush()
    for spec in lines:
        service, day, people, *rest = spec
        rule = service.pricing_rule
        db_session.add(
            ServiceLine(
                order_id=order.id,
                service_id=service.id,
                service_date=day,
                start_time=rest[1] if len(rest) > 1 else "14:00",
                people=people,
                unit_price=service.base_price,
                pricing_rule=rule,
                subtotal=service.base_price * (people if rule == "por_persona" else 1),
                status=rest[0] if rest else "pendiente",
            )
        )
    for product, qty, *rest in products:
        db_session.add(
            ProductLine(
                order_id=order.id,
                product_id=product.id,
                quantity=qty,
                unit_price=product.base_price,
                subtotal=product.base_price * qty,
                status=rest[0] if rest else "activa",
            )
        )
    db_session.flush()
    recalculate_order(order)
    return order


def order_ids(text: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="order-(\d+)"', text)]


def cell(text: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}">\s*([^<]*?)\s*<', text)
    assert m, element_id
    return m.group(1)


@pytest.fixture
def sales(booking_setup, db_session, make_client, make_product):
    """Four orders of 02/03/2026 and one of the day before, with varied states, origins and lines."""
    s = booking_setup
    maria = make_client(name="María Pérez", phone="+56987654321")
    juan = make_client(name="Juan Soto", phone="+56912345678")
    espumante = make_product(name="Espumante", base_price=12000)
    masajes = s["relajacion"]
    o1 = make_order(
        db_session,
        maria,
        lines=[(s["calipso"], MONDAY, 2), (masajes, MONDAY, 1, "pendiente", "13:00")],
        products=[(espumante, 1)],
    )
    record_payment(o1, amount=o1.total, method="efectivo")  # pagado
    o2 = make_order(
        db_session,
        juan,
        lines=[(s["calipso"], MONDAY + timedelta(days=7), 3)],
        origin="web",
        sold_at=NOW + timedelta(hours=1),
    )
    record_payment(o2, amount=10000, method="transferencia")  # parcial
    o3 = make_order(db_session, juan, lines=[(s["arrayan"], MONDAY, 2)], sold_at=NOW + timedelta(hours=2))
    record_payment(o3, amount=100000, method="tarjeta", allow_credit=True)  # pagado, credit 10.000
    o4 = make_order(
        db_session,
        maria,
        lines=[(s["calipso"], MONDAY, 1, "cancelada")],
        sold_at=NOW + timedelta(hours=3),
        origin="telefono",
    )
    o4.cancelled_at = NOW
    recalculate_order(o4)
    old = make_order(db_session, maria, lines=[(s["calipso"], MONDAY, 1)], sold_at=NOW - timedelta(days=1))
    db_session.commit()
    return {
        "o1": o1,
        "o2": o2,
        "o3": o3,
        "o4": o4,
        "old": old,
        "maria": maria,
        "juan": juan,
        "espumante": espumante,
        **s,
    }


def test_default_is_today_by_sale_date_newest_first_with_line_summaries(login, sales):
    c = login("recepcion")
    resp = c.get(URL)
    assert resp.status_code == 200 and "HX-Request" in resp.headers["Vary"]
    s = sales
    assert order_ids(resp.text) == [s["o4"].id, s["o3"].id, s["o2"].id, s["o1"].id]
    row = resp.text.split(f'<tr id="order-{s["o1"].id}"')[1].split("</tr>")[0]
    assert "Tina Calipso ×2, Masaje Relajación ×1" in row and "Espumante ×1" in row
    assert "María Pérez" in row and "02/03/2026 10:00" in row and "Pagada" in row
    credit_row = resp.text.split(f'<tr id="order-{s["o3"].id}"')[1].split("</tr>")[0]
    assert "a favor $10.000" in credit_row
    cancelled_row = resp.text.split(f'<tr id="order-{s["o4"].id}"')[1].split("</tr>")[0]
    assert "Cancelada" in cancelled_row and "Tina Calipso ×1" in cancelled_row  # cancelled order keeps its lines
    assert 'id="order-filters"' in resp.text and 'id="order-export"' in resp.text


def test_footer_sums_equal_the_sums_of_all_filtered_rows(login, sales, db_session):
    c = login("gerente")
    resp = c.get(URL)
    orders = [sales[k] for k in ("o1", "o2", "o3", "o4")]
    assert cell(resp.text, "sum-total") == format_clp(sum(o.total for o in orders))
    assert cell(resp.text, "sum-paid") == format_clp(sum(o.paid for o in orders))
    assert cell(resp.text, "sum-balance") == format_clp(sum(o.balance_due for o in orders))
    assert cell(resp.text, "sum-credit") == "a favor " + format_clp(sum(o.credit for o in orders))


def test_date_range_and_base_servicio(login, sales):
    c = login("recepcion")
    s = sales
    both_days = c.get(URL, query_string={"fecha_inicio": "2026-03-01", "fecha_fin": "2026-03-02"})
    assert s["old"].id in order_ids(both_days.text) and len(order_ids(both_days.text)) == 5
    next_week = c.get(URL, query_string={"fecha_inicio": "2026-03-09", "fecha_fin": "2026-03-09", "base": "servicio"})
    assert order_ids(next_week.text) == [s["o2"].id]
    today_service = c.get(URL, query_string={"base": "servicio"})
    assert set(order_ids(today_service.text)) == {s["o1"].id, s["o3"].id, s["o4"].id, s["old"].id}
    inverted = c.get(URL, query_string={"fecha_inicio": "2026-03-02", "fecha_fin": "2026-03-01"})
    assert len(order_ids(inverted.text)) == 5


def test_category_and_service_filters(login, sales, db_session):
    c = login("recepcion")
    s = sales
    tinas = s["calipso"].category_id
    by_cat = c.get(URL, query_string={"categoria": tinas})
    assert set(order_ids(by_cat.text)) == {s["o1"].id, s["o2"].id, s["o4"].id}
    by_service = c.get(URL, query_string={"servicio": s["relajacion"].id})
    assert order_ids(by_service.text) == [s["o1"].id]
    # with base=servicio one line must match both the service and the dates
    assert order_ids(
        c.get(
            URL,
            query_string={
                "servicio": s["calipso"].id,
                "base": "servicio",
                "fecha_inicio": "2026-03-09",
                "fecha_fin": "2026-03-09",
            },
        ).text
    ) == [s["o2"].id]


@pytest.mark.parametrize(
    "args, expected",
    [
        ({"estado_pago": "pagado"}, {"o1", "o3"}),
        ({"estado_pago": "parcial"}, {"o2"}),
        ({"estado_pago": "cancelado"}, {"o4"}),
        ({"estado_reserva": "cancelada"}, {"o4"}),
        ({"estado_reserva": "pendiente"}, {"o1", "o2", "o3"}),
        ({"origen": "web"}, {"o2"}),
        ({"origen": "telefono"}, {"o4"}),
        ({"requiere_reembolso": "no"}, {"o1", "o2", "o3", "o4"}),
    ],
)
def test_state_and_origin_filters(login, sales, args, expected):
    resp = login("recepcion").get(URL, query_string=args)
    assert set(order_ids(resp.text)) == {sales[k].id for k in expected}


def test_requires_refund_filter(login, sales, db_session):
    cancel_order(db_session.get(Order, sales["o2"].id), reason="cliente no viene")  # $10.000 paid -> reembolso
    db_session.commit()
    resp = login("gerente").get(URL, query_string={"requiere_reembolso": "si"})
    assert order_ids(resp.text) == [sales["o2"].id] and "Requiere reembolso" in resp.text


@pytest.mark.parametrize(
    "q, expected",
    [
        ("maría", {"o1", "o4"}),
        ("SOTO", {"o2", "o3"}),
        ("9 8765 4321", {"o1", "o4"}),
        ("12345678", {"o2", "o3"}),
    ],
)
def test_search_by_name_and_phone(login, sales, q, expected):
    resp = login("recepcion").get(URL, query_string={"q": q})
    assert set(order_ids(resp.text)) == {sales[k].id for k in expected}


def test_search_by_order_number(login, sales):
    c = login("recepcion")
    oid = sales["o3"].id
    assert order_ids(c.get(URL, query_string={"q": str(oid)}).text) == [oid]
    assert order_ids(c.get(URL, query_string={"q": f"#{oid}"}).text) == [oid]


def test_bad_filter_values_are_ignored_never_a_500(login, sales):
    c = login("recepcion")
    resp = c.get(
        URL,
        query_string={
            "categoria": "abc",
            "servicio": "99999999999999",
            "estado_pago": "x'--",
            "estado_reserva": "zzz",
            "origen": "<b>",
            "requiere_reembolso": "quizás",
            "base": "otra",
            "page": "-3",
            "q": "%_\\",
        },
    )
    assert resp.status_code == 200
    bad_date = c.get(URL, query_string={"fecha_inicio": "02/03/2026"})
    assert bad_date.status_code == 200 and "Fecha inválida, se usó hoy" in bad_date.text
    assert len(order_ids(bad_date.text)) == 4


def test_htmx_request_returns_only_the_list_block(login, sales):
    resp = login("recepcion").get(URL, query_string={"origen": "web"}, headers=HX)
    assert resp.status_code == 200 and "HX-Request" in resp.headers["Vary"]
    assert resp.text.lstrip().startswith('<div id="order-list">')
    assert "<html" not in resp.text and 'id="order-filters"' not in resp.text
    assert order_ids(resp.text) == [sales["o2"].id]
    assert "origen=web" in resp.text  # the export link keeps the filters


def test_pagination_50_per_page_and_footer_over_all_pages(login, booking_setup, db_session, make_client):
    client = make_client(name="Cliente Masivo")
    orders = [
        make_order(
            db_session,
            client,
            lines=[(booking_setup["calipso"], MONDAY, 1 + i % 3)],
            sold_at=NOW + timedelta(minutes=i),
        )
        for i in range(55)
    ]
    db_session.commit()
    c = login("recepcion")
    first = c.get(URL)
    assert len(order_ids(first.text)) == 50 and "Página 1 de 2" in first.text
    assert order_ids(first.text)[0] == orders[-1].id
    second = c.get(URL, query_string={"page": 2})
    assert order_ids(second.text) == [o.id for o in reversed(orders[:5])]
    assert cell(second.text, "sum-total") == format_clp(sum(o.total for o in orders))
    assert order_ids(c.get(URL, query_string={"page": 99}).text) == order_ids(second.text)  # clamped


def test_excel_export(login, sales):
    c = login("gerente")
    for value in ("excel", "xlsx"):
        resp = c.get(URL, query_string={"export": value, "fecha_inicio": "2026-03-01", "fecha_fin": "2026-03-02"})
        assert resp.status_code == 200
        assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert re.fullmatch(
            r'attachment; filename="Ventas_Reservas_\d{8}_\d{6}\.xlsx"', resp.headers["Content-Disposition"]
        )
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames[0] == "Ventas" and "Resumen" in wb.sheetnames
    ws = wb["Ventas"]
    headers = [c.value for c in ws[1]]
    assert headers == [
        "ID Venta/Reserva",
        "Fecha Venta",
        "Cliente",
        "Teléfono",
        "Servicios",
        "Productos",
        "Total Servicios",
        "Total Productos",
        "Descuentos",
        "Total",
        "Pagado",
        "Saldo Pendiente",
        "Saldo a Favor",
        "Estado Pago",
        "Estado Reserva",
        "Origen",
    ]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert len(rows) == 5
    r1 = rows[sales["o1"].id]
    assert r1[1].is_date and r1[1].value == datetime(2026, 3, 2, 10, 0) and r1[1].number_format == "DD/MM/YYYY HH:MM"
    assert r1[2].value == "María Pérez" and r1[3].value == "+56 9 8765 4321"
    assert r1[4].value == "Tina Calipso ×2, Masaje Relajación ×1" and r1[5].value == "Espumante ×1"
    assert isinstance(r1[9].value, int) and r1[9].value == sales["o1"].total and r1[9].number_format == "#,##0"
    assert r1[13].value == "Pagada" and r1[14].value == "Pendiente" and r1[15].value == "Recepción"
    r3 = rows[sales["o3"].id]
    assert r3[11].value == 0 and r3[12].value == 10000
    summary = {r[0].value: r[1].value for r in wb["Resumen"].iter_rows(min_row=2)}
    assert summary["Ventas"] == 5 and summary["Σ Total"] == sum(r[9].value for r in rows.values())


def test_excel_export_follows_the_filters(login, sales):
    resp = login("recepcion").get(URL, query_string={"export": "xlsx", "origen": "web"})
    ws = load_workbook(io.BytesIO(resp.data))["Ventas"]
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == [sales["o2"].id]


def test_access_per_role(client, login, sales):
    assert client.get(URL).status_code == 302
    for role in ("recepcion", "gerente", "admin"):
        assert login(role).get(URL).status_code == 200
    assert login("marketing").get(URL).status_code == 403


def _bulk(db_session, setup, client, product, n, start):
    for i in range(n):
        make_order(
            db_session,
            client,
            lines=[(setup["calipso"], MONDAY, 1), (setup["relajacion"], MONDAY, 1)],
            products=[(product, 2)],
            sold_at=NOW + timedelta(minutes=start + i),
        )
    db_session.commit()


def test_statements_constant_in_the_number_of_orders(
    login, booking_setup, db_session, make_client, make_product, count_statements
):
    client, product = make_client(), make_product(name="Agua")
    c = login("recepcion")
    _bulk(db_session, booking_setup, client, product, 2, 0)
    few_page = count_statements(lambda: c.get(URL))
    few_fragment = count_statements(lambda: c.get(URL, headers=HX))
    few_export = count_statements(lambda: c.get(URL, query_string={"export": "xlsx"}))
    _bulk(db_session, booking_setup, client, product, 70, 10)
    assert count_statements(lambda: c.get(URL)) == few_page
    assert count_statements(lambda: c.get(URL, headers=HX)) == few_fragment
    assert count_statements(lambda: c.get(URL, query_string={"export": "xlsx"})) == few_export
    # savepoint + rollback of the test harness, user, totals, page, summaries, filter choices (2), navbar
    assert few_page <= 9 and few_fragment <= 6


def test_excel_summaries_are_read_per_chunk_while_rows_stream(login, sales, monkeypatch, count_statements):
    from app.reports import sales_exports

    c = login("gerente")
    args = {"export": "xlsx", "fecha_inicio": "2026-03-01", "fecha_fin": "2026-03-02"}
    one_chunk = count_statements(lambda: c.get(URL, query_string=args))
    monkeypatch.setattr(sales_exports, "CHUNK", 2)  # 5 orders -> 3 chunks, each with its own summary statement
    resp = c.get(URL, query_string=args)
    assert count_statements(lambda: c.get(URL, query_string=args)) == one_chunk + 2
    rows = {r[0].value: r for r in load_workbook(io.BytesIO(resp.data))["Ventas"].iter_rows(min_row=2)}
    assert len(rows) == 5
    assert rows[sales["o1"].id][4].value == "Tina Calipso ×2, Masaje Relajación ×1"
    assert rows[sales["o3"].id][4].value == "Cabaña Arrayán ×2"
    assert rows[sales["old"].id][4].value == "Tina Calipso ×1"
