"""The desk in a browser (UX review D2, D7, D10, D22): a walk-in booked by clicking a free hour, a double click on
*Crear reserva* and on *Registrar pago* that takes effect once, keyboard shortcuts, and the board on a tablet."""

import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("DESK_SCREENSHOTS")  # a folder to keep the board's screenshots in (manual review)


def log_in(page, live_server, username="gerente"):
    page.goto(live_server + "/accounts/login/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


@pytest.fixture
def desk(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-CL")
    page = context.new_page()
    log_in(page, live_server)  # a manager: takes payments even after another journey closed today's cash day
    yield page
    context.close()


def test_walk_in_by_clicking_an_hour_and_double_clicks_take_effect_once(live_server, desk):
    page = desk
    page.goto(live_server + "/ventas/recepcion/nueva-reserva/")
    page.get_by_label("Servicio").select_option(label="Tina Privada ($30.000 p/p)")
    grid = page.locator("#slot-grid")
    expect(grid).to_contain_text("Tina Privada")  # the grid followed the service (HTMX)
    expect(page.locator("#nr-total")).to_contain_text("Total: $30.000")
    page.get_by_label("Personas").fill("3")
    page.get_by_label("Personas").press("Tab")
    expect(page.locator("#nr-total")).to_contain_text("Total: $90.000")
    grid.locator("label[for=nr-hora-1000]").click()
    expect(grid.locator("#nr-hora-1000")).to_be_checked()
    page.get_by_label("Teléfono").fill("9 6543 2101")
    page.get_by_label("Nombre", exact=True).fill("Doble Clic")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "walk-in-1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(SHOTS, "walk-in-390.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
    page.locator("#nr-submit").dblclick()
    expect(page.locator("body")).to_contain_text(re.compile(r"Reserva #\d+ creada\."), timeout=15_000)
    rows = page.locator("#board tr", has_text="Doble Clic")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("$90.000")

    rows.get_by_role("link", name="Cobrar").click()
    dialog = page.locator("#dialog")
    expect(dialog.get_by_label("Monto")).to_have_value("90000")
    dialog.get_by_label("Método", exact=True).select_option(label="Tarjeta débito/crédito")
    dialog.get_by_role("button", name="Registrar pago").dblclick()
    expect(dialog).to_contain_text("Pago registrado: $90.000")
    expect(page.locator("#board tr", has_text="Doble Clic")).to_contain_text("Pagada")

    page.locator("#board tr", has_text="Doble Clic").get_by_role("link", name="Doble Clic").click()
    expect(page.locator("#order-payments tbody tr")).to_have_count(1)
    expect(page.locator("#order-payments")).to_contain_text("$90.000")
    expect(page.locator("#order-charge")).to_have_count(0)  # paid in full: no Cobrar


def test_keyboard_shortcuts_on_the_board(live_server, desk):
    page = desk
    page.goto(live_server + "/ventas/recepcion/")
    expect(page.locator("#board-shortcuts")).to_contain_text("nueva reserva")
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#client-q")).to_be_focused()
    page.keyboard.type("n")  # typed into the search field: not a shortcut there
    expect(page.locator("#client-q")).to_have_value("n")
    expect(page).to_have_url(re.compile(r"/ventas/recepcion/$"))
    page.locator("#client-q").blur()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#board-fecha")).not_to_have_value(re.compile(r"^$"))
    expect(page).to_have_url(re.compile(r"fecha=\d{4}-\d{2}-\d{2}"))
    page.keyboard.press("h")
    expect(page).to_have_url(re.compile(r"/ventas/recepcion/$"))
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/ventas/recepcion/nueva-reserva/"))
    expect(page.get_by_role("heading", name=re.compile("Nueva reserva"))).to_be_visible()


@pytest.mark.parametrize("width,height", [(390, 844), (820, 1180), (1180, 820), (1366, 900)])
def test_board_fits_tablets_and_phones(live_server, desk, width, height):
    page = desk
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server + "/ventas/recepcion/")
    expect(page.locator("#board tbody tr").first).to_be_visible()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"board-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the board scrolls sideways at {width} px ({overflow} px)"
    buttons = page.locator("#board .c-acciones .btn")
    assert buttons.count() > 0
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"an action button is cut off at {width} px"
        if width < 1200:
            assert box["height"] >= 44 and box["width"] >= 44, f"touch target below 44 px at {width} px"
    phone = page.locator("#board .c-cliente .text-nowrap").first
    assert phone.bounding_box()["height"] < 3 * 16  # one line, never three
    if width < 1200:
        expect(page.locator("#board thead")).to_be_hidden()


def test_walk_in_without_javascript(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-CL", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(live_server + "/ventas/recepcion/nueva-reserva/")
        page.get_by_label("Servicio").select_option(label="Tina Privada ($30.000 p/p)")
        tomorrow = clock.today() + timedelta(days=1)  # today's 19:00 belongs to the receptionist's journey
        page.get_by_label("Fecha").fill(tomorrow.isoformat())
        page.get_by_label("Personas").fill("2")
        page.get_by_label("Teléfono").fill("9 6543 2102")
        page.get_by_label("Nombre", exact=True).fill("Sin Script")
        page.get_by_role("button", name="Ver horas").click()  # a plain GET: the page comes back with the grid
        grid = page.locator("#slot-grid")
        expect(grid).to_contain_text("Tina Privada")
        expect(page.locator("#nr-total")).to_contain_text("Total: $60.000")
        expect(page.get_by_label("Nombre", exact=True)).to_have_value("Sin Script")
        expect(grid).to_contain_text(f"Tina Privada, {tomorrow:%d/%m/%Y}")
        grid.locator("label[for=nr-hora-1000]").click()
        page.locator("#nr-submit").click()
        expect(page.locator("body")).to_contain_text(re.compile(r"Reserva #\d+ creada\."))
        expect(page.locator("#board tr", has_text="Sin Script")).to_contain_text("10:00")
        assert f"fecha={tomorrow.isoformat()}" in page.url
    finally:
        context.close()


def test_move_a_booking_by_clicking_an_hour(live_server, desk):
    page = desk
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(live_server + "/ventas/recepcion/")
    page.locator("#board tr", has_text="Doble Clic").get_by_role("link", name="Más acciones").click()
    page.locator("#dialog").get_by_role("link", name="Mover").click()
    dialog = page.locator("#dialog")
    expect(dialog.locator("#nr-hora-1000")).to_be_checked()  # the booking's own hour
    tomorrow = clock.today() + timedelta(days=1)
    dialog.get_by_label("Fecha").fill(tomorrow.isoformat())
    dialog.get_by_label("Fecha").press("Tab")
    expect(dialog.locator("#slot-grid")).to_contain_text(f"{tomorrow:%d/%m/%Y}")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "move-820.png"), full_page=True)
    dialog.locator("label[for=nr-hora-1900]").click()
    dialog.get_by_role("button", name="Mover").click()
    expect(dialog).to_contain_text(f"Reserva movida al {tomorrow:%d/%m/%Y} 19:00.")


