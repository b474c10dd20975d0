"""A manager finds a booking in servicios vendidos and downloads it as Excel (spec reports.md §3)."""

import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from app.core import clock
from tests.conftest import PASSWORD
from tests.e2e.test_booking_journey import book_tub, fill_checkout

pytestmark = pytest.mark.e2e


def test_manager_downloads_services_sold_as_excel(live_server, phone_page, tmp_path):
    page = phone_page
    book_tub(page, live_server, "14:00")
    fill_checkout(page, "Transferencia bancaria")
    expect(page.locator("#order-status")).to_have_text("Pendiente de pago")
    day = clock.today() + timedelta(days=2)
    while day.weekday() == 1:
        day += timedelta(days=1)

    page.goto(live_server + "/accounts/login/")
    page.get_by_label("Usuario").fill("gerente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).not_to_have_url(re.compile("/accounts/login/"))  # the manager's home (caja diaria)
    page.goto(live_server + "/ventas/admin-dashboard/")
    page.locator("#hub").get_by_role("link", name="Servicios vendidos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Servicios vendidos")

    page.fill("#fecha_inicio", day.isoformat())
    page.fill("#fecha_fin", (day + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("#services-sold-count")).to_contain_text("servicio")
    expect(page.locator("#services-sold tbody")).to_contain_text("Tina Calipso")
    expect(page.locator("#sum-amount")).to_contain_text("$")
    expect(page).to_have_url(
        re.compile(
            rf"/ventas/servicios-vendidos/\?fecha_inicio={day.isoformat()}"
            rf"&fecha_fin={(day + timedelta(days=7)).isoformat()}"
        )
    )  # bookmarkable

    with page.expect_download() as info:
        page.get_by_role("link", name="Exportar Excel").click()
    download = info.value
    assert download.suggested_filename.startswith("Servicios_Vendidos_")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    wb = load_workbook(target)
    ws = wb["Servicios Vendidos"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert any(r[3] == "Tina Calipso" and r[6] == 2 and r[7] == 50000 for r in rows)
    assert wb.sheetnames == ["Servicios Vendidos", "Resumen"]
