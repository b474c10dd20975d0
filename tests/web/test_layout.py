"""The shared layout (UX review D4, D5, D9, D12, D15, D21, D24): scripts, navbars, error pages, icons, caching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.test_public import catalog  # noqa: F401  (fixture)

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def _static_get(client, url):
    """A static file's status and headers (the response is closed: it streams the file)."""
    with client.get(url) as resp:
        return resp.status_code, resp.headers


def _head(html: str) -> str:
    return html[: html.index("</head>")]


def test_scripts_load_once_from_head_deferred(client, catalog):  # noqa: F811
    html = client.get("/").text
    head, body = _head(html), html[html.index("<body") :]
    for name in ("htmx-2.0.8.min.js", "js/app.js"):
        stem, ext = name.rsplit(".", 1)
        pattern = rf'<script src="/static/[^"]*{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext}" defer></script>'
        assert re.search(pattern, head), name
        assert stem not in body  # a boosted swap of the body never runs them again


def test_static_urls_are_fingerprinted_and_cached_for_a_year(client, catalog):  # noqa: F811
    html = client.get("/").text
    css = re.search(r'href="(/static/css/app\.([0-9a-f]{12})\.css)"', html)
    assert css
    status, headers = _static_get(client, css.group(1))
    assert status == 200
    assert headers["Cache-Control"] == "max-age=31536000, public, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # without (or with a stale) fingerprint: a short lifetime, never immutable
    assert _static_get(client, "/static/css/app.css")[1]["Cache-Control"] == "max-age=3600, public"
    assert _static_get(client, "/static/css/app.000000000000.css")[0] == 404  # a stale fingerprint: no such file
    # HTML is never cached publicly
    page = client.get("/")
    assert "public" not in page.headers["Cache-Control"] and "no-cache" in page.headers["Cache-Control"]


def test_favicon_icons_and_theme_color(client, catalog):  # noqa: F811
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/vnd.microsoft.icon"
    assert resp.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    head = _head(client.get("/").text)
    assert '<meta name="theme-color" content="#1f4d3a">' in head
    for rel, path in (("icon", "icons/icon.svg"), ("apple-touch-icon", "icons/apple-touch-icon.png")):
        stem, ext = path.rsplit(".", 1)
        match = re.search(rf'<link rel="{rel}" href="(/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext})"', head)
        assert match, rel
        assert _static_get(client, match.group(1))[0] == 200


def test_public_navbar_has_shop_links_and_a_menu_without_javascript(client, catalog):  # noqa: F811
    html = client.get("/").text
    nav = html[html.index("<nav") : html.index("</nav>")]
    assert "Tinas Calientes" in nav and "Carrito" in nav and "Acceso personal" in nav
    # the phone menu: a checkbox + label (CSS opens the collapsed bar), no Bootstrap JS toggle needed
    assert 'id="nav-toggle"' in nav and 'for="nav-toggle"' in nav and "data-bs-toggle" not in nav
    css = STATIC.joinpath("css/app.css").read_text(encoding="utf-8")
    assert ".nav-toggle:checked ~ .navbar-collapse { display: block; }" in css


@pytest.mark.parametrize("role", ["recepcion", "marketing", "gerente", "admin"])
def test_staff_pages_have_the_staff_navbar_without_shop_links(login, catalog, role):  # noqa: F811
    c = login(role)
    html = c.get("/ventas/admin-dashboard/").text
    nav = html[html.index("<nav") : html.index("</nav>")]
    for shop_link in ("Tinas Calientes", "Cabañas", "Carrito"):
        assert shop_link not in nav, (role, shop_link)
    assert "Back office" not in nav and "Administración" in nav
    assert "navbar-expand-xl" in nav  # collapsed below 1200 px: a tablet gets the menu, not a wrapped bar
    assert "<details>" in nav and "<summary" in nav  # dropdowns open without JavaScript
    assert "Salir" in nav and "Panel" in nav
    # every link of the bar opens for that role
    for href in set(re.findall(r'href="(/[^"]*)"', nav)):
        if href.startswith("/accounts/logout"):
            continue
        assert c.get(href).status_code in (200, 302, 303), (role, href)


def test_staff_on_the_public_site_keeps_the_shop_navbar(login, catalog):  # noqa: F811
    c = login("recepcion")
    nav = c.get("/").text.split("<nav", 1)[1].split("</nav>", 1)[0]
    assert "Tinas Calientes" in nav and "Carrito" in nav and "Panel" in nav


