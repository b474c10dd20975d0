"""Checkout failures answer the form with its messages in Spanish, as an HTMX fragment and as a full page (D1);
every block of every shop template renders alone, as HTMX fragment requests render them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import template_rendered
from jinja2_fragments.flask import render_block

from app.core import clock
from app.core.signing import order_token
from app.sales.models import Order

HX = {"HX-Request": "true"}
EMPTY_FORM = {"telefono": "", "nombre": "", "email": "", "metodo_pago": "transferencia"}


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


def add(client, service, hhmm="14:00", people=2, day="2026-03-02"):
    resp = client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": service.id, "fecha": day, "hora": hhmm, "cantidad_personas": people},
    )
    assert resp.status_code == 303
    return resp


def form(**kw):
    values = {
        "telefono": "9 8765 4321",
        "nombre": "María Pérez",
        "email": "maria@example.com",
        "metodo_pago": "transferencia",
        "acepta_terminos": "y",
    }
    values.update(kw)
    return values


def post(client, data, fragment):
    return client.post("/ventas/complete-checkout/", data=data, headers=HX if fragment else {})


def assert_form_answer(resp, fragment, status, *messages):
    assert resp.status_code == status, resp.text[:500]
    if fragment:
        assert resp.text.lstrip().startswith('<form id="checkout-form"') and "<html" not in resp.text
        assert "HX-Request" in resp.headers["Vary"]
    else:
        assert "<html" in resp.text and 'id="checkout-summary"' in resp.text
    for message in messages:
        assert message in resp.text


def order_count(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(Order))


@pytest.mark.parametrize("fragment", [True, False], ids=["htmx", "page"])
def test_empty_form_shows_every_field_message(client, calipso, db_session, fragment):
    add(client, calipso)
    resp = post(client, EMPTY_FORM, fragment)
    assert_form_answer(
        resp,
        fragment,
        422,
        "Ingrese un teléfono válido.",
        "El nombre es obligatorio.",
        "Ingrese un e-mail válido.",
        "Debe aceptar los términos y condiciones.",
    )
    assert 'aria-describedby="telefono-error"' in resp.text and 'id="nombre-error"' in resp.text
    assert order_count(db_session) == 0


@pytest.mark.parametrize("fragment", [True, False], ids=["htmx", "page"])
@pytest.mark.parametrize(
    "override, message",
    [
        ({"acepta_terminos": ""}, "Debe aceptar los términos y condiciones."),
        ({"telefono": "12"}, "Ingrese un teléfono válido."),
        ({"email": "maria@"}, "Ingrese un e-mail válido."),
        ({"metodo_pago": "bitcoin"}, "Método de pago no disponible."),
    ],
    ids=["terms", "phone", "email", "method"],
)
def test_one_invalid_field_keeps_the_rest(client, calipso, db_session, fragment, override, message):
    add(client, calipso)
    resp = post(client, form(**override), fragment)
    assert_form_answer(resp, fragment, 422, message)
    assert 'value="María Pérez"' in resp.text
    assert order_count(db_session) == 0


@pytest.mark.parametrize("fragment", [True, False], ids=["htmx", "page"])
def test_slot_taken_meanwhile_is_409_with_the_form(client, app, calipso, db_session, fragment):
    add(client, calipso)
    clock.freeze(clock.now() + timedelta(minutes=20))  # our hold expired; someone else takes the slot
    add(app.test_client(), calipso)
    resp = post(client, form(), fragment)
    assert_form_answer(
        resp,
        fragment,
        409,
        "Algunos horarios ya no están disponibles: Tina Calipso 02/03/2026 14:00",
        'value="María Pérez"',
    )
    assert order_count(db_session) == 0


@pytest.mark.parametrize("fragment", [True, False], ids=["htmx", "page"])
def test_cart_emptied_meanwhile_is_a_domain_error_in_the_form(client, calipso, db_session, fragment):
    add(client, calipso)
    client.post("/ventas/remove-from-cart/", data={"index": "0"})
    resp = post(client, form(), fragment)
    assert_form_answer(resp, fragment, 422, "El carrito está vacío", "Ver servicios")
    assert order_count(db_session) == 0


@pytest.mark.parametrize("fragment", [True, False], ids=["htmx", "page"])
def test_no_cart_at_all_answers_the_form(client, calipso, fragment):
    resp = post(client, form(), fragment)
    assert_form_answer(resp, fragment, 422, "El carrito está vacío")
    as_json = client.post("/ventas/complete-checkout/", data=form(), headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json() == {"success": False, "error": "El carrito está vacío"}


def test_after_an_error_the_corrected_form_succeeds(client, calipso, db_session):
    add(client, calipso)
    assert post(client, EMPTY_FORM, True).status_code == 422
    ok = post(client, form(), True)
    assert ok.status_code == 204 and ok.headers["HX-Redirect"].startswith("/ventas/reserva/")
    assert order_count(db_session) == 1


def test_checkout_page_puts_summary_first_on_phones_and_counts_down_the_hold(client, calipso):
    add(client, calipso)
    page = client.get("/ventas/checkout/").text
    assert 'class="col-12 col-md-5 order-first order-md-last"' in page
    assert 'data-expires="2026-03-02T13:15:00+00:00"' in page and "Reservado hasta 10:15" in page
    assert 'hx-disabled-elt="find [type=submit]"' in page


# --- every block renders alone -------------------------------------------------------------------------------

SHOP_TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates" / "shop"
OTHER_HELPERS = ("giftcard_",)  # the online gift-card pages carry their own tests


def test_every_shop_template_block_renders_as_a_fragment(app, client, calipso, db_session):
    """Load every shop page as a full page, then render each of its template's blocks alone with the same
    context, exactly as render_page does for an HTMX request: a block that uses a macro or name only defined
    outside it fails here (D1 was `field` imported at the top of checkout.html)."""
    captured: dict[str, dict] = {}

    def remember(_sender, template, context, **_kw):
        if template.name.startswith("shop/") and template.name not in captured:
            captured[template.name] = dict(context)

    add(client, calipso)
    with template_rendered.connected_to(remember, app):
        for url in (
            "/",
            f"/ventas/categoria/{calipso.category_id}/",
            f"/ventas/servicio/{calipso.id}/",
            "/ventas/cart/",
            "/ventas/checkout/",
            "/ventas/terminos/",
        ):
            assert client.get(url).status_code == 200, url
        post(client, EMPTY_FORM, False)
        assert post(client, form(), False).status_code == 303
        order = db_session.scalars(sa.select(Order)).one()
        assert client.get(f"/ventas/reserva/{order_token(order.id)}/").status_code == 200
        token, line = order_token(order.id), order.service_lines[0]
        assert client.get(f"/ventas/reserva/{token}/cancelar/").status_code == 200  # manage page (self-service §2)
        assert client.get(f"/ventas/reserva/{token}/lineas/{line.id}/cambiar/").status_code == 200
    wanted = {
        f"shop/{p.name}"
        for p in SHOP_TEMPLATES.glob("*.html")
        if "{% block" in p.read_text() and not p.name.startswith(OTHER_HELPERS)
    }
    assert wanted <= set(captured), wanted - set(captured)
    rendered = 0
    for name in sorted(wanted):
        template = app.jinja_env.get_template(name)
        for block in template.blocks:
            with app.test_request_context("/", headers=HX):
                context = {k: v for k, v in captured[name].items() if k not in ("request", "session", "g")}
                render_block(name, block, **context)
                rendered += 1
    assert rendered >= 20
