"""Customer journeys on a phone: every checkout error with JavaScript on (D1), a rejected Flow payment retried
(D13), and a booking with JavaScript off (D12)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.e2e.conftest import PHONE, choose_people

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE, locale="es-CL")
    yield context
    context.close()


def ahead(days: int):
    """An open day `days` ahead (closed on Tuesdays). Each journey uses its own hour and day, away from
    test_booking_journey's (two days ahead), as they share one database."""
    day = clock.today() + timedelta(days=days)
    while day.weekday() == 1:
        day += timedelta(days=1)
    return day


def book_tub(page, base, hhmm, day):
    """Service page -> day -> 2 people -> time -> add -> cart -> checkout page."""
    page.goto(base + "/")
    page.locator("#service-grid").get_by_role("link", name="Reservar Tina Calipso").click()
    page.fill("#fecha", day.isoformat())
    expect(page.locator("#hours legend")).to_contain_text(f" {day.day} de ")
    choose_people(page, 2)
    expect(page.locator("#live-price")).to_have_text("Total: $50.000")
    expect(page.get_by_role("button", name="Agregar al carrito")).to_be_disabled()  # no hour chosen yet
    page.locator("#hours label", has_text=hhmm).click()
    page.get_by_role("button", name="Agregar al carrito").click()
    expect(page.locator("#booking-panel")).to_contain_text("Agregado al carrito: Tina Calipso")
    page.get_by_role("link", name="Ver carrito").click()
    page.get_by_role("link", name="Continuar al pago").click()
    expect(page.get_by_role("heading", name="Datos para tu reserva")).to_be_visible()


def no_error_banner(page):
    expect(page.locator("#flashes")).not_to_contain_text("No se pudo completar")


def confirm(page):
    page.get_by_role("button", name="Confirmar reserva").click()


def test_every_checkout_error_shows_field_messages_with_javascript(live_server, phone):
    page = phone.new_page()
    day = ahead(5)  # fixed before the clock jumps (20 minutes later may be tomorrow)
    book_tub(page, live_server, "14:00", day)
    # summary (with the hold countdown) comes before the form on a phone
    summary, button = page.locator("#checkout-summary"), page.get_by_role("button", name="Confirmar reserva")
    assert summary.bounding_box()["y"] < button.bounding_box()["y"]
    expect(summary.locator(".countdown")).to_contain_text("quedan")

    confirm(page)  # empty form
    expect(page.locator("#telefono-error")).to_have_text("Ingrese un teléfono válido.")
    expect(page.locator("#nombre-error")).to_have_text("El nombre es obligatorio.")
    expect(page.locator("#email-error")).to_have_text("Ingrese un e-mail válido.")
    expect(page.locator("#checkout-form")).to_contain_text("Debe aceptar los términos y condiciones.")
    no_error_banner(page)

    page.get_by_label("Teléfono").fill("9 8765 4321")
    page.get_by_label("Nombre y apellido").fill("María Pérez")
    page.locator("#email").fill("maria@")
    confirm(page)  # invalid e-mail, terms still unticked
    expect(page.locator("#email-error")).to_have_text("Ingrese un e-mail válido.")
    expect(page.locator("#telefono-error")).to_have_count(0)
    expect(page.get_by_label("Nombre y apellido")).to_have_value("María Pérez")

    page.locator("#email").fill("maria@example.com")
    page.get_by_label("Teléfono").fill("12")
    page.locator("#acepta_terminos").check()
    confirm(page)  # invalid phone
    expect(page.locator("#telefono-error")).to_have_text("Ingrese un teléfono válido.")
    no_error_banner(page)

    # the hold runs out and somebody else takes the slot: 409 with the form
    page.get_by_label("Teléfono").fill("9 8765 4321")
    page.locator("#acepta_terminos").check()
    clock.freeze(clock.now() + timedelta(minutes=20))
    try:
        other = phone.browser.new_context(**PHONE, locale="es-CL")
        try:
            book_tub(other.new_page(), live_server, "14:00", day)
        finally:
            other.close()
        confirm(page)
        expect(page.locator("#checkout-form .alert-danger")).to_contain_text(
            "Algunos horarios ya no están disponibles: Tina Calipso"
        )
        no_error_banner(page)
    finally:
        clock.freeze(None)

    # the cart emptied in another tab: the form says so and links back to the services
    tab = phone.new_page()
    tab.goto(live_server + "/ventas/cart/")
    tab.get_by_role("button", name="Quitar Tina Calipso").click()
    expect(tab.locator("#cart-lines")).to_contain_text("Tu carrito está vacío")
    tab.close()
    page.locator("#acepta_terminos").check()
    confirm(page)
    expect(page.locator("#checkout-form .alert-danger")).to_contain_text("El carrito está vacío")
    expect(page.locator("#checkout-form").get_by_role("link", name="Ver servicios")).to_be_visible()
    no_error_banner(page)


