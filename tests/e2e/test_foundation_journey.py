"""Phone-sized visitor opens the homepage and a category; a receptionist logs in and reaches the back office."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_visitor_browses_and_receptionist_reaches_back_office(live_server, phone_page):
    page = phone_page
    page.goto(live_server + "/")
    expect(page).to_have_title(re.compile("Aremko"))
    expect(page.locator("#service-grid")).to_contain_text("Tina Calipso")
    expect(page.locator("#service-grid")).to_contain_text("$25.000 precio por persona")

    # category chip swaps the grid in place (HTMX) and pushes the URL
    page.locator("#category-chips").get_by_role("link", name="Masajes").click()
    expect(page.locator("#service-grid")).to_contain_text("Masaje Relajación")
    expect(page.locator("#service-grid")).not_to_contain_text("Tina Calipso")
    expect(page).to_have_url(re.compile(r"categoria=\d+"))

    # the category page itself
    page.goto(live_server + "/")
    page.locator("#service-grid").get_by_role("link", name="Tinas Calientes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tinas Calientes")
    expect(page.locator("#category-services")).to_contain_text("Tina Calipso")

    # staff login on the phone
    page.goto(live_server + "/accounts/login/")
    page.get_by_label("Usuario").fill("recepcion")
    page.get_by_label("Contraseña").fill("clave-incorrecta-1")
    page.get_by_role("button", name="Ingresar").click()
    expect(page.locator("#login-form")).to_contain_text("Usuario o contraseña incorrectos.")
    page.get_by_label("Usuario").fill("recepcion")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", name="Recepción")).to_be_visible()  # the receptionist's home
    page.goto(live_server + "/ventas/admin-dashboard/")
    expect(page.get_by_role("heading", name="Sistema de Gestión Aremko")).to_be_visible()

    page.goto(live_server + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Administración de Aremko")).to_be_visible()
    page.goto(live_server + "/admin/service/")
    expect(page.locator("body")).to_contain_text("Tina Calipso")
    expect(page.locator("body")).not_to_contain_text("Crear")  # recepcion reads the catalogue only
    page.screenshot(path=str(_shot_dir() / "backoffice-phone.png"), full_page=True)
    assert page.goto(live_server + "/admin/user/").status == 403


def _shot_dir():
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "test-results"
    out.mkdir(exist_ok=True)
    return out
