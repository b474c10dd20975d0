"""Every route is either public (spec README §6, first rows) or gated by role; each staff route × anonymous and
each role gives 302-to-login / 401 (HTMX) / 200 / 403 as the permission matrix says."""

from __future__ import annotations

import pytest

from tests.conftest import ROLES

# Staff routes whose GET answers with a redirect by design (the spec says so), for allowed roles.
GET_REDIRECTS = {"/ventas/admin/campaign/select-for-clients/"}  # crm.md §6.4: GET → the segmentation board


def admin_endpoints(app) -> dict[str, object]:
    """Flask-Admin endpoint -> its view object (gated by the view's own is_accessible)."""
    out = {}
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            for rule in app.url_map.iter_rules():
                if rule.endpoint.split(".")[0] == view.endpoint:
                    out[rule.endpoint] = view
    return out


def staff_routes(app) -> list[tuple[str, str, frozenset]]:
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "_roles", None)
        if roles is not None and "GET" in rule.methods and not rule.arguments:
            routes.append((rule.endpoint, rule.rule, roles))
    return sorted(routes)


def test_every_route_is_public_or_role_gated(app):
    admin_views = admin_endpoints(app)
    ungated = []
    for rule in app.url_map.iter_rules():
        ep = rule.endpoint
        view = app.view_functions[ep]
        if (
            ep == "static"
            or ep in admin_views
            or getattr(view, "_public", False)
            or getattr(view, "_automation_key", False)
            or getattr(view, "_network_guard", False)  # /metrics: tests/web/test_metrics.py
        ):  # X-API-KEY endpoints: tests/crm/test_api.py
            continue
        if getattr(view, "_roles", None) is None:
            ungated.append(f"{ep} {rule.rule}")
    assert ungated == [], "routes without a role check: " + ", ".join(ungated)
    for ep, view in admin_views.items():
        assert hasattr(view, "read_roles") or ep.startswith("admin."), f"admin view {ep} not role-gated"


def test_staff_route_list_is_not_empty(app):
    assert [ep for ep, _, _ in staff_routes(app)], "no staff routes found"


@pytest.mark.parametrize("role", (None, *ROLES))
def test_staff_routes_by_role(app, client, login, role):
    routes = staff_routes(app)
    c = login(role) if role else client
    for _endpoint, path, allowed in routes:
        resp = c.get(path)
        if path.startswith("/ventas/api/"):  # JSON API: 401/403 bodies instead of redirects and pages
            expected = 401 if role is None else 200 if role in allowed else 403
            if expected == 200 and resp.status_code == 400:  # lookups answer 400 without their parameter
                assert "telefono" in resp.json["error"], path
                continue
            assert resp.status_code == expected, (path, role, resp.status_code)
            if expected != 200:
                assert resp.json["code"] in ("not_authenticated", "permission_denied"), path
            continue
        if role is None:
            assert resp.status_code == 302, (path, resp.status_code)
            assert resp.headers["Location"].startswith("/accounts/login/?next="), path
            hx = c.get(path, headers={"HX-Request": "true"})
            assert hx.status_code == 401 and hx.headers["HX-Redirect"].startswith("/accounts/login/"), path
        elif role in allowed:
            assert resp.status_code == (303 if path in GET_REDIRECTS else 200), (path, role, resp.status_code)
        else:
            assert resp.status_code == 403, (path, role, resp.status_code)
            assert "Acceso denegado" in resp.text


def test_public_get_routes_without_arguments_open_to_anonymous(app, client):
    checked = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith("/ventas/fake-flow/"):
            continue  # stands in for Flow itself (signed API, tested in tests/sales)
        if getattr(view, "_public", False) and "GET" in rule.methods and not rule.arguments:
            resp = client.get(rule.rule)
            # 200, or a redirect/400/405 that explains what is missing; never a login wall
            assert resp.status_code in (200, 303, 400, 405), (rule.rule, resp.status_code)
            assert "/accounts/login/" not in resp.headers.get("Location", ""), rule.rule
            checked.append(rule.rule)
    assert "/" in checked and "/healthz" in checked and "/ventas/cart/" in checked