def test_navbar_link_contrast_is_at_least_4_5(client):
    def luminance(rgb):
        def channel(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    css = STATIC.joinpath("css/app.css").read_text(encoding="utf-8")
    alpha = float(re.search(r"--bs-navbar-color: rgba\(255, 255, 255, ([0-9.]+)\)", css).group(1))
    bg = (0x1F, 0x4D, 0x3A)
    fg = tuple(round(alpha * 255 + (1 - alpha) * c) for c in bg)
    ratio = (luminance(fg) + 0.05) / (luminance(bg) + 0.05)
    assert ratio >= 4.5, ratio


def test_403_says_the_role_may_not_do_it_full_page_and_fragment(login):
    c = login("marketing")
    page = c.get("/ventas/recepcion/")
    assert page.status_code == 403
    assert "Acceso denegado" in page.text and "Su perfil (Marketing) no tiene permiso" in page.text
    assert "Intente nuevamente" not in page.text
    frag = c.get("/ventas/recepcion/", headers={"HX-Request": "true"})
    assert frag.status_code == 403
    assert "<html" not in frag.text and 'role="alert"' in frag.text
    assert "Su perfil (Marketing) no tiene permiso" in frag.text
    # a boosted navigation gets the styled page (app.js swaps it in)
    boosted = c.get("/ventas/recepcion/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text and 'data-error-page="403"' in boosted.text


def test_404_says_it_does_not_exist(client):
    resp = client.get("/no-existe/")
    assert resp.status_code == 404
    assert "Página no encontrada" in resp.text and "no existe" in resp.text
    frag = client.get("/no-existe/", headers={"HX-Request": "true"})
    assert "<html" not in frag.text and "no existe" in frag.text and 'data-error-page="404"' in frag.text


def test_can_hides_links_a_role_may_not_open(app, login):
    from flask import render_template_string

    c = login("marketing")
    with app.test_request_context():
        from flask_login import login_user

        login_user(c.user)
        out = render_template_string(
            "{{ can('reports.order_detail') }} {{ can('clients.client_list') }} "
            "{{ can('shop.home') }} {{ can('nope') }}"
        )
    assert out == "False True True False"


def test_app_js_registers_its_handlers_once_and_shows_server_messages():
    js = STATIC.joinpath("js/app.js").read_text(encoding="utf-8")
    assert "if (window.aremkoApp) return;" in js
    assert js.count('closest("[data-print]")') == 1
    assert "Intente nuevamente" not in js  # the server's own message instead of a generic retry
    assert "[data-error-message]" in js


def test_back_office_in_spanish_local_time_and_app_phones(login, make_client, db_session):
    from datetime import UTC, datetime

    client = make_client(name="Ana Back", phone="+56955501234")
    client.created_at = datetime(2026, 12, 7, 0, 40, 0, 270419, tzinfo=UTC)  # 21:40 of the 6th in Santiago
    db_session.flush()
    c = login("gerente")
    html = c.get("/admin/client/").text
    assert '<html lang="es-CL">' in html
    assert '<main id="main"' in html and "<h1" in html
    assert "bg-aremko" in html and re.search(r"css/admin\.[0-9a-f]{12}\.css", html)
    assert "06/12/2026 21:40" in html and "2026-12-07 00:40" not in html
    assert "+56 9 5550 1234" in html and "+56955501234" not in html
    assert "Back office" not in html
    details = c.get(f"/admin/client/details/?id={client.id}").text
    assert "06/12/2026 21:40" in details and "+56 9 5550 1234" in details


def test_back_office_malformed_ids_are_missing_records_not_errors(login):
    c = login("admin")
    assert c.post("/admin/client/delete/", data={"id": "zz<>"}).status_code in (302, 303)
    assert c.get("/admin/client/edit/?id=zz").status_code in (302, 303)


def test_dialog_pages_have_an_h1_and_dialog_fragments_an_h2(login, make_client, db_session):
    from app.sales.models import Order

    order = Order(client_id=make_client().id, origin="recepcion", total=0, paid=0)
    db_session.add(order)
    db_session.flush()
    c = login("recepcion")
    page = c.get(f"/ventas/venta_reservas/{order.id}/cancelar/")
    assert page.status_code == 200
    assert re.search(r'<h1 class="h5">[^<]+</h1>', page.text)
    fragment = c.get(f"/ventas/venta_reservas/{order.id}/cancelar/", headers={"HX-Request": "true"})
    assert "<h1" not in fragment.text and re.search(r'<h2 class="h5">[^<]+</h2>', fragment.text)


def test_a_cancel_reason_too_long_for_its_column_is_a_field_error_not_a_500(login, make_client, db_session):
    from app.sales.models import Order

    order = Order(client_id=make_client().id, origin="recepcion", total=0, paid=0)
    db_session.add(order)
    db_session.flush()
    c = login("gerente")
    resp = c.post(f"/ventas/venta_reservas/{order.id}/cancelar/", data={"motivo": "x" * 300})
    assert resp.status_code == 422
    assert "El motivo admite hasta 255 caracteres." in resp.text
    db_session.refresh(order)
    assert order.cancelled_at is None
