"""The staff screens of issue 18 item 5 in a browser, at 1366 px and on a 390 px phone: client create (duplicate
phone, then saved) and edit, pending updates reviewed per field, the consent page at its new address, a slot
block created and removed, a purchase with an HTMX-added and an HTMX-removed row, a run-time setting saved. Each
screen is axe-clean (autouse fixture) and photographed to test-results/staff-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import PHONE

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
OUT = Path(__file__).resolve().parents[2] / "test-results"


def _login(page, live_server, username):
    page.goto(live_server + "/accounts/login/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def _shot(page, name):
    OUT.mkdir(exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"staff-{name}.png"), full_page=True)


def _no_horizontal_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


@pytest.mark.parametrize("size", SIZES)
def test_staff_screens(live_server, browser, size):
    n = 1 if size == "desktop" else 2
    context = browser.new_context(locale="es-CL", **SIZES[size])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "¿Quitar este bloqueo?" confirmation
    _login(page, live_server, "admin")

    # client create: a duplicate phone links to the client who has it; then saved
    page.goto(live_server + "/ventas/clientes/nuevo/")
    page.get_by_label("Nombre").fill(f"Cliente Pantalla {n}")
    page.get_by_label("Teléfono").fill("+56 9 7000 0000")  # Valentina VIP's
    page.get_by_role("button", name="Crear cliente").click()
    expect(page.locator("#client-duplicate")).to_contain_text("Ya existe un cliente con este teléfono")
    expect(page.locator("#client-duplicate a")).to_have_text(re.compile("Valentina VIP"))
    _no_horizontal_scroll(page)
    _shot(page, f"client-new-duplicate-{size}")
    page.get_by_label("Teléfono").fill(f"9 7111 000{n}")
    page.get_by_role("button", name="Crear cliente").click()
    expect(page).to_have_url(re.compile(r"/ventas/clientes/\d+/$"))
    expect(page.locator("#client-name")).to_have_text(f"Cliente Pantalla {n}")
    page.get_by_role("link", name="Editar", exact=True).click()
    expect(page).to_have_url(re.compile(r"/editar/$"))
    page.get_by_label("Ciudad").fill("Puerto Varas")
    _shot(page, f"client-edit-{size}")
    page.get_by_role("button", name="Guardar cambios").click()
    expect(page).to_have_url(re.compile(r"/ventas/clientes/\d+/$"))

    # the consent page at its new address; the old one redirects there
    client_url = page.url
    page.goto(client_url + "consentimientos/")
    expect(page).to_have_url(re.compile(r"/preferencias/$"))
    expect(page.locator("#client-consents")).to_be_visible()
    _shot(page, f"client-consents-{size}")

    # pending updates: the first run approves the e-mail only; the second finds none left
    page.goto(live_server + "/ventas/clientes/actualizaciones/")
    _no_horizontal_scroll(page)
    _shot(page, f"client-updates-{size}")
    if size == "desktop":
        card = page.locator("article").filter(has_text="Violeta VIP")
        card.get_by_label("Aplicar Nombre").uncheck()
        card.get_by_role("button", name="Aprobar seleccionados").click()
        expect(page.locator("#client-updates [role=status]")).to_contain_text("aprobada")
    else:  # the live server is shared by the journeys: others may have left updates of their own clients
        expect(page.locator("article").filter(has_text="Violeta VIP")).to_have_count(0)

    # blocks: one slot, listed, then removed
    page.goto(live_server + "/ventas/bloqueos/")
    form = page.locator("#block-horario-form")
    form.get_by_label("Servicio").select_option(label="Tina Calipso")
    form.get_by_label("Fecha").fill(f"2036-01-0{n}")
    form.get_by_label("Hora").fill("14:00")
    form.get_by_label("Motivo").fill(f"Mantención {size}")
    form.get_by_role("button", name="Bloquear horario").click()
    expect(page.locator("#blocks-panel [role=status]")).to_have_text("Horario bloqueado.")
    row = page.locator("#blocks-table tr").filter(has_text=f"Mantención {size}")
    expect(row).to_have_count(1)
    _no_horizontal_scroll(page)
    _shot(page, f"blocks-{size}")
    row.get_by_role("button", name="Quitar").click()
    expect(page.locator("#blocks-panel [role=status]")).to_contain_text("Bloqueo quitado")
    expect(page.locator("#blocks-table tr").filter(has_text=f"Mantención {size}")).to_have_count(0)

    # a purchase: a row added and one removed with HTMX, then saved
    page.goto(live_server + "/ventas/compras/nueva/")
    page.get_by_label("Descripción").first.fill("Leña")
    page.get_by_label("Cantidad").first.fill("3")
    page.get_by_label("Precio unitario").first.fill("10.000")
    page.get_by_role("button", name="Agregar línea").click()
    expect(page.locator(".purchase-line")).to_have_count(2)
    page.get_by_role("button", name="Agregar línea").click()
    expect(page.locator(".purchase-line")).to_have_count(3)
    page.locator(".purchase-line").nth(2).get_by_role("button", name="Quitar línea").click()
    expect(page.locator(".purchase-line")).to_have_count(2)
    second = page.locator(".purchase-line").nth(1)
    second.get_by_label("Descripción").fill("Flete")
    second.get_by_label("Cantidad").fill("1")
    second.get_by_label("Precio unitario").fill("5.000")
    _shot(page, f"purchase-new-{size}")
    page.get_by_role("button", name="Registrar compra").click()
    expect(page).to_have_url(re.compile(r"/ventas/compras/\d+/$"))
    expect(page.locator("body")).to_contain_text("$35.000")
    page.locator("#purchase-edit").click()
    expect(page).to_have_url(re.compile(r"/editar/$"))
    _shot(page, f"purchase-edit-{size}")

    # run-time settings
    page.goto(live_server + "/ventas/configuracion/")
    page.get_by_label("SMS de marketing por cliente al día").fill(str(n))
    page.get_by_role("button", name="Guardar configuración").click()
    expect(page.locator("#settings-form [role=status]")).to_contain_text("guardado")
    _no_horizontal_scroll(page)
    _shot(page, f"settings-{size}")
    context.close()
