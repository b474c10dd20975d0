"""Double submits at the desk (UX review D2): every form that moves money or bookings carries a one-time key, so a
double click, a retry or a second tab takes effect once; each form shows busy while it runs (hx-disabled-elt)."""

import re

import sqlalchemy as sa

from app.sales.models import Discount, Order, Payment, ProductLine, ServiceLine
from tests.frontdesk.test_board import HX, place

KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')  # any attribute order (WTForms sorts them)


def key_in(html: str) -> str:
    return KEY.search(html).group(1)


def twice(c, url: str, data: dict, dialog_url: str | None = None):
    """Post the same form render twice (as a double click does); returns both responses."""
    form_html = c.get(dialog_url or url, headers=HX).text
    assert 'hx-disabled-elt="find [type=submit]"' in form_html  # the button shows busy while the request runs
    data = dict(data, submission_key=key_in(form_html))
    return c.post(url, data=data, headers=HX), c.post(url, data=data, headers=HX)


def count(db_session, model, *where) -> int:
    db_session.expire_all()
    return db_session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_payment_posted_twice_records_one_payment(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    first, second = twice(
        c,
        f"/ventas/venta_reservas/{order.id}/pagos/",
        {"monto": "10000", "metodo_pago": "efectivo"},
        dialog_url=f"/ventas/venta_reservas/{order.id}/pagos/nuevo/",
    )
    assert first.status_code == 200 and "Pago registrado: $10.000" in first.text
    assert second.status_code == 409 and "Este formulario ya fue enviado y quedó registrado" in second.text
    assert count(db_session, Payment) == 1
    assert db_session.get(Order, order.id).paid == 10000


def test_discount_refund_and_cancel_posted_twice_take_effect_once(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    g = login("gerente")
    first, second = twice(
        g, f"/ventas/venta_reservas/{order.id}/descuentos/", {"monto": "5000", "motivo": "cumpleaños"}
    )
    assert (first.status_code, second.status_code) == (200, 409)
    assert count(db_session, Discount) == 1
    g.post(f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "45000", "metodo_pago": "efectivo"}, headers=HX)
    first, second = twice(
        g,
        f"/ventas/venta_reservas/{order.id}/reembolsos/",
        {"monto": "10000", "metodo_pago": "efectivo", "motivo": "devolución parcial"},
    )
    assert (first.status_code, second.status_code) == (200, 409)
    assert count(db_session, Payment, Payment.amount < 0) == 1
    first, second = twice(g, f"/ventas/venta_reservas/{order.id}/cancelar/", {"motivo": "lluvia"})
    assert first.status_code == 200 and second.status_code == 409 and "ya fue enviado" in second.text


def test_voids_posted_twice_answer_the_duplicate_not_an_error_about_state(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    c.post(f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "10000", "metodo_pago": "efectivo"}, headers=HX)
    c.post(f"/ventas/venta_reservas/{order.id}/descuentos/", data={"monto": "2000", "motivo": "amigo"}, headers=HX)
    page = c.get(f"/ventas/venta_reservas/{order.id}/").text
    payment_id = db_session.scalar(sa.select(Payment.id))
    discount_id = db_session.scalar(sa.select(Discount.id))
    for url, extra in (
        (f"/ventas/pagos/{payment_id}/anular/", {"motivo": "error de digitación"}),
        (f"/ventas/descuentos/{discount_id}/anular/", {}),
    ):
        form = re.search(rf'<form method="post" action="{url}".*?</form>', page, re.S).group(0)
        assert 'hx-disabled-elt="find [type=submit]"' in form
        data = {"submission_key": key_in(form), **extra}
        assert c.post(url, data=data, headers=HX).status_code == 200
        again = c.post(url, data=data, headers=HX)
        assert again.status_code == 409 and "ya fue enviado" in again.text


def test_line_move_cancel_and_additions_posted_twice(booking_setup, login, db_session, make_product):
    order = place(booking_setup)
    water = make_product(name="Agua", base_price=1500, stock=10)
    db_session.commit()
    c = login("recepcion")
    line_id = order.service_lines[0].id
    first, second = twice(
        c, f"/ventas/venta_reservas/{order.id}/productos/", {"producto": str(water.id), "cantidad": "1"}
    )
    assert (first.status_code, second.status_code) == (200, 409)
    assert count(db_session, ProductLine) == 1
    first, second = twice(
        c,
        f"/ventas/venta_reservas/{order.id}/servicios/",
        {"servicio": str(booking_setup["grande"].id), "fecha": "2026-03-02", "hora": "19:00", "personas": "2"},
    )
    assert (first.status_code, second.status_code) == (200, 409)
    assert count(db_session, ServiceLine) == 2  # the tub has room for two: only the key stopped the second
    first, second = twice(c, f"/ventas/recepcion/lineas/{line_id}/mover/", {"fecha": "2026-03-02", "hora": "17:00"})
    assert (first.status_code, second.status_code) == (200, 409)
    more = c.get(f"/ventas/recepcion/lineas/{line_id}/acciones/", headers=HX).text
    cancel = re.search(r'<form[^>]*action="[^"]*/cancelar/".*?</form>', more, re.S).group(0)
    assert 'hx-disabled-elt="find [type=submit]"' in cancel
    data = {"motivo": "cliente avisó", "submission_key": key_in(cancel)}
    assert c.post(f"/ventas/recepcion/lineas/{line_id}/cancelar/", data=data, headers=HX).status_code == 200
    again = c.post(f"/ventas/recepcion/lineas/{line_id}/cancelar/", data=data, headers=HX)
    assert again.status_code == 409 and "ya fue enviado" in again.text


def test_board_rows_carry_fresh_keys_even_from_the_cache(booking_setup, login, db_session):
    from app.frontdesk.views import RowsCache, rows_cache

    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    rows_cache.entries.clear()
    first = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX).text
    second = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX).text
    assert len(rows_cache.entries) == 1 and RowsCache.KEY_SLOT not in first + second
    keys_first, keys_second = KEY.findall(first), KEY.findall(second)
    assert keys_first and not set(keys_first) & set(keys_second)  # a cached row never repeats a key
    assert len(set(keys_first)) == len(keys_first)
    checkin = re.search(r'<form[^>]*action="[^"]*/checkin/".*?</form>', first, re.S).group(0)
    assert 'hx-disabled-elt="find button"' in checkin
    line_id = order.service_lines[0].id
    data = {"submission_key": key_in(checkin)}
    assert c.post(f"/ventas/recepcion/lineas/{line_id}/checkin/", data=data, headers=HX).status_code == 200
    again = c.post(f"/ventas/recepcion/lineas/{line_id}/checkin/", data=data, headers=HX)
    assert again.status_code == 409 and "ya fue enviado" in again.text and f'id="line-{line_id}"' in again.text
