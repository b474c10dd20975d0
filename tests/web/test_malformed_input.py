"""Malformed input never reaches the database as a 500 (security review L1): one strict integer parser for every
numeric parameter (ASCII digits, column ranges), NUL bytes refused, page numbers clamped, JSON depth and size
bounded. Every GET route without path arguments is called with the review's inputs in every query parameter the
views read, anonymously, with a staff session and with an admin token."""

from __future__ import annotations

import pytest

from app.web.params import parse_id, parse_int

BAD_VALUES = {"superscript": "²", "arabic_digit": "٣", "nul": "a\x00b", "negative": "-1", "twenty_digits": "9" * 20}
PARAMS = (
    "page",
    "page_size",
    "q",
    "search",
    "estado",
    "fecha",
    "categoria",
    "telefono",
    "proveedor",
    "motivo",
    "codigo",
    "cliente",
    "cantidad_personas",
    "canal",
    "bloque",
    "webhook",
    "venta_reserva_id",
    "usuario",
    "servicio",
    "producto",
    "evento",
    "tipo",
    "servicio_id",
    "origen",
    "ids",
    "hora",
    "fecha_inicio",
    "fecha_fin",
    "mes",
    "campana",
    "base",
    "sort",
    "desde",
    "hasta",
)
SKIP_PREFIXES = ("/static/", "/media/", "/ventas/api/openapi", "/ventas/api/docs", "/logout", "/salir")


@pytest.fixture
def token_for(make_user, db_session):
    from app.auth.services import create_api_token

    def make(role: str = "admin") -> dict:
        _, raw = create_api_token(make_user(role))
        db_session.flush()
        return {"Authorization": f"Bearer {raw}"}

    return make


def test_parse_int_accepts_ascii_digits_only():
    assert parse_int("42") == 42 and parse_int(" 7 ") == 7 and parse_int("-3") == -3 and parse_int(5) == 5
    for bad in ("²", "٣", "1_000", "1 2", "", None, "0x10", "1e3", "+", "-", "a\x00", True, "9" * 20):
        assert parse_int(bad) is None, bad
    assert parse_int("2147483648", maximum=2**31 - 1) is None and parse_int("0", minimum=1) is None
    assert parse_int(str(2**63)) is None and parse_int(str(2**63 - 1)) == 2**63 - 1
    assert parse_int(str(-(2**63) - 1)) is None and parse_int(str(-(2**63))) == -(2**63)
    assert parse_id("2147483647") == 2**31 - 1 and parse_id("2147483648") is None and parse_id("0") is None
    assert parse_id("²") is None and parse_id("-1") is None


def _get_routes(app) -> list[str]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(SKIP_PREFIXES):
            continue
        rules.append(rule.rule)
    return sorted(set(rules))


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_every_get_route_refuses_bad_numbers_and_nul_without_5xx(app, client, login, token_for, kind):
    value = BAD_VALUES[kind]
    query = {name: value for name in PARAMS}
    routes = _get_routes(app)
    assert len(routes) > 50
    failures = []
    for path in routes:
        resp = client.get(path, query_string=query)
        if resp.status_code >= 500:
            failures.append(("anonymous", path, resp.status_code))
    login("admin")
    headers = token_for("admin")
    for path in routes:
        resp = client.get(path, query_string=query)
        if resp.status_code >= 500:
            failures.append(("admin", path, resp.status_code))
        if path.startswith("/ventas/api/"):
            resp = client.get(path, query_string=query, headers=headers)
            if resp.status_code >= 500:
                failures.append(("token", path, resp.status_code))
    assert failures == []


def test_nul_is_removed_from_pages_and_forms_and_refused_by_the_api(client, login, token_for, make_client):
    make_client(name="Ana Pérez", phone="+56987654321")
    assert client.get("/", query_string={"categoria": "1\x00"}).status_code == 200
    headers = token_for("admin")
    found = client.get("/ventas/api/clientes/", query_string={"q": "Ana\x00"}, headers=headers)
    assert found.status_code == 400 and found.json["code"] == "validation_error"  # the API's documented answer
    created = client.post(
        "/ventas/api/clientes/", json={"nombre": "Luis\x00 Soto", "telefono": "+56911114444"}, headers=headers
    )
    assert created.status_code == 400
    login("admin")
    listed = client.get("/ventas/clientes/", query_string={"q": "Ana\x00 Pérez"})
    assert listed.status_code == 200 and "Ana Pérez" in listed.text
    resp = client.post("/ventas/add-to-cart/", data={"servicio_id": "1\x00"})
    assert resp.status_code < 500


