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
