"""Every API endpoint × anonymous / bad token / each role: 401, 403 or through (spec README §6, api.md §4)."""

from __future__ import annotations

import pytest

from app.api.resource_views import RESOURCES
from tests.conftest import ROLES

DESK = {"recepcion", "gerente", "admin"}
CLIENT_READ = {"recepcion", "marketing", "gerente", "admin"}


def endpoints() -> list[tuple[str, str, set | None]]:
    """(method, path, roles allowed; None = public)."""
    from app.api import views  # noqa: F401

    out = []
    for res in RESOURCES:
        read = None if res.read_roles is None else set(res.read_roles)
        write = set(res.write_roles)
        delete = set(res.delete_roles or res.write_roles)
        base = f"/ventas/api/{res.name}/"
        out += [
            ("get", base, read),
            ("post", base, write),
            ("get", f"{base}999999/", read),
            ("put", f"{base}999999/", write),
            ("patch", f"{base}999999/", write),
            ("delete", f"{base}999999/", delete),
            ("get", f"{base}?cursor=&page_size=1000", read),
        ]
        if res.changed_since is not None:  # bulk exports (docs/API.md «Lecturas masivas»): the list's roles
            out.append(("get", f"{base}export.ndjson?updated_since=2026-01-01T00:00:00-03:00", read))
    out += [
        ("get", "/ventas/api/get-client-details/?telefono=1", None),
        ("get", "/ventas/api/get-client-by-phone/?telefono=1", CLIENT_READ),
        ("get", "/ventas/api/cliente/", CLIENT_READ),
        ("get", "/ventas/api/cliente/+56900000000/", CLIENT_READ),
        ("post", "/ventas/api/cliente/create/", DESK),
        ("put", "/ventas/api/cliente/update/+56900000000/", DESK),
        ("patch", "/ventas/api/cliente/update/+56900000000/", DESK),
        ("post", "/ventas/ventas/prebooking/", DESK),
        ("post", "/ventas/api/ventasreservas/999999/cancelar/", DESK),  # self-service.md §6
        ("post", "/ventas/api/reservaservicios/999999/reprogramar/", DESK),
        ("get", "/ventas/api/lista-espera/", DESK),
        ("get", "/ventas/api/openapi.json", None),
        ("get", "/ventas/api/docs/", None),
    ]
    return out


def test_matrix_covers_every_api_route(app):
    documented = {
        path.split("?")[0].replace("999999", "<int:obj_id>").replace("+56900000000", "<telefono>")
        for _, path, _ in endpoints()
    }
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert routes <= documented, routes - documented


@pytest.mark.parametrize("caller", ["anonymous", "bad-token", *ROLES])
def test_api_access_matrix(client, token_for, caller):
    headers = (
        {}
        if caller == "anonymous"
        else {"Authorization": "Bearer ark_invalido"}
        if caller == "bad-token"
        else token_for(caller)
    )
    failures = []
    for method, path, allowed in endpoints():
        resp = getattr(client, method)(path, json={}, headers=headers)
        if caller == "bad-token":
            expected = {401}
        elif allowed is None:
            expected = None  # public: anything but an auth error
        elif caller == "anonymous":
            expected = {401}
        elif caller in allowed:
            expected = None
        else:
            expected = {403}
        ok = resp.status_code in expected if expected else resp.status_code not in (401, 403)
        ok = ok and resp.status_code < 500
        if not ok:
            failures.append((method, path, resp.status_code))
        if resp.status_code in (401, 403):
            assert resp.is_json and resp.json["code"] in ("not_authenticated", "permission_denied"), path
    assert failures == []
