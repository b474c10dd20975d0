"""An English-speaking visitor (self-service.md §5): the public pages in English with the house formats ($12.345,
DD/MM/YYYY), the client's language stored at checkout, and their messages in English."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.clients.models import Client
from app.comms.models import CommunicationLog
from app.comms.render import render
from app.core.signing import order_token
from app.sales.models import Order

EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


def book(client, calipso, headers, method="transferencia", phone="9 8765 4321", name="Mary Smith", hour="14:00"):
    added = client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": hour, "cantidad_personas": 2},
        headers=headers,
    )
    assert added.status_code == 303 and added.headers["Location"].endswith("/ventas/cart/")
    return client.post(
        "/ventas/complete-checkout/",
        data={
            "telefono": phone,
            "nombre": name,
            "email": "mary@example.com",
            "metodo_pago": method,
            "acepta_terminos": "y",
        },
        headers=headers,
    )


def test_public_pages_in_english_with_house_money_and_dates(client, calipso):
    home = client.get("/", headers=EN)
    assert "Hot springs by the forest" in home.text and "Aguas calientes junto al bosque" not in home.text
    assert "$25.000 per person" in home.text  # money keeps $12.345
    assert ">Book</a>" in home.text and "Check gift card balance" in home.text
    page = client.get(f"/ventas/servicio/{calipso.id}/?fecha=2026-03-02", headers=EN)
    assert page.status_code == 200
    assert "Monday 2 March 2026" in page.text and "lunes" not in page.text
    assert "March 2026" in page.text and "Add to cart" in page.text and "Total: $25.000" in page.text
    assert re.search(r"Monday 2 March 2026, 14:00, 1 place available", page.text)
    cart = client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00", "cantidad_personas": 2},
        headers=EN,
        follow_redirects=True,
    )
    assert "Added to cart: Tina Calipso, Monday 02/03/2026 14:00, 2 people — $50.000. Held for 15 minutes." in cart.text
    assert (
        "Your cart" in cart.text and "02/03/2026 14:00 · 2 people" in cart.text and "Continue to payment" in cart.text
    )
    checkout = client.get("/ventas/checkout/", headers=EN)
    assert "Your booking details" in checkout.text and "Full name" in checkout.text and "Bank transfer" in checkout.text


def test_the_same_pages_stay_spanish_by_default(client, calipso):
    page = client.get(f"/ventas/servicio/{calipso.id}/?fecha=2026-03-02")
    assert "lunes 2 de marzo de 2026" in page.text and "Agregar al carrito" in page.text
    assert "Marzo 2026" in page.text and "Total: $25.000" in page.text


def test_form_errors_in_english(client, calipso):
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00", "cantidad_personas": 2},
    )
    resp = client.post(
        "/ventas/complete-checkout/",
        data={"telefono": "123", "nombre": "", "email": "x", "metodo_pago": "transferencia"},
        headers={**EN, "HX-Request": "true"},
    )
    assert resp.status_code == 422
    assert "Enter a valid phone number." in resp.text and "The name is required." in resp.text
    assert "You must accept the terms and conditions." in resp.text
    assert "Ingrese" not in resp.text


def test_checkout_stores_the_language_and_the_order_page_is_english(client, calipso, db_session):
    resp = book(client, calipso, EN)
    assert resp.status_code == 303
    order = db_session.scalars(sa.select(Order)).one()
    assert order.client.language == "en"
    page = client.get(f"/ventas/reserva/{order_token(order.id)}/", headers=EN)
    assert f"Booking #{order.id}" in page.text and "Hi Mary." in page.text and "Awaiting payment" in page.text
    assert "Balance due" in page.text and "$50.000" in page.text
    assert "Tina Calipso — 02/03/2026 14:00, 2 people" in page.text  # DD/MM/YYYY in English too
    assert "Add to calendar" in page.text and "How to get here" in page.text


def test_a_spanish_checkout_keeps_spanish_and_a_later_english_one_switches(client, calipso, db_session):
    book(client, calipso, {"Accept-Language": "es-CL"})
    mary = db_session.scalars(sa.select(Client)).one()
    assert mary.language == "es"
    client.set_cookie("lang", "en")
    assert book(client, calipso, {}, hour="17:00").status_code == 303
    db_session.refresh(mary)
    assert mary.language == "en"


def _confirmation(db_session, channel):
    return db_session.scalars(
        sa.select(CommunicationLog).where(
            CommunicationLog.message_type == "BOOKING_CONFIRMATION", CommunicationLog.communication_type == channel
        )
    ).one()


def test_messages_to_an_english_client_use_the_english_templates(client, calipso, db_session):
    book(client, calipso, EN)
    order = db_session.scalars(sa.select(Order)).one()
    mail = render(_confirmation(db_session, "EMAIL"))
    assert mail.subject == "Booking awaiting confirmation - Tina Calipso"
    assert f"We received your booking #{order.id}" in mail.text and "Balance due: $50.000" in mail.text
    assert "- Tina Calipso: 02/03/2026 14:00, 2 people, $50.000" in mail.text
    assert "Arrive 10 minutes before your time." in mail.html and 'lang="en"' in mail.html
    assert "Stop receiving this type of message" in mail.html and "Recibimos" not in mail.html
    sms = render(_confirmation(db_session, "SMS")).text
    assert sms.startswith(f"Hi Mary, we received your booking #{order.id}: Tina Calipso on 02/03/2026 at 14:00.")
    assert " Unsubscribe: http" in sms


def test_messages_to_a_spanish_client_stay_spanish(client, calipso, db_session):
    book(client, calipso, {})
    order = db_session.scalars(sa.select(Order)).one()
    mail = render(_confirmation(db_session, "EMAIL"))
    assert mail.subject == "Reserva por confirmar - Tina Calipso"
    assert f"Recibimos tu reserva #{order.id}" in mail.text and "Saldo pendiente: $50.000" in mail.text
    sms = render(_confirmation(db_session, "SMS")).text
    assert sms.startswith(f"Hola Mary, recibimos tu reserva #{order.id}") and " Baja: http" in sms


def test_english_error_page(client):
    resp = client.get("/ventas/categoria/999999/", headers=EN)
    assert resp.status_code == 404
    assert "Page not found" in resp.text and "Back to the home page" in resp.text


def test_unsubscribe_and_preferences_in_english(client, calipso, db_session):
    from app.comms.render import unsubscribe_token

    book(client, calipso, EN)
    row = _confirmation(db_session, "EMAIL")
    token = unsubscribe_token(row.id)
    ask = client.get(f"/ventas/baja/{token}/", headers=EN)
    assert "Stop receiving booking confirmations?" in ask.text
    done = client.post(f"/ventas/baja/{token}/", headers=EN)
    assert "Done. You will no longer receive booking confirmations." in done.text
    prefs = client.get(f"/ventas/preferencias/{token}/", headers=EN)
    assert "My message preferences" in prefs.text and "Birthday greetings" in prefs.text


def test_a_sales_refusal_reads_in_english(app, client, calipso):
    """The service's refusal (Spanish, as the audit keeps it) is shown through the catalogue."""
    slot = {"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00", "cantidad_personas": 2}
    assert client.post("/ventas/add-to-cart/", data=slot).status_code == 303
    other = app.test_client()
    refused = other.post("/ventas/add-to-cart/", data=slot, headers={**EN, "HX-Request": "true"})
    assert refused.status_code == 409
    assert "That time is sold out." in refused.text and "Horario agotado" not in refused.text
    spanish = app.test_client().post("/ventas/add-to-cart/", data=slot, headers={"HX-Request": "true"})
    assert "Horario agotado." in spanish.text


