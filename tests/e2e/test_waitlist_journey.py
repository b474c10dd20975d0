"""A phone visitor (390 px) finds Tina Calipso full, joins the waitlist; the booking ahead is cancelled at the desk;
the visitor opens the offer link and books the freed place (self-service.md §4)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.conftest import PASSWORD
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.e2e
SHOTS = "/tmp/waitlist-shots"


def waitlist_day():
    """A day no other journey books (they share the live server): fourteen days ahead, not a Tuesday (closed)."""
    day = clock.today() + timedelta(days=14)
    while day.weekday() == 1:
        day += timedelta(days=1)
    return day


def open_panel(page, base, day):
    page.goto(base + "/")
    page.locator("#service-grid").get_by_role("link", name="Reservar Tina Calipso").click()
    page.fill("#fecha", day.isoformat())
    expect(page.locator("#hours legend")).to_contain_text(f"{day.day}")


def checkout(page, phone, name, email):
    page.get_by_label("Teléfono").fill(phone)
    page.get_by_label("Nombre y apellido").fill(name)
    page.locator("#email").fill(email)
    page.get_by_label("Transferencia bancaria").check()
    page.locator("#acepta_terminos").check()
    page.get_by_role("button", name="Confirmar reserva").click()
    expect(page).to_have_url(re.compile(r"/ventas/reserva/[^/]+/$"))


def test_join_the_waitlist_get_the_offer_and_book(live_server, browser):
    import os

    os.makedirs(SHOTS, exist_ok=True)
    day = waitlist_day()
    first = browser.new_context(**PHONE, locale="es-CL").new_page()
    visitor = browser.new_context(**PHONE, locale="es-CL").new_page()
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-CL").new_page()

    # somebody books the only tub at 14:00
    open_panel(first, live_server, day)
    first.locator("#hours label", has_text="14:00").click()
    first.get_by_role("button", name="Agregar al carrito").click()
    first.get_by_role("link", name="Ver carrito").click()
    first.get_by_role("link", name="Continuar al pago").click()
    checkout(first, "9 1111 2222", "Pedro Primero", "pedro@example.com")
    order_no = re.search(r"reserva #(\d+)", first.locator("#transfer-instructions").inner_text()).group(1)

    # the phone visitor finds 14:00 full and asks to be told
    open_panel(visitor, live_server, day)
    expect(visitor.locator("label[for=hora-1400]")).to_contain_text("Agotado")
    visitor.get_by_role("link", name="Avísame si se libera").click()
    form = visitor.locator("#waitlist")
    expect(form).to_contain_text("Lista de espera: Tina Calipso")
    form.get_by_label("Hora").select_option("14:00")
    form.get_by_label("Nombre").fill("Camila Rojas")
    form.get_by_label("Teléfono celular").fill("9 8765 4321")
    form.get_by_role("button", name="Avísame si se libera").click()
    expect(visitor.locator("#waitlist")).to_contain_text("Debes aceptar que te contactemos")
    visitor.locator("#acepta_contacto").check()
    visitor.locator("#waitlist").get_by_role("button", name="Avísame si se libera").click()
    expect(visitor.locator("#waitlist-joined")).to_contain_text("¡Listo, Camila!")
    visitor.screenshot(path=f"{SHOTS}/phone-joined.png", full_page=True)

    # the desk cancels the booking ahead: the place goes to the waitlist
    desk.goto(live_server + "/accounts/login/")
    desk.get_by_label("Usuario").fill("gerente")
    desk.get_by_label("Contraseña").fill(PASSWORD)
    desk.get_by_role("button", name="Ingresar").click()
    expect(desk).not_to_have_url(re.compile(r"/accounts/login/"))
    desk.goto(f"{live_server}/ventas/venta_reservas/{order_no}/cancelar/")
    desk.locator("#cancel-motivo").fill("El cliente no puede venir")
    desk.once("dialog", lambda d: d.accept())
    desk.get_by_role("button", name="Cancelar venta").click()
    # the cancellation has landed before the next page is opened (a goto would abort a POST still in flight)
    expect(desk.get_by_text(f"Venta #{order_no} cancelada.")).to_be_visible()
    desk.goto(f"{live_server}/ventas/recepcion/?fecha={day.isoformat()}")
    panel = desk.locator("#waitlist-panel")
    expect(panel).to_contain_text("Camila Rojas")
    expect(panel).to_contain_text("Oferta enviada")
    desk.screenshot(path=f"{SHOTS}/desk-board-1366.png", full_page=True)
    offer_url = panel.locator("a.waitlist-offer-link").get_attribute("href")

    # the visitor opens the offer link (from the SMS) and books the held place
    visitor.goto(live_server + offer_url)
    expect(visitor.get_by_role("heading", name="Datos para tu reserva")).to_be_visible()
    expect(visitor.locator("body")).to_contain_text("Tina Calipso")
    visitor.screenshot(path=f"{SHOTS}/phone-offer-checkout.png", full_page=True)
    checkout(visitor, "9 8765 4321", "Camila Rojas", "camila@example.com")
    expect(visitor.locator("#order-status")).to_have_text("Pendiente de pago")
    expect(visitor.locator("body")).to_contain_text("14:00")
    visitor.screenshot(path=f"{SHOTS}/phone-booked.png", full_page=True)

    # the offer is used: the link no longer opens a cart, the desk sees it accepted
    visitor.goto(live_server + offer_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Ya reservaste este cupo")
    desk.goto(f"{live_server}/ventas/recepcion/lista-espera/?fecha={day.isoformat()}")
    expect(desk.locator("#waitlist-panel")).to_contain_text("Aceptada")
    for page in (first, visitor, desk):
        page.context.close()
