"""Public booking endpoints as full pages and as HTMX fragments (ids, status, Vary, HX-Trigger, OOB badge)."""

import re

import pytest
import sqlalchemy as sa

from app.core.signing import order_token
from app.sales.models import Order

HX = {"HX-Request": "true"}


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


def add(client, service, hhmm="14:00", people=2, day="2026-03-02", headers=None):
    return client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": service.id, "fecha": day, "hora": hhmm, "cantidad_personas": people},
        headers=headers or {},
    )


def test_service_page_full_and_hours_fragment(client, calipso):
    page = client.get(f"/ventas/servicio/{calipso.id}/")
    assert page.status_code == 200 and 'id="booking-panel"' in page.text and 'id="hours"' in page.text
    assert 'aria-label="lunes 2 de marzo de 2026, 14:00, 1 cupo disponible"' in page.text
    frag = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=2026-03-02&cantidad_personas=3", headers=HX)
    assert frag.status_code == 200 and frag.text.lstrip().startswith('<fieldset id="hours"')
    assert "Total: $75.000" in frag.text and "<html" not in frag.text
    assert "HX-Request" in frag.headers["Vary"]
    tuesday = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=2026-03-03", headers=HX)
    assert "Cerrado" in tuesday.text
    bad = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=03-03-2026", headers=HX)
    assert bad.status_code == 422 and "Formato de fecha inválido" in bad.text
    full = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=2026-03-02")
    assert "<html" in full.text


def test_add_to_cart_htmx_updates_badge_and_announces(client, calipso):
    resp = add(client, calipso, headers=HX)
    assert resp.status_code == 200
    assert resp.text.lstrip().startswith('<section id="booking-panel"')
    assert (
        "Agregado al carrito: Tina Calipso, lunes 02/03/2026 14:00, 2 personas — $50.000. Reservado por 15 minutos."
    ) in resp.text
    assert re.search(r'<a id="cart-badge"[^>]*hx-swap-oob="true"', resp.text)
    assert '"cart-changed"' in resp.headers["HX-Trigger"]
    # the slot is now taken for everybody else
    again = add(client, calipso, headers=HX)
    assert again.status_code == 409 and "Horario agotado." in again.text
    assert "Agotado" in again.text  # fresh hours shown disabled


def test_add_to_cart_plain_post_redirects(client, calipso):
    resp = add(client, calipso)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ventas/cart/")
    cart = client.get("/ventas/cart/")
    assert "Tina Calipso" in cart.text and "Reservado hasta 10:15" in cart.text
    bad = add(client, calipso, people=9)
    assert bad.status_code == 303 and f"/ventas/servicio/{calipso.id}/" in bad.headers["Location"]
    assert client.get("/ventas/add-to-cart/").status_code == 405
    invalid = client.post("/ventas/add-to-cart/", data={"servicio_id": calipso.id, "fecha": "x"}, headers=HX)
    assert invalid.status_code == 422