def test_rejected_flow_payment_then_successful_retry(live_server, phone):
    page = phone.new_page()
    book_tub(page, live_server, "17:00", ahead(6))
    page.get_by_label("Teléfono").fill("9 8765 4322")
    page.get_by_label("Nombre y apellido").fill("Pedro Soto")
    page.locator("#email").fill("pedro@example.com")
    page.get_by_label("Flow (tarjetas, Webpay)").check()
    page.locator("#acepta_terminos").check()
    page.get_by_role("button", name="Confirmar reserva").dblclick()  # busy button: one order, one payment
    expect(page.locator("#fake-flow")).to_contain_text("$50.000")
    page.get_by_role("button", name="Rechazar").click()
    expect(page.locator("#payment-result h1")).to_have_text("Pago Rechazado")
    expect(page.locator("#hold-until")).to_contain_text("Guardamos tu reserva hasta el")
    expect(page.get_by_role("button", name="Pagar por transferencia")).to_be_visible()
    page.get_by_role("button", name="Reintentar pago").click()
    expect(page.locator("#fake-flow")).to_contain_text("$50.000")
    page.get_by_role("button", name="Pagar", exact=True).click()
    expect(page.locator("#payment-result h1")).to_have_text("¡Pago Exitoso!")
    page.get_by_role("link", name="Ver mi reserva").click()
    expect(page.locator("#order-status")).to_have_text("Pagada")
    expect(page.locator("#order-balance")).to_have_text("$0")
    expect(page.get_by_role("link", name="Agregar al calendario")).to_be_visible()
    expect(page.locator("#spa-address")).to_contain_text("Ver en el mapa")


def test_booking_without_javascript_on_a_phone(live_server, browser):
    context = browser.new_context(**PHONE, locale="es-CL", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        page.locator("#service-grid").get_by_role("link", name="Reservar Tina Calipso").click()
        # a day from the calendar (a plain link), then the people with "Ver horarios" (a GET without the token)
        day = ahead(7)
        day_link = page.locator(f'#booking-calendar a[href*="fecha={day.isoformat()}"]')
        if day_link.count() == 0:  # the day falls in next month
            page.get_by_role("link", name="Mes siguiente").click()
        day_link.first.click()
        expect(page.locator("#fecha")).to_have_value(day.isoformat())
        page.select_option("#cantidad_personas", "2")
        page.get_by_role("button", name="Ver horarios").click()
        expect(page).to_have_url(re.compile(r"cantidad_personas=2"))
        assert "csrf_token" not in page.url and "hora=" not in page.url
        expect(page.locator("#live-price")).to_have_text("Total: $50.000")
        page.locator("#hours label", has_text="19:00").click()
        page.get_by_role("button", name="Agregar al carrito").click()
        expect(page).to_have_url(re.compile(r"/ventas/cart/$"))
        expect(page.locator("#cart-lines")).to_contain_text("2 personas")
        page.get_by_role("link", name="Continuar al pago").click()
        page.get_by_label("Teléfono").fill("9 8765 4323")
        page.locator("#email").fill("ana@example.com")
        page.locator("#acepta_terminos").check()
        confirm(page)  # no name
        expect(page.locator("#nombre-error")).to_have_text("El nombre es obligatorio.")
        page.get_by_label("Nombre y apellido").fill("Ana Rojas")
        page.locator("#acepta_terminos").check()
        confirm(page)
        expect(page).to_have_url(re.compile(r"/ventas/reserva/[^/]+/$"))
        expect(page.locator("#order-status")).to_have_text("Pendiente de pago")
        expect(page.locator("#transfer-instructions")).to_contain_text("indicando la reserva #")
        expect(page.get_by_role("link", name="Agregar al calendario")).to_be_visible()
    finally:
        context.close()
