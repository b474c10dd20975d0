"""Purchases create/edit screens (spec catalog.md §1.6): full page and fragments, HTMX line rows, stock following
the lines, 422 in Spanish with nothing written, a refused edit leaving the purchase and stock as they were."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import Provider, Purchase, PurchaseLine, StockMovement
from app.catalog.services import create_purchase
from app.core import clock
from app.sales.payment_services import ensure_payment_methods
from tests.conftest import ROLES

HX = {"HX-Request": "true"}
NEW = "/ventas/compras/nueva/"


@pytest.fixture
def stock(db_session, make_product):
    ensure_payment_methods()
    provider = Provider(name="Distribuidora Sur")
    db_session.add(provider)
    db_session.flush()
    return {"aceite": make_product(name="Aceite de masaje", stock=0), "provider": provider}


def count(db_session, model):
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def test_new_page_fragment_and_row(login, stock):
    c = login("gerente")
    page = c.get(NEW)
    assert page.status_code == 200 and "<html" in page.text and 'name="lineas-0-cantidad"' in page.text
    assert "Aceite de masaje" in page.text and "Distribuidora Sur" in page.text
    assert f'value="{clock.today().isoformat()}"' in page.text  # the purchase date defaults to today
    frag = c.get(NEW, headers=HX)
    assert frag.text.lstrip().startswith('<div id="purchase-form"')
    row = c.get("/ventas/compras/linea/", headers=HX)
    assert row.status_code == 200 and row.text.lstrip().startswith('<div class="purchase-line')
    assert 'name="lineas-' in row.text and "-cantidad" in row.text
    assert c.get("/ventas/compras/linea/?quitar=1", headers=HX).text == ""


def test_create_purchase_with_product_and_expense_lines(login, db_session, stock):
    aceite = stock["aceite"]
    c = login("gerente")
    resp = c.post(
        NEW,
        data={
            "fecha_compra": "2026-03-01",
            "proveedor_id": stock["provider"].id,
            "metodo_pago": "transferencia",
            "numero_documento": "F-123",
            "lineas-0-producto_id": aceite.id,
            "lineas-0-cantidad": "10",
            "lineas-0-precio_unitario": "$3.500",
            "lineas-171234500-descripcion": "Flete",
            "lineas-171234500-cantidad": "1",
            "lineas-171234500-precio_unitario": "12.000",
        },
    )
    assert resp.status_code == 303, resp.text
    purchase = db_session.scalars(sa.select(Purchase)).one()
    assert resp.headers["Location"].endswith(f"/ventas/compras/{purchase.id}/")
    assert purchase.total == 47000 and purchase.document_number == "F-123" and purchase.created_by_id == c.user.id
    assert [(line.description, line.quantity, line.subtotal) for line in purchase.lines] == [
        ("Aceite de masaje", 10, 35000),
        ("Flete", 1, 12000),
    ]
    db_session.refresh(aceite)
    assert aceite.stock == 10


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fecha_compra": "2026-03-01"}, "La compra debe tener al menos una línea."),
        (
            {"fecha_compra": "2026-03-01", "lineas-0-descripcion": "x", "lineas-0-precio_unitario": "1"},
            "Cantidad: ingrese",
        ),
        (
            {
                "fecha_compra": "2026-03-01",
                "lineas-0-descripcion": "x",
                "lineas-0-cantidad": "0",
                "lineas-0-precio_unitario": "1",
            },
            "Cantidad: ingrese",
        ),
        (
            {
                "fecha_compra": "2026-03-01",
                "lineas-0-descripcion": "x",
                "lineas-0-cantidad": "1",
                "lineas-0-precio_unitario": "1,5",
            },
            "Precio unitario: ingrese",
        ),
        (
            {"fecha_compra": "2026-03-01", "lineas-0-cantidad": "1", "lineas-0-precio_unitario": "1"},
            "Elija un producto o escriba la descripción.",
        ),
        (
            {
                "fecha_compra": "2026-03-01",
                "lineas-0-producto_id": "999999",
                "lineas-0-cantidad": "1",
                "lineas-0-precio_unitario": "1",
            },
            "Elija un producto de la lista.",
        ),
        (
            {"lineas-0-descripcion": "x", "lineas-0-cantidad": "1", "lineas-0-precio_unitario": "1"},
            "Indique la fecha de compra.",
        ),
        (
            {
                "fecha_compra": "2026-03-01",
                "metodo_pago": "bitcoin",
                "lineas-0-descripcion": "x",
                "lineas-0-cantidad": "1",
                "lineas-0-precio_unitario": "1",
            },
            "Elija un método de pago de la lista.",
        ),
        (
            {
                "fecha_compra": "2026-03-01",
                "proveedor_id": "999999",
                "lineas-0-descripcion": "x",
                "lineas-0-cantidad": "1",
                "lineas-0-precio_unitario": "1",
            },
            "Elija un proveedor de la lista.",
        ),
    ],
)
def test_bad_submissions_422_nothing_written(login, db_session, stock, data, message):
    resp = login("admin").post(NEW, data=data, headers=HX)
    assert resp.status_code == 422 and message in resp.text, resp.text
    assert count(db_session, Purchase) == 0 and count(db_session, StockMovement) == 0


def test_add_line_without_javascript(login, stock):
    resp = login("gerente").post(
        NEW, data={"fecha_compra": "2026-03-01", "lineas-0-descripcion": "x", "agregar_linea": "1"}
    )
    assert resp.status_code == 200 and 'name="lineas-1-cantidad"' in resp.text and "Cantidad: ingrese" not in resp.text


def test_edit_changes_removes_and_adds_lines(login, db_session, stock, make_product):
    aceite = stock["aceite"]
    toallas = make_product(name="Toallas", stock=0)
    c = login("gerente")
    purchase = create_purchase(
        lines=[
            {"product_id": aceite.id, "quantity": 10, "unit_price": 3500},
            {"product_id": toallas.id, "quantity": 4, "unit_price": 8000},
        ],
        by=c.user,
    )
    keep, drop = purchase.lines
    url = f"/ventas/compras/{purchase.id}/editar/"
    page = c.get(url)
    assert page.status_code == 200 and f'value="{keep.id}"' in page.text and "Toallas" in page.text
    assert c.get(url, headers=HX).text.lstrip().startswith('<div id="purchase-form"')
    resp = c.post(
        url,
        data={
            "fecha_compra": purchase.purchase_date.isoformat(),
            "lineas-0-id": keep.id,
            "lineas-0-producto_id": aceite.id,
            "lineas-0-descripcion": "Aceite de masaje 1 L",
            "lineas-0-cantidad": "6",
            "lineas-0-precio_unitario": "3.500",
            "lineas-5-descripcion": "Flete",
            "lineas-5-cantidad": "1",
            "lineas-5-precio_unitario": "5.000",
        },
        headers=HX,
    )
    assert resp.status_code == 204 and resp.headers["HX-Redirect"].endswith(f"/ventas/compras/{purchase.id}/")
    db_session.refresh(purchase)
    db_session.refresh(aceite)
    db_session.refresh(toallas)
    assert [(line.description, line.quantity) for line in purchase.lines] == [("Aceite de masaje 1 L", 6), ("Flete", 1)]
    assert purchase.total == 6 * 3500 + 5000 and aceite.stock == 6 and toallas.stock == 0


def test_refused_edit_leaves_purchase_and_stock(login, db_session, stock):
    aceite = stock["aceite"]
    c = login("admin")
    purchase = create_purchase(lines=[{"product_id": aceite.id, "quantity": 10, "unit_price": 3500}], by=c.user)
    line = purchase.lines[0]
    aceite.stock = 2  # eight were sold since: removing the line would leave -8
    db_session.flush()
    resp = c.post(
        f"/ventas/compras/{purchase.id}/editar/",
        data={
            "fecha_compra": purchase.purchase_date.isoformat(),
            "numero_documento": "NUEVO",
            "lineas-3-descripcion": "Flete",
            "lineas-3-cantidad": "1",
            "lineas-3-precio_unitario": "1.000",
        },
        headers=HX,
    )
    assert resp.status_code == 409 and "stock" in resp.text.lower()
    db_session.expire_all()
    purchase = db_session.get(Purchase, purchase.id)
    assert purchase.document_number is None and [x.id for x in purchase.lines] == [line.id]
    assert db_session.get(type(aceite), aceite.id).stock == 2 and count(db_session, PurchaseLine) == 1


@pytest.mark.parametrize("role", (None, *ROLES))
def test_edit_route_by_role(client, login, db_session, stock, role):
    purchase = create_purchase(lines=[{"description": "Flete", "quantity": 1, "unit_price": 1000}], by=None)
    c = login(role) if role else client
    resp = c.get(f"/ventas/compras/{purchase.id}/editar/")
    if role is None:
        assert resp.status_code == 302
    else:
        assert resp.status_code == (200 if role in ("gerente", "admin") else 403)
