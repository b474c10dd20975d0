"""What the probes of the chart and compose see (spec api.md §9, deployment.md §5): with TRUSTED_HOSTS set, the
chart adds `localhost`, the Host its probes send; any other unknown Host gets a plain 400, never a 500."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import make_test_config


@pytest.fixture
def guarded_app():
    return create_app(make_test_config(TRUSTED_HOSTS=["reservas.example.cl", "localhost"]))


def test_probes_with_the_localhost_header_pass_trusted_hosts(guarded_app):
    client = guarded_app.test_client()
    assert client.get("/healthz", headers={"Host": "localhost"}).json == {"status": "ok"}
    assert client.get("/readyz", headers={"Host": "localhost"}).json == {"status": "ok", "database": "ok"}
    assert client.get("/healthz", headers={"Host": "reservas.example.cl"}).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/", "/ventas/api/openapi.json"])
def test_an_untrusted_host_is_a_plain_400_not_a_500(guarded_app, path):
    response = guarded_app.test_client().get(path, headers={"Host": "10.1.2.3:8000"})
    assert response.status_code == 400
    assert response.mimetype in ("text/plain", "application/json")
    assert "Solicitud inválida" in response.get_data(as_text=True)
