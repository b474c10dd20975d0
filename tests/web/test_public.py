import pytest


@pytest.fixture
def catalog(make_category, make_service):
    tinas = make_category(name="Tinas Calientes", sort_order=1)
    cabanas = make_category(name="Cabañas", sort_order=3)
    calipso = make_service(name="Tina Calipso", category=tinas, web_description="Agua caliente\n<b>bosque</b>")
    arrayan = make_service(
        name="Cabaña Arrayán", category=cabanas, service_type="cabana", base_price=90000, max_people=2
    )
    hidden = make_service(name="Tina Mantención", category=tinas, is_published=False)
    return {"tinas": tinas, "cabanas": cabanas, "calipso": calipso, "arrayan": arrayan, "hidden": hidden}


@pytest.mark.parametrize("path", ["/", "/ventas/"])
def test_home_lists_published_services_grouped(client, catalog, path):
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.headers["Vary"] == "HX-Request" or "HX-Request" in resp.headers["Vary"]
    text = resp.text
    assert '<html lang="es-CL">' in text
    assert "Tina Calipso" in text and "Cabaña Arrayán" in text
    assert "Tina Mantención" not in text
    assert text.index("Tinas Calientes") < text.index("Cabañas")
    assert "$25.000 precio por persona" in text
    assert "$90.000 precio por cabaña, máx 2 personas" in text
    assert "&lt;b&gt;bosque&lt;/b&gt;" in text  # descriptions are plain text
    assert '"@type": "LocalBusiness"' in text


def test_home_category_chip_htmx_fragment(client, catalog):
    cab = catalog["cabanas"].id
    resp = client.get(f"/?categoria={cab}", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert resp.text.lstrip().startswith('<div id="service-grid"')
    assert "<html" not in resp.text
    assert "Cabaña Arrayán" in resp.text and "Tina Calipso" not in resp.text
    assert "HX-Request" in resp.headers["Vary"]
    # boosted navigation gets the full page
    full = client.get(f"/?categoria={cab}", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in full.text


def test_category_page_and_unknown_category(client, catalog):
    resp = client.get(f"/ventas/categoria/{catalog['tinas'].id}/")
    assert resp.status_code == 200
    assert "Tina Calipso" in resp.text and "Tina Mantención" not in resp.text
    missing = client.get("/ventas/categoria/999999/")
    assert missing.status_code == 404
    assert "Página no encontrada" in missing.text


def test_service_page_public_only_when_published(client, catalog):
    assert client.get(f"/ventas/servicio/{catalog['calipso'].id}/").status_code == 200
    assert client.get(f"/ventas/servicio/{catalog['hidden'].id}/").status_code == 404


def test_sitemap_and_robots(client, catalog):
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.mimetype == "application/xml"
    assert "<loc>http://127.0.0.1:5000/</loc>" in sitemap.text
    assert f"/ventas/categoria/{catalog['tinas'].id}/" in sitemap.text
    assert f"/ventas/servicio/{catalog['calipso'].id}/" in sitemap.text
    assert f"/ventas/servicio/{catalog['hidden'].id}/" not in sitemap.text
    robots = client.get("/robots.txt")
    assert robots.mimetype == "text/plain"
    for path in ("/admin/", "/accounts/", "/ventas/api/"):
        assert f"Disallow: {path}" in robots.text
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in robots.text


def test_security_headers_on_every_response(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Request-ID"]
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


def test_no_inline_scripts_in_layout(client):
    import re

    for script in re.findall(r"<script([^>]*)>(.*?)</script>", client.get("/").text, re.S):
        attrs, body = script
        assert "src=" in attrs or 'type="application/ld+json"' in attrs, attrs


def test_health_endpoints(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


def test_readyz_reports_database_down(app):
    from app import create_app
    from tests.conftest import make_test_config

    broken = create_app(make_test_config(SQLALCHEMY_DATABASE_URI="sqlite:////dev/null/x.db"))
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "error", "database": "error", "failing": ["database"]}


def test_error_pages_are_spanish(client):
    assert "Página no encontrada" in client.get("/no-existe/").text
    resp = client.post("/healthz")
    assert resp.status_code == 405


def test_unexpected_error_renders_spanish_500_without_trace(db_session):
    from app import create_app
    from tests.conftest import make_test_config

    other = create_app(make_test_config())

    @other.get("/__boom__")
    def boom():
        raise RuntimeError("secreto interno")

    resp = other.test_client().get("/__boom__")
    assert resp.status_code == 500
    assert "Algo salió mal" in resp.text
    assert "secreto interno" not in resp.text and "Traceback" not in resp.text
    assert resp.headers["X-Request-ID"] in resp.text


def test_static_vendor_files_served(client):
    for name in (
        "htmx-2.0.8.min.js",
        "bootstrap-5.3.8.min.css",
        "bootstrap-5.3.8.bundle.min.js",
        "chart-4.5.1.umd.min.js",
    ):
        resp = client.get(f"/static/vendor/{name}")
        assert resp.status_code == 200, name
        resp.close()
