"""The AI module in a browser (issue 19): a manager asks a question, downloads the CSV and sees the chart; marketing
drafts a campaign with the copilot and the audience preview shows exclusions per reason. Served with
AI_FEATURES_ENABLED and the FakeLLM, as the demo."""

from __future__ import annotations

import csv
import re
import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, fresh_database, make_test_config, migrate_to_head
from tests.e2e.conftest import PHONE, seed_e2e_data

pytestmark = pytest.mark.e2e


def _seed_inactive_clients() -> None:
    """Three clients whose last visit was 120 days ago: one reachable, one without promotional consent, one
    without e-mail."""
    from app.catalog.models import Service
    from app.clients.services import create_client
    from app.core import clock
    from app.sales.models import Order, ServiceLine

    tina = db.session.query(Service).filter_by(name="Tina Calipso").one()
    for n, (name, email, consent) in enumerate(
        (
            ("Rosa Reactivar", "rosa@example.com", True),
            ("Raúl Sin Promo", "raul@example.com", False),
            ("Rita Sin Correo", None, True),
        )
    ):
        client = create_client(
            data={"name": name, "phone": f"+5697100000{n}", "email": email}, origin="seed", marketing_consent=consent
        )
        order = Order(client_id=client.id, origin="recepcion", total=25000, paid=25000, payment_status="pagado")
        db.session.add(order)
        db.session.flush()
        db.session.add(
            ServiceLine(
                order_id=order.id,
                service_id=tina.id,
                start_time="14:00",
                people=1,
                service_date=clock.today() - timedelta(days=120),
                unit_price=25000,
                pricing_rule="por_persona",
                subtotal=25000,
                status="checkout",
            )
        )
    db.session.commit()


@pytest.fixture(scope="module")
def ai_server(tmp_path_factory, database_templates):
    tmp = tmp_path_factory.mktemp("e2e-ai")
    database = fresh_database(tmp, template=database_templates.get(migrate_to_head))
    url = database.__enter__()
    application = create_app(
        make_test_config(
            SQLALCHEMY_DATABASE_URI=url,
            SQLALCHEMY_ENGINE_OPTIONS={},
            MEDIA_ROOT=str(tmp / "media"),
            AI_FEATURES_ENABLED=True,
            AI_LLM_BACKEND="fake",
        )
    )
    with application.app_context():
        seed_e2e_data()
        _seed_inactive_clients()
        db.session.remove()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    database.__exit__(None, None, None)


def _login(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).not_to_have_url(re.compile("/accounts/login/"))


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_manager_asks_downloads_csv_and_sees_the_chart(ai_server, browser, tmp_path, size):
    opts = PHONE if size == "phone" else {"viewport": {"width": 1366, "height": 900}}
    context = browser.new_context(**opts, locale="es-CL", accept_downloads=True)
    page = context.new_page()
    try:
        _login(page, ai_server, "gerente")
        page.goto(ai_server + "/ventas/admin-dashboard/")
        page.locator("#hub").get_by_role("link", name="Asistente IA").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Asistente de datos (IA)")
        page.get_by_label("Pregunta").fill("ventas por mes")
        page.get_by_role("button", name="Preguntar").click()
        expect(page.locator("#ai-template")).to_have_text("ventas_por_mes")
        expect(page.locator("#ai-table tbody tr")).to_have_count(1)
        canvas = page.locator("#ai-chart")
        expect(canvas).to_be_visible()
        page.wait_for_function("() => window.Chart && window.Chart.getChart(document.getElementById('ai-chart'))")
        page.screenshot(path=f"/tmp/ai-chat-{size}.png", full_page=True)
        with page.expect_download() as info:
            page.get_by_role("link", name="Descargar CSV").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
        assert rows[0] == ["mes", "ordenes", "total", "pagado"]
        assert len(rows) == 2 and int(rows[1][1]) >= 1
    finally:
        context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_marketing_drafts_a_campaign_and_sees_exclusions_per_reason(ai_server, browser, size):
    opts = PHONE if size == "phone" else {"viewport": {"width": 1366, "height": 900}}
    context = browser.new_context(**opts, locale="es-CL")
    page = context.new_page()
    try:
        _login(page, ai_server, "marketing")
        page.goto(ai_server + "/ventas/ia/campanas/")
        page.get_by_label("Objetivo de la campaña").fill("reactivar clientes con más de 90 días sin visita")
        page.get_by_role("button", name="Proponer").click()
        expect(page.locator("#ai-segment")).to_contain_text("clientes_inactivos")
        expect(page.locator("#ai-audience-size")).to_contain_text("3")
        email = page.locator("#ai-exclusions-email")
        expect(email.locator("tr", has_text="Sin correo electrónico")).to_contain_text("1")
        expect(email.locator("tr", has_text="Sin consentimiento para promociones")).to_contain_text("1")
        sms = page.locator("#ai-exclusions-sms")
        expect(sms.locator("tr", has_text="Sin consentimiento para promociones")).to_contain_text("1")
        page.screenshot(path=f"/tmp/ai-copilot-{size}.png", full_page=True)
        if size == "desktop":
            page.get_by_label("Nombre de la campaña").fill("Reactivación IA e2e")
            page.get_by_role("button", name="Crear campaña borrador").click()
            expect(page).to_have_url(re.compile(r"/ventas/campanas/\d+/$"))
            expect(page.get_by_role("heading", level=1)).to_contain_text("Reactivación IA e2e")
    finally:
        context.close()