@pytest.mark.parametrize(
    "path",
    ["/ventas/api/flow/create/", "/ventas/api/activities/log/", "/ventas/api/clientes/", "/ventas/api/cliente/create/"],
)
def test_deep_json_is_invalid_json_and_big_json_a_413(app, client, token_for, path, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOMATION_API_KEY", "k" * 32)
    headers = {**token_for("admin"), "X-API-KEY": "k" * 32}
    broken = client.post(path, data="{", content_type="application/json", headers=headers)
    headers["Idempotency-Key"] = "deep-1"  # the key's body hash must survive a body too deep to parse
    assert 400 <= broken.status_code < 500  # the endpoint's own answer to a body that is not JSON
    deep = client.post(path, data="[" * 10_000, content_type="application/json", headers=headers)
    nested = client.post(
        path,
        data='{"a":' * 40 + "1" + "}" * 40,
        content_type="application/json",
        headers={**headers, "Idempotency-Key": "deep-2"},
    )
    for resp in (deep, nested):  # the same answer, in the shape that endpoint documents
        assert (resp.status_code, resp.json.keys()) == (broken.status_code, broken.json.keys()), resp.text
    monkeypatch.setitem(app.config, "JSON_MAX_BYTES", 1000)
    resp = client.post(path, json={"nombre": "x" * 2000}, headers=headers)
    assert resp.status_code == 413


FORM_FIELDS = (
    "monto",
    "pago_monto",
    "servicio",
    "producto",
    "cantidad",
    "personas",
    "proveedor",
    "servicio_id",
    "producto_id",
    "index",
    "linea_id",
    "codigo",
    "fecha",
    "hora",
    "cliente",
    "motivo",
    "telefono",
)
FORM_VALUES = {
    "superscript": "²",
    "negative": "-1",
    "twenty_digits": "9" * 20,
    "bigint": str(2**63),
    "int32": str(2**31),
}


@pytest.fixture
def seeded_order(booking_setup, make_client):
    from datetime import date

    from app.sales import checkout_services
    from app.sales import services as sales_services

    client = make_client(name="María Pérez", phone="+56987654321")
    return checkout_services.place_order(
        lines=[
            sales_services.LineRequest(
                service_id=booking_setup["calipso"].id, day=date(2026, 3, 2), hhmm="14:00", people=2
            )
        ],
        data=checkout_services.CheckoutData(telefono=client.phone, nombre=client.name),
        origin="recepcion",
        staff=True,
    )


@pytest.mark.parametrize("kind", sorted(FORM_VALUES))
def test_public_and_front_desk_forms_refuse_bad_numbers_without_5xx(app, client, login, seeded_order, kind):
    value = FORM_VALUES[kind]
    order = seeded_order
    line = order.service_lines[0]
    form = {name: value for name in FORM_FIELDS}
    failures = []
    for path in ("/ventas/add-to-cart/", "/ventas/remove-from-cart/"):
        for data in (form, {"servicio_id": value}, {"producto_id": value, "cantidad": value, "monto": value}):
            resp = client.post(path, data=data)
            if resp.status_code >= 500:
                failures.append(("anonymous", path, resp.status_code))
    ids = {"order_id": order.id, "line_id": line.id, "card_id": 1, "payment_id": 1, "discount_id": 1}
    login("gerente")
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or not rule.rule.startswith(
            (
                "/ventas/recepcion/",
                "/ventas/venta_reservas/",
                "/ventas/giftcards/",
                "/ventas/pagos/",
                "/ventas/descuentos/",
            )
        ):
            continue
        if set(rule.arguments) - set(ids) - {"action"}:
            continue
        path = rule.build(
            {**{k: ids[k] for k in rule.arguments if k in ids}, "action": "checkin"}, append_unknown=False
        )[1]
        resp = client.post(path, data=form)
        checked.append(path)
        if resp.status_code >= 500:
            failures.append(("gerente", path, resp.status_code))
    assert len(checked) >= 15 and failures == []


def test_giftcard_amount_beyond_bigint_is_a_422(login):
    c = login("gerente")
    for amount in (str(2**63), "9" * 20, "²"):
        resp = c.post("/ventas/giftcards/nueva/", data={"monto": amount, "destinatario_nombre": "Ana"})
        assert resp.status_code == 422, (amount, resp.status_code)
        assert "Monto" in resp.text


def test_api_item_ids_beyond_the_integer_column_are_404(client, token_for):
    headers = token_for("admin")
    for path in ("/ventas/api/pagos/", "/ventas/api/clientes/", "/ventas/api/servicios/"):
        for obj_id in (2**31, 10**22):
            resp = client.get(f"{path}{obj_id}/", headers=headers)
            assert resp.status_code == 404 and resp.json["code"] == "not_found", (path, obj_id)