def test_refusals_built_with_values_read_in_english(app, client, calipso):
    """Refusals whose text carries values (app.core.errors.Msg): the people bounds of the service, the lines a
    checkout could not keep. The same refusals stay Spanish on a Spanish page."""
    low, high = calipso.min_people, calipso.max_people
    slot = {"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00", "cantidad_personas": high + 1}
    people = app.test_client().post("/ventas/add-to-cart/", data=slot, headers={**EN, "HX-Request": "true"})
    assert people.status_code in (409, 422)
    assert f"The number of people must be between {low} and {high}." in people.text
    assert "cantidad de personas" not in people.text
    spanish = app.test_client().post("/ventas/add-to-cart/", data=slot, headers={"HX-Request": "true"})
    assert f"La cantidad de personas debe estar entre {low} y {high}." in spanish.text
    # two visitors hold the same last place in turn: the second checkout finds it taken
    from app.core import clock
    from app.sales.models import CartHold

    slot["cantidad_personas"] = 2
    assert client.post("/ventas/add-to-cart/", data=slot, headers=EN).status_code == 303
    from app.extensions import db

    db.session.execute(sa.update(CartHold).values(expires_at=clock.now()))  # the hold lapses unused
    db.session.commit()
    assert book(app.test_client(), calipso, {}, phone="9 1111 2222").status_code == 303  # someone else books it
    resp = client.post(
        "/ventas/complete-checkout/",
        data={
            "telefono": "9 8765 4321",
            "nombre": "Mary Smith",
            "email": "mary@example.com",
            "metodo_pago": "transferencia",
            "acepta_terminos": "y",
        },
        headers=EN,
    )
    assert resp.status_code == 409
    assert "Some times are no longer available: Tina Calipso 02/03/2026 14:00" in resp.text
    assert "ya no están disponibles" not in resp.text
