"""The shared layout in a browser (UX review D4, D9, D12, D15): boosted navigation keeps one handler per action,
the staff bar never wraps, the phone menu opens without JavaScript, and the main pages of each role are axe-clean
at 1366 px and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import PHONE, assert_axe_clean

DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def _login(page, live_server, username):
    page.goto(live_server + "/accounts/login/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.wait_for_load_state("networkidle")


def _shot(page, name):
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "test-results"
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / f"layout-{name}.png"))


def test_boosted_navigation_keeps_one_handler_per_action(live_server, browser):
    context = browser.new_context(locale="es-CL", **DESKTOP)
    page = context.new_page()
    _login(page, live_server, "gerente")
    page.evaluate("() => { window.__fullLoads = (window.__fullLoads || 0) + 1; }")
    nav = page.get_by_role("navigation", name="Navegación principal")
    for label in ("Recepción", "Ventas", "Clientes", "Panel", "Recepción"):
        nav.get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(re.compile(r"/ventas/"))
        page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__fullLoads") == 1  # all five were boosted swaps, not full loads
    assert page.locator("script[src*='/js/app.']").count() == 1

    # a failing action: one alert, with the server's own message
    page.evaluate("() => htmx.ajax('GET', '/ventas/no-existe/', {target: '#main', swap: 'none'})")
    alert = page.locator("#flashes [role=alert]")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("no existe")
    expect(alert).not_to_contain_text("Intente nuevamente")

    # one click on a print button prints once
    page.evaluate("""() => {
        window.__prints = 0; window.print = () => { window.__prints += 1; };
        document.getElementById('main').insertAdjacentHTML('beforeend',
            '<button type="button" data-print id="print-test">Imprimir</button>');
    }""")
    page.locator("#print-test").click()
    assert page.evaluate("() => window.__prints") == 1
    context.close()


def test_boosted_link_to_a_forbidden_page_shows_the_styled_403(live_server, browser):
    context = browser.new_context(locale="es-CL", **DESKTOP)
    page = context.new_page()
    _login(page, live_server, "recepcion")
    page.evaluate("""() => {
        document.getElementById('main').insertAdjacentHTML('beforeend',
            '<a href="/ventas/caja-diaria/" id="forbidden">Caja</a>');
        htmx.process(document.getElementById('forbidden'));  // boosted, like every link of the page
    }""")
    page.locator("#forbidden").click()
    expect(page.get_by_role("heading", name="Acceso denegado")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Su perfil (Recepción) no tiene permiso")
    context.close()


@pytest.mark.parametrize("username", ["gerente", "admin"])
def test_staff_navbar_fits_one_line_at_1280_and_collapses_on_a_tablet(live_server, browser, username):
    context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, live_server, username)
    nav = page.get_by_role("navigation", name="Navegación principal")
    assert nav.bounding_box()["height"] < 70  # one line
    for shop_link in ("Tinas Calientes", "Masajes", "Carrito"):
        expect(nav.get_by_role("link", name=shop_link)).to_have_count(0)
    nav.get_by_text("Reportes", exact=True).click()
    expect(nav.get_by_role("link", name="Servicios vendidos")).to_be_visible()
    _shot(page, f"navbar-1280-{username}")
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Servicios vendidos")).to_be_hidden()

    page.set_viewport_size({"width": 1180, "height": 820})  # tablet, landscape
    expect(nav.get_by_role("link", name="Ventas", exact=True)).to_be_hidden()
    nav.locator("label.navbar-toggler").click()
    expect(nav.get_by_role("link", name="Ventas", exact=True)).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, f"navbar-1180-open-{username}")
    context.close()


def test_phone_menu_opens_without_javascript(live_server, browser):
    context = browser.new_context(locale="es-CL", java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(live_server + "/")
    nav = page.get_by_role("navigation", name="Navegación principal")
    expect(nav.get_by_role("link", name="Acceso personal")).to_be_hidden()
    nav.locator("label.navbar-toggler").click()
    expect(nav.get_by_role("link", name="Acceso personal")).to_be_visible()
    _shot(page, "public-menu-nojs-390")
    nav.get_by_role("link", name="Acceso personal").click()
    page.get_by_label("Usuario").fill("gerente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    nav = page.get_by_role("navigation", name="Navegación principal")
    nav.locator("label.navbar-toggler").click()
    nav.get_by_text("Reportes", exact=True).click()
    expect(nav.get_by_role("link", name="Servicios vendidos")).to_be_visible()
    _shot(page, "staff-menu-nojs-390")
    context.close()


PUBLIC_PAGES = ["/", "/ventas/cart/", "/accounts/login/", "/ventas/terminos/", "/no-existe/"]


def _staff_pages(page) -> list[str]:
    """The role's bar: direct links and every dropdown entry (the main pages of that role)."""
    hrefs = page.eval_on_selector_all("#nav-main a[href^='/']", "els => els.map(e => e.getAttribute('href'))")
    return [
        h for h in dict.fromkeys(hrefs) if not h.startswith(("/accounts/logout", "/admin/")) and "export" not in h
    ]  # downloads: no page


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("username", [None, "recepcion", "marketing", "gerente", "admin"])
def test_main_pages_of_each_role_are_axe_clean(live_server, browser, username, size):
    context = browser.new_context(locale="es-CL", **(DESKTOP if size == "desktop" else PHONE))
    page = context.new_page()
    if username:
        _login(page, live_server, username)
        pages = _staff_pages(page) + ["/admin/"]
    else:
        pages = PUBLIC_PAGES
    for path in pages:
        page.goto(live_server + path)
        assert_axe_clean(page, f"{username or 'anónimo'} {size} {path}")
    if username in (None, "gerente"):
        page.goto(live_server + ("/" if username is None else "/ventas/admin-dashboard/"))
        _shot(page, f"{username or 'public'}-{size}")
    context.close()
