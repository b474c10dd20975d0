"""A receptionist's day at the desk (spec booking.md §10, reports.md §2): a walk-in booking, check-in, a cash
payment from the board, the payment in caja diaria, and the close of the day."""

import re

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-CL")
    page = context.new_page()
    yield page
    context.close()


def test_receptionist_checks_in_takes_cash_and_closes_the_day(live_server, desk_page):
    page = desk_page
    page.goto(live_server + "/accounts/login/")
    page.get_by_label("Usuario").fill("recepcion")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", name="Recepción")).to_be_visible()

    # a walk-in: client created from the phone, today 19:00, two people
    page.goto(live_server + "/ventas/recepcion/nueva-reserva/")
    page.get_by_label("Teléfono").fill("9 7777 1234")
    page.get_by_label("Nombre", exact=True).fill("Camila Rojas")
    page.get_by_label("Servicio").select_option(label="Tina Privada ($30.000 p/p)")
    expect(page.locator("#slot-grid")).to_contain_text("Tina Privada")  # the hour grid followed the service
    page.get_by_label("Personas").fill("2")
    page.get_by_label("Personas").press("Tab")
    expect(page.locator("#nr-total")).to_contain_text("Total: $60.000")
    page.locator("#slot-grid label[for=nr-hora-1900]").click()
    page.get_by_role("button", name="Crear reserva").click()
    expect(page.locator("body")).to_contain_text(re.compile(r"Reserva #\d+ creada\."), timeout=15_000)
    row = page.locator("#board tr", has_text="Camila Rojas")
    expect(row).to_contain_text("Tina Privada")
    expect(row).to_contain_text("$60.000")

    # check-in swaps the row in place
    row.get_by_role("button", name="Check-in").click()
    expect(row).to_contain_text("En el spa")

    # cash payment from the board's dialog; the board refreshes (payment-recorded)
    row.get_by_role("link", name="Cobrar").click()
    dialog = page.locator("#dialog")
    expect(dialog).to_contain_text("Cobrar venta")
    expect(dialog.get_by_label("Monto")).to_have_value("60000")
    dialog.get_by_label("Método", exact=True).select_option(label="Efectivo")
    dialog.get_by_role("button", name="Registrar pago").click()
    expect(dialog).to_contain_text("Pago registrado: $60.000")
    expect(page.locator("#board tr", has_text="Camila Rojas")).not_to_contain_text("Cobrar")

    # the receptionist's own caja diaria shows it
    page.goto(live_server + "/ventas/caja-diaria-recepcionistas/")
    expect(page.locator("#cash-by-method")).to_contain_text("Efectivo")
    expect(page.locator("#cash-total")).to_have_text("$60.000")

    # close the day: a blind count first, then the review shows expected amounts and live differences
    page.goto(live_server + "/ventas/caja-diaria/cierre/")
    expect(page.locator("#close-form")).to_contain_text(f"Caja del {clock.today():%d/%m/%Y}")
    expect(page.locator("#close-line-efectivo")).not_to_contain_text("$60.000")  # blind
    inputs = page.locator("#close-form input[name^='contado_']")
    for i in range(inputs.count()):
        inputs.nth(i).fill("0")
    page.get_by_role("button", name="Continuar").click()
    expect(page.locator("#close-line-efectivo")).to_contain_text("$60.000")
    expect(page.locator("#diff-efectivo")).to_contain_text("faltante")
    inputs = page.locator("#close-form input[name^='contado_']")
    for i in range(inputs.count()):
        field = inputs.nth(i)
        expected = field.locator("xpath=ancestor::tr/td[2]").inner_text()  # earlier journeys also took money today
        field.fill(re.sub(r"\D", "", expected))
    expect(page.locator("#total-difference")).to_contain_text("Cuadra")  # computed by the server as typed
    page.get_by_role("button", name="Cerrar caja").dblclick()  # busy after the first click: one POST, one close
    expect(page.locator("body")).to_contain_text(f"Caja del {clock.today():%d/%m/%Y} cerrada.", timeout=15_000)
    expect(page.locator("body")).not_to_contain_text("ya fue enviado")

    # the day is locked for the receptionist
    page.goto(live_server + "/ventas/caja-diaria/cierre/")
    expect(page.locator("#close-form")).to_contain_text("Ver el cierre")
