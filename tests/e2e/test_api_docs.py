"""The interactive API docs render from the vendored Swagger UI under the strict CSP (no CDN, no inline script)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_api_docs_page_renders_the_generated_document(live_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-CL")
    page = context.new_page()
    errors, outside = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda resp: errors.append(resp.url) if resp.status >= 400 and not resp.url.endswith("/favicon.ico") else None,
    )
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(live_server) else None)
    page.goto(live_server + "/ventas/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Aremko Booking & CRM API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.locator("#swagger-ui")).to_contain_text("/ventas/api/ventasreservas/")
    context.close()
    assert outside == [] and errors == []
