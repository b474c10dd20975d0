"""Phone visitor books a tub for 2 and pays with (fake) Flow, and again by bank transfer (spec booking.md §1–§6)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.e2e.conftest import choose_people

pytestmark = pytest.mark.e2e


def book_tub(page, base, hhmm):
    """Service page -> date (a Wednesday..Monday day ahead) -> people -> time -> add -> cart -> checkout page."""
    day = clock.today() + timedelta(days=2)
    while day.weekday() == 1:  # closed on Tuesdays
        day += timedelta(days=1)
    page.goto(base + "/")
    page.locator("#service-grid").get_by_role("link", name="Reservar Tina Calipso").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tina Calipso")
    page.fill("#fecha", day.isoformat())
    expect(page.locator("#hours")).to_contain_text(hhmm)
    choose_people(page, 2)
    expect(page.locator("#live-price")).to_have_text("Total: $50.000")
    page.locator("#hours label", has_text=hhmm).click()
    page.get_by_role("button", name="Agregar al carrito").click()
    expect(page.locator("#booking-panel")).to_contain_text("Agregado al carrito: Tina Calipso")
    expect(page.locator("#cart-badge")).to_contain_text("1")
    page.get_by_role("link", name="Ver carrito").click()
    expect(page.locator("#cart-lines")).to_contain_text("2 personas")
    expect(page.locator("#cart-total")).to_have_text("$50.000")
    expect(page.locator("#cart-lines .countdown")).to_contain_text("quedan")
    page.get_by_role("link", name="Continuar al pago").click()
    expect(page.get_by_role("heading", name="Datos para tu reserva")).to_be_visible()


def fill_checkout(page, method_label):
    page.get_by_label("Teléfono").fill("9 8765 4321")
    page.get_by_label("Nombre y apellido").fill("María Pérez")
    page.locator("#email").fill("maria@example.com")
    page.get_by_label(method_label).check()
    page.locator("#acepta_terminos").check()
    page.get_by_role("button", name="Confirmar reserva").click()


def test_tub_for_two_paid_with_fake_flow(live_server, phone_page):
    page = phone_page
    book_tub(page, live_server, "17:00")
    fill_checkout(page, "Flow (tarjetas, Webpay)")
    expect(page.locator("#fake-flow")).to_contain_text("$50.000")
    page.get_by_role("button", name="Pagar").click()
    expect(page.locator("#payment-result h1")).to_have_text("¡Pago Exitoso!")
    page.get_by_role("link", name="Ver mi reserva").click()
    expect(page.locator("#order-status")).to_have_text("Pagada")
    expect(page.locator("#order-balance")).to_have_text("$0")


def test_tub_for_two_by_bank_transfer(live_server, phone_page):
    page = phone_page
    book_tub(page, live_server, "19:00")
    fill_checkout(page, "Transferencia bancaria")
    expect(page).to_have_url(re.compile(r"/ventas/reserva/[^/]+/$"))
    expect(page.locator("#transfer-instructions")).to_contain_text("indicando la reserva #")
    expect(page.locator("#order-status")).to_have_text("Pendiente de pago")
    expect(page.locator("#order-total")).to_have_text("$50.000")
