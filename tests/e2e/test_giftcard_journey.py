"""Gift cards are money (review D3): a receptionist sells a card at the desk — a double click issues one card —,
the sale is in caja diaria ("Venta de gift cards") and in the cierre's expected cash; the public site links to the
purchase page and the balance check."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(browser, live_server):
    contexts = []

    def open_as(username):
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-CL")
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server + "/accounts/login/")
        page.get_by_label("Usuario").fill(username)
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        # logged in: the logout link is in the page (inside the user's closed <details> menu, so hidden)
        expect(page.get_by_role("link", name=re.compile("Salir"), include_hidden=True).first).to_be_attached()
        return page

    yield open_as
    for context in contexts:
        context.close()


def expected_cash(page, base) -> int:
    """The cierre is a blind count first: count $0 in cash, continue, and read the expected cash in the review."""
    page.goto(base + "/ventas/caja-diaria/cierre/")
    line = page.locator("#close-line-efectivo")
    expect(line).to_be_visible()
    inputs = page.locator("#close-form input[name^=contado_]")  # every method that moved today is asked
    for i in range(inputs.count()):
        inputs.nth(i).fill("0")
    page.get_by_role("button", name="Continuar").click()
    expected = page.locator("#close-line-efectivo td.text-end").first
    expect(expected).to_be_visible()
    return int(re.sub(r"\D", "", expected.inner_text() or "0") or 0)


def open_today(page, base) -> None:
    """An earlier journey may have closed today's cash: the manager reopens it (with a reason)."""
    page.goto(base + "/ventas/caja-diaria/cierre/")
    link = page.locator("#close-form").get_by_role("link", name="Ver el cierre")
    if link.count():
        link.first.click()
        page.get_by_label("Motivo").fill("Venta de gift card pendiente de registrar")
        page.get_by_role("button", name="Reabrir").click()
        expect(page.locator("body")).to_contain_text("reabiert", timeout=15_000)


def test_desk_gift_card_sale_is_in_caja_and_the_close(live_server, desk):
    manager = desk("gerente")
    open_today(manager, live_server)
    before = expected_cash(manager, live_server)

    page = desk("recepcion")
    page.goto(live_server + "/ventas/giftcards/")
    page.get_by_role("link", name="Vender gift card").click()
    expect(page.get_by_role("heading", name="Vender gift card")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("cortesía", re.I))).to_have_count(0)
    page.get_by_label(re.compile("^Monto")).fill("45.000")
    page.get_by_label("Método de pago").select_option(label="Efectivo")
    page.locator("#gcn-comprador").fill("9 6666 1234")
    page.locator("#gcn-cn").fill("Rocío Compradora")
    page.locator("#gcn-dn").fill("Tomás Regalado")
    page.get_by_role("button", name="Cobrar y emitir gift card").dblclick()
    expect(page.locator("#giftcard-status")).to_have_text("Saldo disponible $45.000", timeout=15_000)
    expect(page.locator("#giftcard-origin")).to_contain_text("Efectivo $45.000")
    expect(page.locator("body")).not_to_contain_text("Por cobrar")

    # one card for the double click
    page.goto(live_server + "/ventas/giftcards/?cliente=Rocío")
    expect(page.locator("#giftcard-list tbody tr")).to_have_count(1)

    # the receptionist's caja shows the sale on its own line, inside the money received
    page.goto(live_server + "/ventas/caja-diaria-recepcionistas/")
    sales = page.locator("#giftcard-sales")
    expect(sales).to_contain_text("Venta de gift cards")
    expect(sales).to_contain_text("Efectivo")
    expect(sales).to_contain_text("$45.000")
    expect(page.locator("#cash-by-method")).to_contain_text("Efectivo")

    # the close expects the money
    assert expected_cash(manager, live_server) == before + 45000


def test_public_site_links_to_buying_and_checking_gift_cards(live_server, phone_page):
    page = phone_page
    page.goto(live_server + "/")
    page.locator("#home-giftcards").get_by_role("link", name="Regalar una gift card").click()
    expect(page.get_by_role("heading", name="Regala una Gift Card de Aremko")).to_be_visible()
    expect(page.get_by_role("link", name="Consulta su saldo")).to_be_visible()
    footer = page.locator("footer")
    expect(footer.get_by_role("link", name="Consultar saldo de gift card")).to_be_visible()
