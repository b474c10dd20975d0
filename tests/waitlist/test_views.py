"""Waitlist pages: the public form (full page, HTMX fragment, 422 in Spanish), the offer link, the desk panel and its
confirmed cancellation, the API list; who may use them."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.sales import line_services
from app.waitlist.models import WaitlistEntry
from tests.conftest import ROLES
from tests.waitlist.conftest import DAY, next_phone

HX = {"HX-Request": "true"}


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


@pytest.fixture
def full(calipso, book):
    return book(calipso, "14:00")


def form_values(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def test_full_slot_offers_the_waitlist_on_the_booking_panel(client, calipso, full):
    page = client.get(f"/ventas/servicio/{calipso.id}/?fecha={DAY.isoformat()}")
    assert page.status_code == 200 and "Avísame si se libera" in page.text
    assert 'id="waitlist-slot"' in page.text
    hours = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=2026-03-04&cantidad_personas=1", headers=HX)
    assert "Avísame si se libera" not in hours.text  # Wednesday 14:00 has room


def test_join_form_page_and_fragment(client, calipso, full):
    url = f"/ventas/lista-espera/?servicio_id={calipso.id}&fecha={DAY.isoformat()}&cantidad_personas=1"
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text and "Lista de espera: Tina Calipso" in page.text
    assert '<option value="14:00"' in page.text and "Cualquier hora ese día" in page.text
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="waitlist"' in fragment.text
    assert client.get("/ventas/lista-espera/").status_code == 303


def test_join_posts_and_refuses_in_spanish(client, calipso, full, db_session):
    url = f"/ventas/lista-espera/?servicio_id={calipso.id}&fecha={DAY.isoformat()}&cantidad_personas=1"
    hidden = form_values(client.get(url, headers=HX).text)
    bad = client.post(
        "/ventas/lista-espera/", data={**hidden, "hora": "14:00", "nombre": "", "telefono": "123"}, headers=HX
    )
    assert bad.status_code == 422
    assert "El nombre es obligatorio." in bad.text and "Ingresa un teléfono válido" in bad.text
    assert "Debes aceptar que te contactemos" in bad.text
    hidden = form_values(bad.text)
    ok = client.post(
        "/ventas/lista-espera/",
        data={
            **hidden,
            "hora": "14:00",
            "nombre": "Camila Rojas",
            "telefono": "9 8765 4321",
            "email": "camila@example.com",
            "acepta_contacto": "y",
        },
        headers=HX,
    )
    assert ok.status_code == 200 and "¡Listo, Camila!" in ok.text
    entry = db_session.scalar(sa.select(WaitlistEntry))
    assert entry.phone == "+56987654321" and entry.time == "14:00" and entry.email == "camila@example.com"
    room = client.post(
        "/ventas/lista-espera/",
        data={
            **form_values(client.get(url, headers=HX).text),
            "hora": "17:00",
            "nombre": "Otro",
            "telefono": next_phone(),
            "acepta_contacto": "y",
        },
        headers=HX,
    )
    assert room.status_code == 422 and "todavía tiene cupo" in room.text


def test_join_on_an_english_page_stores_english(client, calipso, full, db_session):
    url = f"/ventas/lista-espera/?servicio_id={calipso.id}&fecha={DAY.isoformat()}&cantidad_personas=1&lang=en"
    hidden = form_values(client.get(url, headers=HX).text)
    ok = client.post(
        "/ventas/lista-espera/",
        data={**hidden, "hora": "14:00", "nombre": "Jane Doe", "telefono": next_phone(), "acepta_contacto": "y"},
        headers=HX,
    )
    assert ok.status_code == 200
    assert db_session.scalar(sa.select(WaitlistEntry.language)) == "en"


def test_join_without_csrf_is_refused(app, client, calipso, full):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = client.post("/ventas/lista-espera/", data={"servicio_id": calipso.id})
        assert resp.status_code in (400, 422)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def offered(calipso, full, join, make_user, db_session):
    entry = join(calipso, "14:00", email="camila@example.com")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    db_session.refresh(entry)
    return entry


def test_offer_link_opens_checkout_with_the_hold(client, calipso, full, join, make_user, db_session):
    entry = offered(calipso, full, join, make_user, db_session)
    resp = client.get(f"/ventas/lista-espera/oferta/{entry.token}/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/ventas/checkout/")
    checkout = client.get("/ventas/checkout/")
    assert checkout.status_code == 200 and "Tina Calipso" in checkout.text
    assert client.get("/ventas/lista-espera/oferta/no-existe/").status_code == 404


def test_offer_checkout_is_prefilled_with_the_entry(client, calipso, full, join, make_user, db_session):
    """The offer link's checkout starts with the entry's name, phone and e-mail; the hold carries its people."""
    from app.core.phone import format_phone

    entry = join(calipso, "14:00", people=2, email="camila@example.com", name="Camila Rojas")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    db_session.refresh(entry)
    assert entry.status == "ofrecida"
    plain = client.get("/ventas/checkout/")  # no offer opened in this browser: nothing filled in
    assert 'value="Camila Rojas"' not in plain.text
    client.get(f"/ventas/lista-espera/oferta/{entry.token}/")
    page = client.get("/ventas/checkout/").text
    assert re.search(r'name="nombre"[^>]*value="Camila Rojas"', page)
    assert re.search(rf'name="telefono"[^>]*value="{re.escape(format_phone(entry.phone))}"', page)
    assert re.search(r'name="email"[^>]*value="camila@example\.com"', page)
    assert "Tina Calipso" in page and "2 personas" in page
    # the checkout completes as is: the offer is accepted and booked once
    hidden = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', page))
    hidden.update(dict(form_values(page)))
    done = client.post(
        "/ventas/complete-checkout/",
        data={
            **hidden,
            "nombre": "Camila Rojas",
            "telefono": format_phone(entry.phone),
            "email": "camila@example.com",
            "acepta_terminos": "y",
            "metodo_pago": "transferencia",
        },
    )
    assert done.status_code == 303, done.text
    db_session.refresh(entry)
    assert entry.status == "aceptada" and entry.order_id is not None


def test_closed_offer_link_explains(client, calipso, full, join, make_user, db_session):
    from app.waitlist.services import cancel_entry

    entry = offered(calipso, full, join, make_user, db_session)
    cancel_entry(entry, by=None)
    resp = client.get(f"/ventas/lista-espera/oferta/{entry.token}/")
    assert resp.status_code == 410 and "fue cancelada" in resp.text


def test_desk_panel_full_page_and_fragment(login, calipso, full, join, make_user, db_session):
    entry = offered(calipso, full, join, make_user, db_session)
    c = login("recepcion")
    page = c.get(f"/ventas/recepcion/lista-espera/?fecha={DAY.isoformat()}")
    assert page.status_code == 200 and "<html" in page.text and "Oferta enviada" in page.text
    assert entry.name in page.text and "Oferta 14:00" in page.text
    fragment = c.get(f"/ventas/recepcion/lista-espera/?fecha={DAY.isoformat()}", headers=HX)
    assert "<html" not in fragment.text and 'id="waitlist-panel"' in fragment.text
    board = c.get(f"/ventas/recepcion/?fecha={DAY.isoformat()}")
    assert "/ventas/recepcion/lista-espera/?fecha=2026-03-02" in board.text


def test_desk_cancel_asks_then_cancels(login, calipso, full, join, db_session):
    entry = join(calipso, "14:00")
    c = login("recepcion")
    ask = c.get(f"/ventas/recepcion/lista-espera/{entry.id}/cancelar/", headers=HX)
    assert ask.status_code == 200 and "¿Cancelar la entrada de Camila Rojas?" in ask.text
    assert "<html" not in ask.text
    done = c.post(f"/ventas/recepcion/lista-espera/{entry.id}/cancelar/", data={}, headers=HX)
    assert (
        done.status_code == 200
        and 'id="waitlist-panel"' in done.text
        and "waitlist-changed" in done.headers["HX-Trigger"]
    )
    db_session.refresh(entry)
    assert entry.status == "cancelada"
    again = c.post(f"/ventas/recepcion/lista-espera/{entry.id}/cancelar/", data={}, headers=HX)
    assert again.status_code == 422 and "ya no está activa" in again.text
    assert c.get("/ventas/recepcion/lista-espera/999999/cancelar/").status_code == 404


@pytest.mark.parametrize("role", (None, *ROLES))
def test_desk_cancel_by_role(client, login, role, calipso, full, join):
    entry = join(calipso, "14:00")
    c = login(role) if role else client
    resp = c.get(f"/ventas/recepcion/lista-espera/{entry.id}/cancelar/")
    expected = {None: 302, "marketing": 403}.get(role, 200)
    assert resp.status_code == expected


def test_api_list(login, make_user, calipso, full, join, db_session, app):
    from app.auth.services import create_api_token

    join(calipso, "14:00")
    second = join(calipso, "14:00")
    _, raw = create_api_token(make_user("recepcion"), name="n8n")
    c = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert c.get("/ventas/api/lista-espera/").status_code == 401
    _, mkt = create_api_token(make_user("marketing"), name="mkt")
    assert c.get("/ventas/api/lista-espera/", headers={"Authorization": f"Bearer {mkt}"}).status_code == 403
    resp = c.get("/ventas/api/lista-espera/?page_size=1&fecha=2026-03-02&estado=esperando", headers=headers)
    assert resp.status_code == 200 and resp.json["count"] == 2 and resp.json["next"] and resp.json["previous"] is None
    assert resp.json["results"][0]["estado"] == "esperando" and resp.json["results"][0]["hora"] == "14:00"
    page2 = c.get("/ventas/api/lista-espera/?page_size=1&page=2", headers=headers)
    assert page2.json["results"][0]["id"] == second.id
    bad = c.get("/ventas/api/lista-espera/?estado=otro&fecha=ayer", headers=headers)
    assert bad.status_code == 400
    spec = c.get("/ventas/api/openapi.json").json
    assert "/ventas/api/lista-espera/" in spec["paths"]
