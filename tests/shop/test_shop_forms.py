"""The public site's forms (issue 17 §4): CSRF comes from the form classes (with CSRF on, every POST form of the shop
carries the token and a POST without it is refused), field errors are marked on their inputs, the product shape of
add-to-cart answers with the field's message, and render_page appends out-of-band swaps to fragments only."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.sales.models import CartHold, Order

HX = {"HX-Request": "true"}
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


def buyer(**kw):
    data = {
        "telefono": "9 8765 4321",
        "nombre": "María Pérez",
        "email": "maria@example.com",
        "metodo_pago": "transferencia",
        "acepta_terminos": "y",
    }
    data.update(kw)
    return data


def forms_of(html: str) -> list[str]:
    return re.findall(r'<form[^>]*method="post".*?</form>', html, flags=re.S)


def test_with_csrf_on_every_shop_form_carries_the_token_and_a_post_without_it_is_refused(db_session, calipso):
    from app import create_app
    from tests.conftest import make_test_config

    strict = create_app(make_test_config(WTF_CSRF_ENABLED=True))
    slot = {"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00", "cantidad_personas": 2}
    with strict.test_client() as c:
        page = c.get(f"/ventas/servicio/{calipso.id}/").text
        [booking] = [f for f in forms_of(page) if 'id="booking-form"' in f]
        assert TOKEN.search(booking) and 'name="submission_key"' in booking
        assert c.post("/ventas/add-to-cart/", data=slot).status_code == 400  # no token: refused before the view
        token = TOKEN.search(booking).group(1)
        assert c.post("/ventas/add-to-cart/", data={**slot, "csrf_token": token}).status_code == 303
        cart = c.get("/ventas/cart/").text
        assert len(forms_of(cart)) == 2 and all(TOKEN.search(f) for f in forms_of(cart))  # "Quitar" and the code
        checkout = c.get("/ventas/checkout/").text
        [form] = forms_of(checkout)
        assert TOKEN.search(form) and form.count('name="submission_key"') == 1
        placed = c.post("/ventas/complete-checkout/", data={**buyer(), "csrf_token": TOKEN.search(form).group(1)})
        assert placed.status_code == 303
        order_page = c.get(placed.headers["Location"]).text
        [pay] = forms_of(order_page)  # "Pagar con Flow" while the order can be paid
        assert "/pagar-flow/" in pay and TOKEN.search(pay) and 'name="submission_key"' in pay
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_no_hand_written_csrf_input_left_in_the_shop_templates():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "app" / "templates"
    paths = [*templates.glob("shop/*.html"), *templates.glob("payments/*.html")]
    assert paths
    # the fake Flow page stands in for Flow's own site: no form of ours, csrf-exempt
    offenders = [p.name for p in paths if 'name="csrf_token"' in p.read_text() and not p.name.startswith("fake_")]
    assert offenders == []


def test_a_bad_code_marks_its_input(client, calipso):
    client.post("/ventas/add-to-cart/", data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00"})
    bad = client.post("/ventas/cart/codigo/", data={"codigo": "NOPE"}, headers=HX)
    assert bad.status_code == 422
    assert re.search(r'<input[^>]*id="codigo"[^>]*aria-invalid="true" aria-describedby="codigo-error"', bad.text)
    assert re.search(r'id="codigo-error">Código de descuento inválido o vencido\.<', bad.text)
    page = client.post("/ventas/cart/codigo/", data={"codigo": "NOPE"})  # without JavaScript: back to the cart
    assert page.status_code == 303 and page.headers["Location"].endswith("/ventas/cart/")
    assert "Código de descuento inválido o vencido." in client.get("/ventas/cart/").text


def test_checkout_marks_the_refused_checkbox_and_method(client, calipso, db_session):
    client.post("/ventas/add-to-cart/", data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00"})
    resp = client.post("/ventas/complete-checkout/", data=buyer(acepta_terminos="", metodo_pago="bitcoin"), headers=HX)
    assert resp.status_code == 422
    assert re.search(
        r'<input[^>]*aria-describedby="acepta_terminos-error" aria-invalid="true"[^>]*id="acepta_terminos"', resp.text
    )
    assert 'id="acepta_terminos-error">Debe aceptar los términos y condiciones.<' in resp.text
    assert 'id="metodo_pago-error">Método de pago no disponible.<' in resp.text
    assert resp.text.count('aria-describedby="metodo_pago-error"') == 2  # transfer and Flow
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"producto_id": "abc"}, "Producto no disponible."),
        ({"cantidad": "²"}, "La cantidad debe estar entre 1 y 99."),
        ({"cantidad": "0"}, "La cantidad debe estar entre 1 y 99."),
        ({"monto": "12,5"}, "Ingrese un monto en pesos, sin decimales (ej. 12.345)."),
        ({"monto": "2.000.000"}, "El monto de la gift card debe estar entre $5.000 y $1.000.000."),
    ],
    ids=["product", "quantity-unreadable", "quantity-zero", "amount-unreadable", "amount-out-of-range"],
)
def test_add_product_refusals_name_the_field_problem(client, make_product, booking_setup, db_session, data, message):
    free = make_product(name="Gift Card monto libre", base_price=0, is_gift_card=True, is_published=True)
    resp = client.post(
        "/ventas/add-to-cart/",
        data={"producto_id": str(free.id), "cantidad": "1", "monto": "30.000", **data},
        headers={"Referer": "/ventas/giftcard/comprar/"},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ventas/giftcard/comprar/")
    assert message in client.get("/ventas/cart/").text  # the flash
    assert "Tu carrito está vacío" in client.get("/ventas/cart/").text


def test_add_product_to_cart(client, make_product, booking_setup):
    free = make_product(name="Gift Card monto libre", base_price=0, is_gift_card=True, is_published=True)
    resp = client.post("/ventas/add-to-cart/", data={"producto_id": str(free.id), "monto": "$30.000"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ventas/cart/")
    cart = client.get("/ventas/cart/").text
    assert "Producto agregado al carrito." in cart and "Gift Card monto libre" in cart and "$30.000" in cart


def test_a_refused_add_to_cart_renders_a_fresh_key_and_holds_nothing(client, calipso, db_session):
    data = {"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "99:99", "submission_key": "k-1"}
    resp = client.post("/ventas/add-to-cart/", data=data, headers=HX)
    assert resp.status_code == 422
    assert resp.text.count("Elija una fecha, un horario y la cantidad de personas.") == 1
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', resp.text).group(1)
    assert key != "k-1"
    ok = client.post("/ventas/add-to-cart/", data={**data, "hora": "14:00"}, headers=HX)  # the key was not spent
    assert ok.status_code == 200 and db_session.scalar(sa.select(sa.func.count()).select_from(CartHold)) == 1


def test_render_page_appends_oob_swaps_to_fragments_only(app):
    from app.web.htmx import render_page

    swap = '<a id="cart-badge" hx-swap-oob="true">1</a>'
    with app.test_request_context("/", headers=HX):
        fragment = render_page("shop/text_page.html", "content", oob_swaps=[swap], title="T", text="x")
        assert fragment.get_data(as_text=True).endswith(swap) and "HX-Request" in fragment.headers["Vary"]
    with app.test_request_context("/"):
        page = render_page("shop/text_page.html", "content", oob_swaps=[swap], title="T", text="x")
        assert swap not in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
