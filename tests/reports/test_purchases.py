"""Purchases reports (spec reports.md §6): lists, details, footers, Excel, access, statements."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from app.catalog.models import Provider
from app.catalog.services import add_purchase_line, create_purchase
from app.core.clock import LOCAL_TZ
from app.core.money import format_clp
from app.sales.payment_services import ensure_payment_methods

LIST = "/ventas/compras/"
LINES = "/ventas/detalles-compras/"
HX = {"HX-Request": "true"}
TODAY = date(2026, 3, 2)


def ids(text: str, prefix: str) -> list[int]:
    return [int(x) for x in re.findall(rf'<tr id="{prefix}-(\d+)"', text)]


def cell(text: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}">\s*([^<]*?)\s*<', text)
    assert m, element_id
    return m.group(1)


@pytest.fixture
def purchases(db_session, make_product, make_user, freeze_clock):
    freeze_clock(datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ))
    ensure_payment_methods()
    boss = make_user("gerente")
    vina, bodega = Provider(name="Viña Sur"), Provider(name="Bodega Central")
    db_session.add_all([vina, bodega])
    db_session.flush()
    espumante = make_product(name="Espumante", base_price=12000, stock=0)
    agua = make_product(name="Agua", base_price=1500, stock=0)
    p1 = create_purchase(
        lines=[
            {"product_id": espumante.id, "quantity": 12, "unit_price": 6000},
            {"product_id": agua.id, "quantity": 24, "unit_price": 500},
        ],
        by=boss,
        provider_id=vina.id,
        payment_method="transferencia",
        document_number="F-1001",
    )
    p2 = create_purchase(
        lines=[
            {"product_id": agua.id, "quantity": 48, "unit_price": 450},
            {"description": "Flete", "quantity": 1, "unit_price": 8000},
        ],
        by=boss,
        provider_id=bodega.id,
        payment_method="efectivo",
        document_number="B-77",
    )
    old = create_purchase(
        lines=[{"product_id": espumante.id, "quantity": 6, "unit_price": 6500}],
        by=boss,
        provider_id=vina.id,
        purchase_date=date(2026, 2, 20),
    )
    db_session.commit()
    return {"p1": p1, "p2": p2, "old": old, "vina": vina, "bodega": bodega, "espumante": espumante, "agua": agua}


def test_purchase_list_default_today_with_footer(login, purchases):
    resp = login("gerente").get(LIST)
    assert resp.status_code == 200
    p1, p2 = purchases["p1"], purchases["p2"]
    assert ids(resp.text, "purchase") == [p2.id, p1.id]
    row = resp.text.split(f'<tr id="purchase-{p1.id}"')[1].split("</tr>")[0]
    assert "02/03/2026" in row and "Viña Sur" in row and "F-1001" in row and "Transferencia bancaria" in row
    assert ">2</td>" in row and "$84.000" in row  # 12 × 6.000 + 24 × 500
    assert cell(resp.text, "sum-purchases") == format_clp(p1.total + p2.total) == "$113.600"
    assert 'id="purchase-filters"' in resp.text


def test_purchase_filters(login, purchases):
    c = login("admin")
    s = purchases
    month = {"fecha_inicio": "2026-02-01", "fecha_fin": "2026-03-02"}
    assert ids(c.get(LIST, query_string=month).text, "purchase") == [s["p2"].id, s["p1"].id, s["old"].id]
    by_provider = c.get(LIST, query_string={**month, "proveedor": s["vina"].id}).text
    assert ids(by_provider, "purchase") == [s["p1"].id, s["old"].id]
    assert cell(by_provider, "sum-purchases") == format_clp(s["p1"].total + s["old"].total)
    by_product = c.get(LIST, query_string={**month, "producto": s["agua"].id}).text
    assert ids(by_product, "purchase") == [s["p2"].id, s["p1"].id]  # purchases containing it
    bad = c.get(LIST, query_string={"fecha_inicio": "ayer", "proveedor": "x", "producto": "-1", "page": "z"})
    assert bad.status_code == 200 and "Fecha inválida, se usó hoy" in bad.text
    assert ids(bad.text, "purchase") == [s["p2"].id, s["p1"].id]


def test_purchase_lines_list_filters_and_footer(login, purchases):
    c = login("gerente")
    s = purchases
    resp = c.get(LINES)
    assert resp.status_code == 200
    lines = [ln for p in (s["p2"], s["p1"]) for ln in p.lines]
    assert ids(resp.text, "purchase-line") == [ln.id for ln in lines]
    assert cell(resp.text, "sum-quantity") == str(sum(ln.quantity for ln in lines)) == "85"
    assert cell(resp.text, "sum-subtotal") == format_clp(sum(ln.subtotal for ln in lines))
    flete = s["p2"].lines[1]
    row = resp.text.split(f'<tr id="purchase-line-{flete.id}"')[1].split("</tr>")[0]
    assert "Flete" in row and "Bodega Central" in row and "$8.000" in row
    only_agua = c.get(LINES, query_string={"producto": s["agua"].id}).text
    assert ids(only_agua, "purchase-line") == [s["p2"].lines[0].id, s["p1"].lines[1].id]  # only its lines
    assert cell(only_agua, "sum-quantity") == "72"


def test_htmx_fragments(login, purchases):
    c = login("gerente")
    for path, element_id in ((LIST, "purchase-list"), (LINES, "purchase-line-list")):
        full = c.get(path)
        frag = c.get(path, headers=HX)
        assert "<html" in full.text and "<html" not in frag.text
        assert frag.text.lstrip().startswith(f'<div id="{element_id}">') and "HX-Request" in frag.headers["Vary"]


def test_purchase_detail_and_line_detail(login, purchases):
    c = login("gerente")
    p1 = purchases["p1"]
    resp = c.get(f"/ventas/compras/{p1.id}/")
    assert resp.status_code == 200
    t = resp.text
    assert f"Compra #{p1.id}" in t and "Viña Sur" in t and "F-1001" in t and "Transferencia bancaria" in t
    assert "Espumante" in t and "$6.000" in t and "$72.000" in t and "$84.000" in t
    line = p1.lines[0]
    detail = c.get(f"/ventas/detalles-compras/{line.id}/")
    assert detail.status_code == 200
    assert f'href="/ventas/compras/{p1.id}/"' in detail.text and "Espumante" in detail.text
    assert "$72.000" in detail.text
    assert c.get("/ventas/compras/999999/").status_code == 404
    assert c.get("/ventas/detalles-compras/999999/").status_code == 404
    assert c.get("/ventas/compras/99999999999/").status_code == 404


def test_edit_link_when_an_edit_screen_is_installed(purchases):
    from app import create_app
    from app.reports.sales_views import purchase_edit_url
    from tests.conftest import make_test_config

    other = create_app(make_test_config())
    with other.test_request_context():
        assert purchase_edit_url(7) is None  # today: the back office lists purchases read-only
    other.add_url_rule("/ventas/compras/<int:purchase_id>/editar/", "catalog.purchase_edit", lambda purchase_id: "")
    with other.test_request_context():
        assert purchase_edit_url(7) == "/ventas/compras/7/editar/"


def test_excel_from_either_list(login, purchases):
    c = login("gerente")
    s = purchases
    for path in (LIST, LINES):
        resp = c.get(path, query_string={"export": "xlsx", "fecha_inicio": "2026-02-01", "fecha_fin": "2026-03-02"})
        assert resp.status_code == 200
        assert re.fullmatch(r'attachment; filename="Compras_\d{8}_\d{6}\.xlsx"', resp.headers["Content-Disposition"])
        wb = load_workbook(io.BytesIO(resp.data))
        assert wb.sheetnames[:2] == ["Compras", "Detalle"]
        compras, detalle = wb["Compras"], wb["Detalle"]
        assert [x.value for x in compras[1]] == [
            "ID",
            "Fecha",
            "Proveedor",
            "N° Documento",
            "Método de Pago",
            "Líneas",
            "Total",
        ]
        assert [x.value for x in detalle[1]] == [
            "ID Compra",
            "Fecha",
            "Proveedor",
            "Producto",
            "Descripción",
            "Cantidad",
            "Precio Unitario",
            "Subtotal",
        ]
        rows = list(compras.iter_rows(min_row=2))
        assert [r[0].value for r in rows] == [s["p2"].id, s["p1"].id, s["old"].id]
        first = rows[0]
        assert first[1].is_date and first[1].number_format == "DD/MM/YYYY" and first[1].value == datetime(2026, 3, 2)
        assert first[6].value == 29600 and isinstance(first[6].value, int) and first[6].number_format == "#,##0"
        assert first[4].value == "Efectivo" and first[5].value == 2
        assert rows[2][3].value is None and rows[2][4].value is None  # no document, no method: blank
        d_rows = list(detalle.iter_rows(min_row=2))
        assert len(d_rows) == 5 and sum(r[7].value for r in d_rows) == sum(r[6].value for r in rows)
        assert d_rows[1][3].value is None and d_rows[1][4].value == "Flete"
    assert c.get(LIST, query_string={"export": "excel"}).status_code == 200


def test_access_per_role(client, login, purchases):
    p1 = purchases["p1"]
    paths = [LIST, LINES, f"/ventas/compras/{p1.id}/", f"/ventas/detalles-compras/{p1.lines[0].id}/"]
    assert [client.get(path).status_code for path in paths] == [302] * 4  # anonymous: to the login page
    for role, status in (("recepcion", 403), ("marketing", 403), ("gerente", 200), ("admin", 200)):
        c = login(role)  # the same test client, now logged in as that role
        assert [c.get(path).status_code for path in paths] == [status] * 4, role


def test_statements_constant_in_the_number_of_purchases(login, purchases, db_session, make_user, count_statements):
    s = purchases
    c = login("gerente")
    p1 = s["p1"]
    detail_url = f"/ventas/compras/{p1.id}/"
    few = {path: count_statements(lambda path=path: c.get(path)) for path in (LIST, LINES, detail_url)}
    few_export = count_statements(lambda: c.get(LIST, query_string={"export": "xlsx"}))
    boss = make_user("gerente")
    for i in range(60):
        create_purchase(
            lines=[
                {"product_id": s["agua"].id, "quantity": 1 + i, "unit_price": 400},
                {"description": f"Gasto {i}", "quantity": 1, "unit_price": 100},
            ],
            by=boss,
            provider_id=s["bodega"].id,
            payment_method="efectivo",
        )
    for i in range(20):
        add_purchase_line(
            p1, {"product_id": s["espumante"].id, "quantity": 1, "unit_price": 10 + i, "_new_purchase": False}, by=boss
        )
    db_session.commit()
    for path, n in few.items():
        assert count_statements(lambda path=path: c.get(path)) == n, path
    assert count_statements(lambda: c.get(LIST, query_string={"export": "xlsx"})) == few_export
    assert max(few.values()) <= 9