def test_order_page_add_a_service_from_the_grid_then_charge_it(live_server, desk):
    page = desk
    tomorrow = clock.today() + timedelta(days=1)  # «Doble Clic» was moved there above
    page.goto(live_server + f"/ventas/recepcion/?fecha={tomorrow.isoformat()}")
    page.locator("#board tr", has_text="Doble Clic").get_by_role("link", name="Doble Clic").click()
    expect(page.locator("#order-charge")).to_have_count(0)  # paid in full
    page.get_by_role("link", name="Agregar servicio").click()
    dialog = page.locator("#dialog")
    dialog.get_by_label("Servicio").select_option(label="Tina Privada ($30.000 p/p)")
    day = clock.today() + timedelta(days=2)
    dialog.get_by_label("Fecha").fill(day.isoformat())
    dialog.get_by_label("Personas").fill("2")
    dialog.get_by_label("Personas").press("Tab")
    expect(dialog.locator("#nr-total")).to_contain_text("Total: $60.000")
    expect(dialog.locator("#slot-grid")).to_contain_text(f"{day:%d/%m/%Y}")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "order-add-service-1366.png"), full_page=True)
    dialog.locator("label[for=nr-hora-1000]").click()
    dialog.get_by_role("button", name="Agregar servicio").dblclick()
    expect(dialog).to_contain_text(f"Servicio agregado: Tina Privada {day:%d/%m/%Y} 10:00.")
    expect(page.locator("#service-lines tbody tr")).to_have_count(2)
    charge = page.locator("#order-charge")
    expect(charge).to_have_text("Cobrar $60.000")  # the action bar refreshed itself
    charge.click()
    # not cash: the receptionist's journey checks today's cash line holds only its own payment
    dialog.get_by_label("Método", exact=True).select_option(label="Tarjeta débito/crédito")
    dialog.get_by_role("button", name="Registrar pago").click()
    expect(dialog).to_contain_text("Pago registrado: $60.000")
    expect(page.locator("#order-charge")).to_have_count(0)
    expect(page.locator("#order-payments tbody tr")).to_have_count(2)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "order-paid-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the order page scrolls sideways on a phone ({overflow} px)"
