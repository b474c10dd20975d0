"""Order detail actions (spec booking.md §9): add service/product lines, change quantity, void a product line,
edit the order — services and dialogs (full page and HTMX), one transaction each, audit, stock and totals."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.clients.models import ClientEvent
from app.core.clock import LOCAL_TZ
from app.core.errors import ConflictError, ValidationError
from app.sales import edit_services as edit
from app.sales.line_services import cancel_line
from app.sales.models import Order, ProductLine, ServiceLine
from app.sales.payment_services import record_payment
from app.sales.services import LineRequest, cancel_order
from tests.frontdesk.test_board import HX, MONDAY, place


def events(db_session, order_id):
    return [
        e.event_type
        for e in db_session.scalars(
            sa.select(ClientEvent).where(ClientEvent.order_id == order_id).order_by(ClientEvent.id)
        )
    ]


def test_add_service_line_rechecks_capacity_and_recalculates(booking_setup, db_session, make_user):
    staff = make_user("recepcion")
    order = place(booking_setup, people=2)  # Tina Calipso 14:00, capacity 1
    line = edit.add_service_line(
        order, LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="17:00", people=3), by=staff
    )
    assert (line.unit_price, line.subtotal, line.created_by_id) == (25000, 75000, staff.id)
    assert order.services_total == 50000 + 75000 and order.total == 125000 and order.balance_due == 125000
    assert events(db_session, order.id).count("line_added") == 2
    second = place(booking_setup, service="grande", hhmm="19:00", people=2, phone="+56911111111")
    with pytest.raises(ConflictError, match="Tina Calipso 02/03/2026 17:00"):  # the slot is now full
        edit.add_service_line(
            second, LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="17:00", people=1), by=staff
        )
    with pytest.raises(ValidationError, match="Servicio no encontrado"):
        edit.add_service_line(second, LineRequest(service_id=999999, day=MONDAY, hhmm="17:00", people=1), by=staff)


def test_product_lines_take_and_return_stock(booking_setup, db_session, make_user, make_product):
    staff = make_user("recepcion")
    order = place(booking_setup)
    wine = make_product(name="Vino Tinto", base_price=12000, stock=5)
    line = edit.add_product_line(order, product_id=wine.id, quantity=2, by=staff)
    assert wine.stock == 3 and order.products_total == 24000 and order.total == 50000 + 24000
    edit.change_product_quantity(line, quantity=4, by=staff)
    assert (wine.stock, line.subtotal, order.products_total) == (1, 48000, 48000)
    with pytest.raises(ConflictError, match="Stock insuficiente para Vino Tinto: disponible 1"):
        edit.change_product_quantity(line, quantity=6, by=staff)
    edit.change_product_quantity(line, quantity=1, by=staff)
    assert wine.stock == 4 and order.products_total == 12000
    with pytest.raises(ValidationError, match="entre 1 y 99"):
        edit.change_product_quantity(line, quantity=0, by=staff)
    edit.void_product_line(line, by=staff)
    assert line.status == "anulada" and wine.stock == 5 and order.products_total == 0 and not order.is_cancelled
    with pytest.raises(ValidationError, match="ya está anulada"):
        edit.void_product_line(line, by=staff)
    assert {"line_added", "line_updated", "line_removed"} <= set(events(db_session, order.id))


def test_voiding_the_last_line_cancels_the_order(booking_setup, db_session, make_user, make_product):
    staff = make_user("recepcion")
    order = place(booking_setup)
    beer = make_product(name="Cerveza", base_price=3000, stock=10)
    pl = edit.add_product_line(order, product_id=beer.id, quantity=2, by=staff)
    cancel_line(order.service_lines[0], reason="Cliente no viene", by=staff)
    assert not order.is_cancelled
    edit.void_product_line(pl, by=staff)
    assert order.is_cancelled and beer.stock == 10 and order.total == 0


def test_cancelled_orders_and_gift_cards_are_refused(booking_setup, db_session, make_user, make_product):
    staff = make_user("gerente")
    order = place(booking_setup)
    card = make_product(name="Gift Card", base_price=0, is_gift_card=True)
    with pytest.raises(ValidationError, match="Gift cards"):
        edit.add_product_line(order, product_id=card.id, quantity=1, by=staff)
    cancel_order(order, reason="prueba", by=staff)
    with pytest.raises(ValidationError, match="La venta está cancelada"):
        edit.add_service_line(
            order, LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="17:00", people=1), by=staff
        )


def test_edit_order_fields_and_sale_date_only_for_managers(booking_setup, db_session, make_user):
    desk, manager = make_user("recepcion"), make_user("gerente")
    order = place(booking_setup)
    edit.edit_order(
        order, comments="  Aniversario ", fiscal_document_number="B-123", charged=True, sold_at=None, by=desk
    )
    assert (order.comments, order.fiscal_document_number, order.charged) == ("Aniversario", "B-123", True)
    new_date = datetime(2026, 2, 28, 18, 30, tzinfo=LOCAL_TZ)
    with pytest.raises(ValidationError, match="Solo un gerente"):
        edit.edit_order(
            order, comments="Aniversario", fiscal_document_number="B-123", charged=True, sold_at=new_date, by=desk
        )
    edit.edit_order(
        order, comments="Aniversario", fiscal_document_number="B-123", charged=True, sold_at=new_date, by=manager
    )
    assert order.sold_at == new_date
    texts = [
        e.description
        for e in db_session.scalars(
            sa.select(ClientEvent)
            .where(ClientEvent.order_id == order.id, ClientEvent.event_type == "order_updated")
            .order_by(ClientEvent.id)
        )
    ]
    assert texts == ["Modificado: Comentarios, Documento fiscal, Cobrado", "Modificado: Fecha venta"]
    # nothing changed → no event
    edit.edit_order(
        order,
        comments="Aniversario",
        fiscal_document_number="B-123",
        charged=True,
        sold_at=new_date.replace(second=20),
        by=desk,
    )
    assert events(db_session, order.id).count("order_updated") == 2


def test_dialogs_full_page_fragment_and_errors(booking_setup, login, db_session, make_product):
    order = place(booking_setup)
    wine = make_product(name="Vino Blanco", base_price=9000, stock=3)
    db_session.commit()
    c = login("recepcion")
    base = f"/ventas/venta_reservas/{order.id}"
    page = c.get(f"{base}/servicios/")
    assert page.status_code == 200 and "<html" in page.text and "Agregar servicio — venta" in page.text
    frag = c.get(f"{base}/productos/", headers=HX)
    assert frag.text.lstrip().startswith('<div id="dialog"') and "Vino Blanco" in frag.text
    # bad input: 422 with the message, nothing written
    r = c.post(
        f"{base}/servicios/",
        data={"servicio": booking_setup["calipso"].id, "fecha": "2026-03-02", "hora": "25:99", "personas": "1"},
        headers=HX,
    )
    assert r.status_code == 422 and "Indique la hora (HH:MM)." in r.text
    r = c.post(f"{base}/productos/", data={"producto": wine.id, "cantidad": "5"}, headers=HX)
    assert r.status_code == 409 and "Stock insuficiente para Vino Blanco: disponible 3." in r.text
    db_session.expire_all()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ProductLine)) == 0
    # success: dialog done + order-changed
    r = c.post(f"{base}/productos/", data={"producto": wine.id, "cantidad": "2"}, headers=HX)
    assert r.status_code == 200 and "Producto agregado: Vino Blanco × 2." in r.text
    assert "order-changed" in r.headers["HX-Trigger"]
    line = db_session.scalar(sa.select(ProductLine))
    r = c.post(f"{base}/productos/{line.id}/cantidad/", data={"cantidad": "3"}, headers=HX)
    assert r.status_code == 200 and "Vino Blanco × 3" in r.text
    r = c.post(
        f"{base}/servicios/",
        data={"servicio": booking_setup["calipso"].id, "fecha": "2026-03-02", "hora": "17:00", "personas": "2"},
        headers=HX,
    )
    assert r.status_code == 200 and "Servicio agregado: Tina Calipso 02/03/2026 17:00." in r.text
    r = c.post(f"{base}/productos/{line.id}/quitar/", headers=HX)
    assert r.status_code == 200 and "Producto quitado: Vino Blanco." in r.text
    db_session.expire_all()
    fresh = db_session.get(Order, order.id)
    assert fresh.total == 100000 and len([ln for ln in fresh.service_lines if ln.status == "pendiente"]) == 2
    # without JavaScript the POST redirects
    r = c.post(f"{base}/editar/", data={"comentarios": "Llega tarde", "fecha_reserva": ""})
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(Order, order.id).comments == "Llega tarde"
    # another order's line → 404
    assert c.post(f"/ventas/venta_reservas/{order.id + 1000}/productos/{line.id}/quitar/").status_code == 404


def test_order_detail_shows_the_new_actions(booking_setup, login, db_session, make_product):
    order = place(booking_setup)
    beer = make_product(name="Cerveza", base_price=3000, stock=10)
    record_payment(order, amount=10000, method="efectivo", by=None)
    edit.add_product_line(order, product_id=beer.id, quantity=1, by=None)
    db_session.commit()
    c = login("recepcion")
    page = c.get(f"/ventas/venta_reservas/{order.id}/")
    for text in ("Agregar servicio", "Agregar producto", 'id="order-edit-link"', "/cantidad/", "/quitar/"):
        assert text in page.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ServiceLine)) == 1


def test_every_order_dialog_posts_to_a_url_that_accepts_post(booking_setup, login, db_session, make_product):
    """The payment dialog is shown at …/pagos/nuevo/ (GET only) and must post to …/pagos/ (a browser found it)."""
    order = place(booking_setup)
    line = edit.add_product_line(order, product_id=make_product(stock=5).id, quantity=1, by=None)
    db_session.commit()
    c = login("gerente")
    base = f"/ventas/venta_reservas/{order.id}"
    for url in (
        f"{base}/pagos/nuevo/",
        f"{base}/descuentos/",
        f"{base}/cancelar/",
        f"{base}/reembolsos/",
        f"{base}/servicios/",
        f"{base}/productos/",
        f"{base}/productos/{line.id}/cantidad/",
        f"{base}/editar/",
    ):
        frag = c.get(url, headers=HX)
        action = re.search(r'hx-post="([^"]+)"', frag.text).group(1)
        assert c.post(action, data={}, headers=HX).status_code != 405, url