def test_cart_page_full_and_fragment_and_remove(client, calipso):
    add(client, calipso)
    add(client, calipso, hhmm="17:00", people=1)
    full = client.get("/ventas/cart/")
    assert 'id="cart-lines"' in full.text and 'id="cart-summary"' in full.text and "$75.000" in full.text
    frag = client.get("/ventas/cart/", headers=HX)
    assert frag.text.lstrip().startswith('<div id="cart-lines"')
    removed = client.post("/ventas/remove-from-cart/", data={"index": "0"}, headers=HX)
    assert removed.status_code == 200 and removed.text.lstrip().startswith('<div id="cart-lines"')
    assert 'id="cart-summary"' in removed.text and 'hx-swap-oob="true"' in removed.text
    assert "cart-changed" in removed.headers["HX-Trigger"] and "$25.000" in removed.text
    as_json = client.post("/ventas/remove-from-cart/", data={"index": "5"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json() == {"success": False, "error": "Índice inválido"}
    ok = client.post("/ventas/remove-from-cart/", data={"index": "0"}, headers={"Accept": "application/json"})
    assert ok.get_json() == {"success": True}
    assert "Tu carrito está vacío" in client.get("/ventas/cart/").text


def test_cart_code_fragment(client, calipso):
    add(client, calipso)
    bad = client.post("/ventas/cart/codigo/", data={"codigo": "NOPE"}, headers=HX)
    assert bad.status_code == 422 and "Código de descuento inválido o vencido." in bad.text
    ok = client.post("/ventas/cart/codigo/", data={"codigo": "AREMKO15"}, headers=HX)
    assert ok.status_code == 200 and ok.text.lstrip().startswith('<div id="cart-summary"') and "$42.500" in ok.text


def checkout_form(**kw):
    values = {
        "telefono": "9 8765 4321",
        "nombre": "María Pérez",
        "email": "maria@example.com",
        "metodo_pago": "transferencia",
        "acepta_terminos": "y",
    }
    values.update(kw)
    return values


def test_checkout_empty_cart_redirects(client, calipso):
    resp = client.get("/ventas/checkout/")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ventas/cart/")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"telefono": "123"}, "Ingrese un teléfono válido."),
        ({"nombre": ""}, "El nombre es obligatorio."),
        ({"email": "x@"}, "Ingrese un e-mail válido."),
        ({"documento_identidad": "12.345.678-9"}, "RUT inválido."),
        ({"acepta_terminos": ""}, "Debe aceptar los términos y condiciones."),
        ({"metodo_pago": "bitcoin"}, "Método de pago no disponible."),
    ],
)
def test_checkout_errors_rerender_422_and_keep_input(client, calipso, db_session, override, message):
    add(client, calipso)
    resp = client.post("/ventas/complete-checkout/", data=checkout_form(**override))
    assert resp.status_code == 422 and message in resp.text
    assert 'value="María Pérez"' in resp.text or override.get("nombre") == ""
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_checkout_transfer_lands_on_signed_order_page(client, calipso, db_session):
    add(client, calipso)
    assert "Confirmar reserva" in client.get("/ventas/checkout/").text
    resp = client.post("/ventas/complete-checkout/", data=checkout_form())
    assert resp.status_code == 303
    order = db_session.scalars(sa.select(Order)).one()
    assert resp.headers["Location"].endswith(f"/ventas/reserva/{order_token(order.id)}/")
    page = client.get(resp.headers["Location"])
    assert f"Reserva #{order.id}" in page.text and "Hola, María" in page.text
    assert "indicando la reserva" in page.text and "maria@example.com" not in page.text
    assert client.get("/ventas/reserva/abc/").status_code == 404
    assert client.get(f"/ventas/reserva/{order_token(order.id)}x/").status_code == 404


def test_checkout_json_variant_and_htmx_redirect(client, calipso, db_session):
    add(client, calipso)
    resp = client.post("/ventas/complete-checkout/", data=checkout_form(), headers={"Accept": "application/json"})
    body = resp.get_json()
    assert body["success"] is True and body["message"] == "Reserva creada exitosamente"
    assert body["metodo_pago"] == "transferencia" and body["token"] == order_token(body["reserva_id"])
    add(client, calipso, hhmm="17:00")
    hx = client.post("/ventas/complete-checkout/", data=checkout_form(), headers=HX)
    assert hx.status_code == 204 and hx.headers["HX-Redirect"].startswith("/ventas/reserva/")


def test_checkout_conflict_is_409_in_place(client, app, calipso, booking_setup):
    add(client, calipso)
    other = app.test_client()
    from datetime import timedelta

    from app.core import clock
    from tests.conftest import freeze_clock  # noqa: F401  (clock already frozen by booking_setup)

    clock.freeze(clock.now() + timedelta(minutes=20))  # our hold expired, someone else holds the slot
    add(other, calipso)
    resp = client.post("/ventas/complete-checkout/", data=checkout_form())
    assert resp.status_code == 409
    assert "Algunos horarios ya no están disponibles: Tina Calipso 02/03/2026 14:00" in resp.text
    json_resp = client.post("/ventas/complete-checkout/", data=checkout_form(), headers={"Accept": "application/json"})
    assert json_resp.status_code == 409 and json_resp.get_json()["success"] is False


def test_client_hint_shows_first_name_only(client, make_client, booking_setup):
    make_client(name="María José Pérez", phone="+56987654321", email="mj@example.com")
    hint = client.get("/ventas/checkout/cliente/?telefono=987654321")
    assert "¡Hola, María! Ya eres cliente de Aremko." in hint.text and "mj@example.com" not in hint.text
    assert client.get("/ventas/checkout/cliente/?telefono=911111111").text.strip() == ""


