"""The OpenAPI document is generated from the declarations; docs page vendored; property-based run (schemathesis)."""

from __future__ import annotations

import pytest

from app.api.resource_views import RESOURCES
from tests.api.test_representation import ORDER_KEYS

MAX_EXAMPLES = 6  # schema-valid requests per operation
NEGATIVE_EXAMPLES = 2  # schema-invalid requests per operation (wrong types, missing fields, out-of-range values)


def test_document_covers_the_api(client):
    resp = client.get("/ventas/api/openapi.json")
    assert resp.status_code == 200
    doc = resp.json
    assert doc["openapi"].startswith("3.")
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth", "cookieAuth"}
    paths = doc["paths"]
    for res in RESOURCES:
        assert {"get", "post"} <= set(paths[f"/ventas/api/{res.name}/"])
        assert {"get", "put", "patch", "delete"} <= set(paths[f"/ventas/api/{res.name}/{{obj_id}}/"])
    for path in (
        "/ventas/api/get-client-details/",
        "/ventas/api/get-client-by-phone/",
        "/ventas/api/cliente/",
        "/ventas/api/cliente/{telefono}/",
        "/ventas/api/cliente/create/",
        "/ventas/api/cliente/update/{telefono}/",
        "/ventas/ventas/prebooking/",
        "/ventas/get-available-hours/",
        "/ventas/check-availability/",
        "/ventas/api/flow/create/",
        "/healthz",
        "/readyz",
        "/ventas/api/campaigns/{campaign_id}/details/",
        "/ventas/api/campaigns/{campaign_id}/targets/",
        "/ventas/api/activities/log/",
        "/ventas/api/interactions/log/",
        "/ventas/api/sms/inbound/",
    ):
        assert path in paths, path
    assert paths["/ventas/api/activities/log/"]["post"]["security"] == [{"apiKeyAuth": []}]
    order = doc["components"]["schemas"]["Ventasreservas"]
    assert list(order["properties"]) == ORDER_KEYS  # the documented shape is the serializer's shape
    pagos = paths["/ventas/api/pagos/"]["post"]
    assert pagos["parameters"][0]["name"] == "Idempotency-Key"
    assert paths["/ventas/api/servicios/"]["get"]["security"][0] == {}


def test_docs_page_is_vendored(client):
    page = client.get("/ventas/api/docs/")
    assert page.status_code == 200 and "swagger-ui-bundle-5.35.0." in page.text
    assert "https://" not in page.text and "http://" not in page.text.replace('xmlns="http://', "")
    for asset in ("vendor/swagger-ui-bundle-5.35.0.js", "vendor/swagger-ui-5.35.0.css", "js/api-docs.js"):
        with client.get(f"/static/{asset}") as resp:
            assert resp.status_code == 200, asset


@pytest.fixture
def seeded_api(app, booking_setup, make_client, make_user, make_product, db_session):
    """A seeded database and an admin token for the property-based run."""
    from app.auth.services import create_api_token
    from app.sales import checkout_services
    from app.sales import services as sales_services
    from tests.api.conftest import MONDAY

    owner = make_client(phone="+56987654321")
    make_product()
    checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="14:00", people=2)],
        data=checkout_services.CheckoutData(telefono=owner.phone, nombre=owner.name),
        origin="recepcion",
        staff=True,
    )
    _, raw = create_api_token(make_user("admin"))
    db_session.commit()
    return raw


def test_property_based_run_over_the_document(app, seeded_api, monkeypatch):
    """schemathesis over every operation of the document, as admin (and with the automation key): schema-valid
    requests (≤ MAX_EXAMPLES each) and schema-invalid ones (≤ NEGATIVE_EXAMPLES each). No 5xx, every status code
    documented, every response in the documented content type and schema, Allow headers on 405, and unsupported
    methods answered 405. Flow runs in its fake mode here (FLOW_MODE=fake), so flow/create is included."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        allow_header_conformance,
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
        allow_header_conformance,
    ]
    schema = schemathesis.openapi.from_wsgi("/ventas/api/openapi.json", app)
    monkeypatch.setitem(app.config, "AUTOMATION_API_KEY", "clave-automatizacion-de-prueba")
    headers = {"Authorization": f"Bearer {seeded_api}", "X-API-KEY": "clave-automatizacion-de-prueba"}
    failures, calls = [], []

    def property_test(operation, mode, examples):
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def run(case):
            response = case.call(headers=headers)
            calls.append((operation.label, mode))
            case.validate_response(response, checks=checks)

        return run

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, MAX_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            try:
                property_test(operation, mode, examples)()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # nothing to make invalid (no parameters, no body)
            except Exception as exc:  # every operation's (shrunk) failure is listed
                failures.append((operation.label, mode.value, str(exc)[:600]))
    assert failures == []
    labels = {label for label, _ in calls}
    assert "POST /ventas/api/flow/create/" in labels and len(labels) == len(operations) >= 40
    assert sum(mode == GenerationMode.NEGATIVE for _, mode in calls) >= 50 and len(calls) >= 250