@pytest.mark.parametrize("role", (None, *ROLES))
def test_manage_booking_routes_open_with_the_link_to_anyone(app, client, login, booking_setup, role):
    """self-service.md §2: the signed order link is the only key (no login, every role alike); the policy page is
    gerente/admin (covered by test_staff_routes_by_role) and the API pair by tests/api/test_api_matrix.py."""
    from datetime import date

    from app.core.signing import order_token
    from app.sales import checkout_services
    from app.sales import services as sales_services

    line = sales_services.LineRequest(
        service_id=booking_setup["calipso"].id, day=date(2026, 3, 9), hhmm="14:00", people=1
    )
    data = checkout_services.CheckoutData(telefono="+56987654321", nombre="Camila Rojas", email="c@example.com")
    order = checkout_services.place_order(lines=[line], data=data, origin="web")
    c = login(role) if role else client
    base = f"/ventas/reserva/{order_token(order.id)}/"
    for path in ("", "cancelar/", f"lineas/{order.service_lines[0].id}/cambiar/"):
        assert c.get(base + path).status_code == 200, (path, role)
    assert c.get("/ventas/reserva/nada/cancelar/").status_code == 404


# Self-service part E (issue 18 item 5): the staff screens' routes and the roles README §6 gives them. Routes with
# arguments and POST-only routes are not in the sweep above; each is asked here by every role.
DESK_ROLES = frozenset({"recepcion", "gerente", "admin"})
MANAGER_ROLES = frozenset({"gerente", "admin"})
STAFF_SCREENS = {
    "clients.client_new": DESK_ROLES,
    "clients.client_edit": DESK_ROLES,
    "clients.client_updates": DESK_ROLES,
    "clients.client_update_review": DESK_ROLES,
    "comms_clients.client_consents": frozenset(ROLES),  # marketing reads (R), the desk roles save
    "comms_clients.client_consents_save": DESK_ROLES,
    "comms_clients.client_consents_old": frozenset(ROLES),
    "frontdesk.block_list": DESK_ROLES,
    "frontdesk.block_service_new": DESK_ROLES,
    "frontdesk.block_slot_new": DESK_ROLES,
    "frontdesk.block_service_remove": DESK_ROLES,
    "frontdesk.block_slot_remove": DESK_ROLES,
    "frontdesk.purchase_new": MANAGER_ROLES,
    "frontdesk.purchase_edit": MANAGER_ROLES,
    "frontdesk.purchase_line_row": MANAGER_ROLES,
    "configuracion.settings_page": frozenset({"admin"}),
}


def test_staff_screens_roles_match_the_matrix(app):
    for endpoint, roles in STAFF_SCREENS.items():
        assert endpoint in app.view_functions, endpoint
        assert app.view_functions[endpoint]._roles == roles, endpoint


@pytest.mark.parametrize("role", (None, *ROLES))
def test_staff_screens_by_role(app, client, login, make_client, db_session, role):
    """Every new route × anonymous and each role: login redirect / 401 for HTMX, 403, or the screen (200, or the
    303/308 its action answers). Arguments point at rows that do not exist for the POSTs (404 once allowed)."""
    ana = make_client()
    c = login(role) if role else client
    cases = [
        ("GET", "/ventas/clientes/nuevo/", "clients.client_new", 200),
        ("GET", f"/ventas/clientes/{ana.id}/editar/", "clients.client_edit", 200),
        ("GET", "/ventas/clientes/actualizaciones/", "clients.client_updates", 200),
        ("POST", "/ventas/clientes/actualizaciones/999999/", "clients.client_update_review", 404),
        ("GET", f"/ventas/clientes/{ana.id}/preferencias/", "comms_clients.client_consents", 200),
        ("GET", f"/ventas/clientes/{ana.id}/consentimientos/", "comms_clients.client_consents_old", 308),
        ("GET", "/ventas/bloqueos/", "frontdesk.block_list", 200),
        ("POST", "/ventas/bloqueos/servicio/999999/quitar/", "frontdesk.block_service_remove", 404),
        ("POST", "/ventas/bloqueos/horario/999999/quitar/", "frontdesk.block_slot_remove", 404),
        ("GET", "/ventas/compras/nueva/", "frontdesk.purchase_new", 200),
        ("GET", "/ventas/compras/999999/editar/", "frontdesk.purchase_edit", 404),
        ("GET", "/ventas/compras/linea/", "frontdesk.purchase_line_row", 200),
        ("GET", "/ventas/configuracion/", "configuracion.settings_page", 200),
    ]
    for method, path, endpoint, ok in cases:
        resp = c.open(path, method=method)
        if role is None:
            assert resp.status_code == 302 and "/accounts/login/" in resp.headers["Location"], path
            hx = c.open(path, method=method, headers={"HX-Request": "true"})
            assert hx.status_code == 401 and hx.headers["HX-Redirect"].startswith("/accounts/login/"), path
        elif role in STAFF_SCREENS[endpoint]:
            assert resp.status_code == ok, (path, role, resp.status_code)
        else:
            assert resp.status_code == 403, (path, role, resp.status_code)
