"""A manager opens the segmentation board, opens VIP, selects clients and adds them to a campaign."""

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_manager_adds_vip_clients_to_a_campaign(live_server, browser, tmp_path):
    context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server + "/accounts/login/?next=/ventas/reportes/segmentacion-clientes/")
        page.get_by_label("Usuario").fill("gerente")
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Segmentación de clientes")
        card = page.locator("#card-vip_high_spend")
        expect(card.locator(".segment-count")).to_have_text("3")
        expect(page.locator("#segment-matrix")).to_be_visible()

        card.get_by_role("link", name="Ver clientes").click()  # HTMX swap into #segment-list
        listing = page.locator("#segment-list")
        expect(listing).to_contain_text("VIP (>5 Visitas, Alto Gasto)")
        expect(listing).to_contain_text("Valentina VIP")
        expect(page).to_have_url(re.compile(r"/segmentacion-clientes/vip_high_spend/$"))
        expect(listing.get_by_text("Seleccionar todo el segmento (3)")).to_be_visible()

        listing.get_by_label("Seleccionar Valentina VIP").check()
        listing.get_by_label("Seleccionar Vicente VIP").check()
        listing.get_by_label("Campaña").select_option(label="Campaña VIP Invierno")
        listing.get_by_role("button", name="Agregar a campaña").click()
        expect(page.locator("#flashes")).to_contain_text(
            "2 clientes agregados a la campaña «Campaña VIP Invierno» (0 ya estaban)."
        )
        expect(page.locator("#campaign-targets")).to_contain_text("Valentina VIP")
        expect(page.locator("#campaign-targets")).not_to_contain_text("Violeta VIP")

        # the whole segment: the two already added are skipped
        page.goto(live_server + "/ventas/reportes/segmentacion-clientes/vip_high_spend/")
        page.get_by_role("button", name="Seleccionar página").click()
        expect(page.get_by_label("Seleccionar Violeta VIP")).to_be_checked()
        page.get_by_label("Seleccionar todo el segmento (3)").check()
        page.get_by_role("button", name="Agregar a campaña").click()
        expect(page.locator("#flashes")).to_contain_text(
            "1 clientes agregados a la campaña «Campaña VIP Invierno» (2 ya estaban)."
        )
        expect(page.locator("#audience-size")).to_have_text("3")

        # writes the e-mail, sees it rendered for a sample client, and sends once despite a double click
        page.get_by_role("link", name="Editar").click()
        page.get_by_label("Asunto del correo electrónico").fill("Invierno para {nombre_cliente}")
        page.get_by_label("Cuerpo del correo electrónico").fill("Hola {nombre_cliente}, te esperamos: {link}")
        page.get_by_role("button", name="Guardar").click()
        expect(page.locator("#email-preview-subject")).to_have_text("Invierno para Camila")
        page.locator("#send-form").get_by_role("button", name="Continuar").click()
        expect(page.locator("#send-count")).to_contain_text("Se encolarán")
        page.get_by_role("button", name="Confirmar envío").dblclick()
        expect(page.locator("#flashes")).to_contain_text("mensajes encolados")
        expect(page.locator("body")).not_to_contain_text("ya fue enviado")

        # …and downloads servicios vendidos as Excel (the figures are checked in test_reports_journey)
        page.goto(live_server + "/ventas/servicios-vendidos/")
        with page.expect_download() as info:
            page.get_by_role("link", name="Exportar Excel").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        assert target.name.startswith("Servicios_Vendidos_")
        assert load_workbook(target).sheetnames == ["Servicios Vendidos", "Resumen"]
    finally:
        context.close()