def test_json_availability_endpoints(client, calipso, booking_setup):
    ok = client.get(f"/ventas/get-available-hours/?servicio_id={calipso.id}&fecha=2026-03-02")
    assert ok.get_json() == {
        "success": True,
        "horas_disponibles": ["14:00", "17:00"],
        "detalle": [
            {"hora": "14:00", "disponibles": 1, "reservable": True, "motivo": None},
            {"hora": "17:00", "disponibles": 1, "reservable": True, "motivo": None},
        ],
    }
    assert client.get("/ventas/get-available-hours/?fecha=2026-03-02").get_json() == {
        "success": False,
        "error": "Parámetros servicio_id y fecha son requeridos.",
    }
    bad_date = client.get(f"/ventas/get-available-hours/?servicio_id={calipso.id}&fecha=2026-13-01")
    assert bad_date.status_code == 400 and "Formato de fecha inválido" in bad_date.get_json()["error"]
    missing = client.get("/ventas/get-available-hours/?servicio_id=999999&fecha=2026-03-02")
    assert missing.status_code == 404 and missing.get_json()["error"] == "Servicio no encontrado."
    beyond_integer = client.get("/ventas/get-available-hours/?servicio_id=99999999999&fecha=2026-03-02")
    assert beyond_integer.status_code == 404 and beyond_integer.get_json()["error"] == "Servicio no encontrado."
    check = client.get(f"/ventas/check-availability/?servicio_id={calipso.id}&fecha=2026-03-02&hora=14:00")
    assert check.get_json() == {"available": True}
    add(client, calipso)
    taken = client.get(f"/ventas/check-availability/?servicio_id={calipso.id}&fecha=2026-03-02&hora=14:00")
    assert taken.get_json() == {"available": False, "motivo": "sin_cupo", "mensaje": "Horario agotado."}
    assert client.get("/ventas/check-availability/?servicio_id=x&fecha=2026-03-02&hora=14:00").status_code == 404


def test_cart_page_plain_read_renders_as_the_orm_cart(client, booking_setup, make_product, db_session, freeze_clock):
    """Issue 20: GET /ventas/cart/ reads its lines as plain values in one statement; the page (lines, summary with a
    discount code, badge) is byte for byte what the ORM cart renders — a massage with its therapist, a tub, an
    expired hold and a gift card line, in Spanish and English."""
    import re
    from datetime import datetime

    from flask import render_template, request

    from app.core.clock import LOCAL_TZ
    from app.sales import cart_services
    from app.shop.booking_views import BADGE_LINES, cart_context

    s = booking_setup
    card = make_product(name="Gift Card monto libre", base_price=0, is_gift_card=True, is_published=True)
    for service, day, hhmm, people in (
        ("relajacion", "2026-03-09", "13:00", 1),
        ("calipso", "2026-03-04", "14:00", 2),
        ("grande", "2026-03-02", "19:00", 3),
    ):
        data = {"servicio_id": s[service].id, "fecha": day, "hora": hhmm, "cantidad_personas": people}
        assert client.post("/ventas/add-to-cart/", data=data).status_code == 303
    assert client.post("/ventas/add-to-cart/", data={"producto_id": card.id, "monto": "30.000"}).status_code == 303
    assert client.post("/ventas/cart/codigo/", data={"codigo": "AREMKO15"}).status_code == 303
    client.get("/ventas/cart/")  # the flashes shown
    freeze_clock(datetime(2026, 3, 2, 10, 40, tzinfo=LOCAL_TZ))  # the holds expired
    keys = re.compile(r'(name="(?:csrf_token|submission_key)"[^>]*value=")[^"]+|("X-CSRFToken": ")[^"]+')

    def norm(text: str) -> str:
        return keys.sub(lambda m: (m.group(1) or m.group(2)) + "X", text)

    for lang in ("es", "en"):
        for headers in ({}, {"HX-Request": "true"}):
            page = client.get(f"/ventas/cart/?lang={lang}", headers=headers)
            with client.session_transaction() as sess:
                token = sess["cart_token"]
            with client.application.test_request_context(f"/ventas/cart/?lang={lang}", headers=headers):
                client.application.preprocess_request()
                orm_cart = cart_services.get_cart(token, with_lines=True)
                request.environ[BADGE_LINES] = cart_services.cart_line_count(orm_cart)  # (no session cookie here)
                ctx = cart_context(orm_cart)
                if headers:
                    from jinja2_fragments.flask import render_block

                    expected = render_block("shop/cart.html", "cart_lines", **ctx)
                else:
                    expected = render_template("shop/cart.html", **ctx)
            assert "Gift Card monto libre" in page.text and ("Ana Soto" in page.text or "Berta Muñoz" in page.text)
            assert "vencida" in page.text or "expired" in page.text
            assert "AREMKO15" in page.text or headers
            assert norm(page.text) == norm(expected), (lang, headers)
