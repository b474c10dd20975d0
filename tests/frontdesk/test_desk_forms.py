"""The desk's Flask-WTF forms (issue 17 §4): per-field errors with aria attributes, ids never read as money, the
cached board rows never carrying a session's CSRF token, the cancel dialog's stock checkbox, local `volver` only."""

import re

import sqlalchemy as sa
from flask import g

from app.sales import edit_services as edit
from app.sales.models import Order, Payment
from tests.frontdesk.test_board import HX, place

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HEADER_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def logged_in(app, user):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    return client


def test_cached_board_rows_carry_each_sessions_own_token_never_the_slot(app, booking_setup, make_user, db_session):
    from app.frontdesk.views import RowsCache, rows_cache

    place(booking_setup)
    first_user, second_user = make_user("recepcion"), make_user("gerente")
    db_session.commit()
    rows_cache.entries.clear()
    pages = []
    for user in (first_user, second_user):
        g.pop("csrf_token", None)  # the tests share one app context: Flask-WTF would reuse the first token
        page = logged_in(app, user).get("/ventas/recepcion/?fecha=2026-03-02").text
        header = HEADER_TOKEN.search(page).group(1)  # the page's own token (base.html), never cached
        in_rows = TOKEN.findall(page)
        assert in_rows and set(in_rows) == {header}, "a board row carries another session's token"
        assert RowsCache.CSRF_SLOT not in page and RowsCache.KEY_SLOT not in page
        pages.append(header)
    assert len(rows_cache.entries) == 1  # the second session was served from the cache
    assert pages[0] != pages[1]
    cached = next(iter(rows_cache.entries.values()))
    assert RowsCache.CSRF_SLOT in cached and not any(token in cached for token in pages)


def test_a_bad_amount_is_an_error_on_its_field(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    r = c.post(
        f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "diez", "metodo_pago": "efectivo"}, headers=HX
    )
    assert r.status_code == 422
    monto = re.search(r'<input[^>]*id="pago-monto"[^>]*>', r.text).group(0)
    assert 'aria-invalid="true"' in monto and 'aria-describedby="monto-error"' in monto and "is-invalid" in monto
    assert 'value="diez"' in monto  # what was typed comes back to be corrected
    assert re.search(r'id="monto-error">Monto: ingrese un número entero\.<', r.text)
    assert 'name="submission_key"' in r.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_a_service_id_is_not_read_as_money(booking_setup, login, db_session):
    calipso = booking_setup["calipso"]
    c = login("recepcion")
    form = {
        "telefono": "9 8765 4321",
        "nombre": "Walk In",
        "servicio": f"${calipso.id}",  # the money parser read this as the service's id
        "fecha": "2026-03-02",
        "hora": "14:00",
        "personas": "2",
    }
    r = c.post("/ventas/recepcion/nueva-reserva/", data=form, headers=HX)
    assert r.status_code == 422 and "Servicio: ingrese un número entero." in r.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    order = place(booking_setup)
    db_session.commit()
    r = c.post(
        f"/ventas/venta_reservas/{order.id}/servicios/",
        data={"servicio": f"${calipso.id}", "fecha": "2026-03-02", "hora": "17:00", "personas": "1"},
        headers=HX,
    )
    assert r.status_code == 422 and "Servicio: ingrese un número entero." in r.text
    assert (
        c.post("/ventas/recepcion/nueva-reserva/", data=dict(form, servicio=str(calipso.id), hora="17:00")).status_code
        == 303
    )


def test_cancel_dialog_restocks_only_when_the_box_is_checked(booking_setup, login, db_session, make_product):
    wine = make_product(name="Vino", base_price=9000, stock=5)
    checked, unchecked = place(booking_setup), place(booking_setup, hhmm="17:00", phone="+56922222222")
    for order in (checked, unchecked):
        edit.add_product_line(order, product_id=wine.id, quantity=2, by=None)
    db_session.commit()
    assert wine.stock == 1
    g = login("gerente")
    # the dialog sends a hidden 0 before the checkbox's 1
    r = g.post(f"/ventas/venta_reservas/{checked.id}/cancelar/", data={"motivo": "lluvia", "reponer_stock": ["0", "1"]})
    assert r.status_code == 303
    db_session.refresh(wine)
    assert wine.stock == 3
    r = g.post(f"/ventas/venta_reservas/{unchecked.id}/cancelar/", data={"motivo": "lluvia", "reponer_stock": "0"})
    assert r.status_code == 303
    db_session.refresh(wine)
    assert wine.stock == 3
    dialog = g.get(f"/ventas/venta_reservas/{checked.id}/cancelar/", headers=HX).text
    assert re.search(r'id="cancel-stock" checked', dialog)  # checked by default


def test_a_plain_post_returns_only_to_a_local_page(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    back = f"/ventas/venta_reservas/{order.id}/"
    url = f"/ventas/venta_reservas/{order.id}/pagos/"
    r = c.post(url, data={"monto": "1000", "metodo_pago": "efectivo", "volver": back})
    assert r.status_code == 303 and r.headers["Location"].endswith(back)
    r = c.post(url, data={"monto": "1000", "metodo_pago": "efectivo", "volver": "https://evil.example.com/"})
    assert r.status_code == 303 and "evil" not in r.headers["Location"]
    assert r.headers["Location"].endswith("/ventas/recepcion/")
    payment_id = db_session.scalar(sa.select(Payment.id).order_by(Payment.id))
    r = c.post(f"/ventas/pagos/{payment_id}/anular/", data={"motivo": "", "volver": "//evil.example.com/"})
    assert r.status_code == 303 and "evil" not in r.headers["Location"]  # refused (no reason): flash and back
