"""Token auth (Bearer/Token, revoked/expired → 401), session writes need X-CSRFToken, Idempotency-Key, 500 body."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.api.models import IdempotencyRecord
from app.core import clock
from app.sales.models import Order, Payment


def test_token_schemes_and_bad_tokens(client, make_user, db_session):
    from app.auth.services import create_api_token, revoke_api_token

    user = make_user("recepcion")
    token, raw = create_api_token(user)
    db_session.flush()
    assert client.get("/ventas/api/pagos/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert client.get("/ventas/api/pagos/", headers={"Authorization": f"Token {raw}"}).status_code == 200
    for header in (f"Bearer {raw}x", "Bearer ", "Token nope"):
        resp = client.get("/ventas/api/pagos/", headers={"Authorization": header})
        assert resp.status_code == 401 and resp.json["code"] == "not_authenticated", header
    public_with_bad_token = client.get("/ventas/api/servicios/", headers={"Authorization": "Bearer malo"})
    assert public_with_bad_token.status_code == 401
    revoke_api_token(token)
    assert client.get("/ventas/api/pagos/", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    _, expiring = create_api_token(user, days=1)
    db_session.flush()
    clock.freeze(clock.now() + timedelta(days=2))
    try:
        assert client.get("/ventas/api/pagos/", headers={"Authorization": f"Bearer {expiring}"}).status_code == 401
    finally:
        clock.freeze(None)
    _, inactive = create_api_token(make_user("gerente", is_active=False))
    db_session.flush()
    assert client.get("/ventas/api/pagos/", headers={"Authorization": f"Bearer {inactive}"}).status_code == 401


def test_session_writes_need_the_csrf_header(db_session, make_user):
    from app import create_app
    from tests.conftest import make_test_config

    app = create_app(make_test_config(WTF_CSRF_ENABLED=True))
    user = make_user("gerente")
    c = app.test_client()
    with c.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert c.get("/ventas/api/categorias/").status_code == 200  # reads need no header
    refused = c.post("/ventas/api/categorias/", json={"nombre": "Aceites"})
    assert refused.status_code == 403 and refused.json["error"] == "Falta el encabezado X-CSRFToken o no es válido."
    page = c.get("/ventas/mi-cuenta/tokens/")
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    ok = c.post("/ventas/api/categorias/", json={"nombre": "Aceites"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def _pay(api_client, order_id, key, amount=10000):
    return api_client.post(
        "/ventas/api/pagos/",
        json={"venta_reserva": order_id, "monto": amount, "metodo_pago": "efectivo"},
        headers={"Idempotency-Key": key},
    )


def test_idempotent_payment_replay_and_reuse(api, placed_order, db_session):
    desk = api("recepcion")
    first = _pay(desk, placed_order.id, "pago-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    replay = _pay(desk, placed_order.id, "pago-1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    assert db_session.query(Payment).filter_by(order_id=placed_order.id).count() == 1
    reused = _pay(desk, placed_order.id, "pago-1", amount=5000)
    assert reused.status_code == 422 and reused.json == {
        "error": "Idempotency-Key reutilizada con otro contenido.",
        "code": "idempotency_key_reused",
        "detail": {},
    }
    other_caller = _pay(api("recepcion"), placed_order.id, "pago-1")  # keys are per caller
    assert other_caller.status_code == 201 and "Idempotent-Replayed" not in other_caller.headers
    refused = _pay(desk, placed_order.id, "pago-2", amount=999999)  # a 4xx answer is kept too
    again = _pay(desk, placed_order.id, "pago-2", amount=999999)
    assert refused.status_code == again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    assert _pay(desk, placed_order.id, "x" * 256).status_code == 400


def test_idempotency_in_progress_and_expired(api, placed_order, db_session, make_user):
    from app.auth.services import create_api_token

    user = make_user("recepcion")
    token, raw = create_api_token(user)
    db_session.flush()
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "orden-1"}
    from app.api import idempotency

    body = {"venta_reserva": placed_order.id, "monto": 1000, "metodo_pago": "efectivo"}
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    db_session.add(
        IdempotencyRecord(
            scope=f"token:{token.id}",
            key="orden-1",
            method="POST",
            path="/ventas/api/pagos/",
            request_hash=digest,
            status="in_progress",
        )
    )
    db_session.flush()
    client = api("recepcion")
    busy = client.post("/ventas/api/pagos/", json=body, headers=headers)
    assert busy.status_code == 409 and busy.json["code"] == "idempotency_in_progress"
    stale = db_session.query(IdempotencyRecord).filter_by(key="orden-1").one()
    stale.created_at = clock.now() - idempotency.TTL - timedelta(minutes=1)
    db_session.flush()
    fresh = client.post("/ventas/api/pagos/", json=body, headers=headers)
    assert fresh.status_code == 201
    db_session.expire_all()
    assert db_session.query(IdempotencyRecord).filter_by(key="orden-1").one().status == "done"


def test_server_error_releases_the_key_and_hides_the_trace(api, placed_order, db_session, monkeypatch):
    from app.api import order_views as api_orders

    def boom(*a, **kw):
        raise RuntimeError("secreto interno")

    desk = api("recepcion")
    with monkeypatch.context() as patched:
        patched.setattr(api_orders, "record_payment", boom)
        resp = _pay(desk, placed_order.id, "caida")
    assert resp.status_code == 500
    assert set(resp.json) == {"error", "code", "detail", "request_id"} and resp.json["code"] == "internal_error"
    assert "secreto" not in resp.text and resp.json["error"] == "Error interno del servidor."
    assert db_session.query(IdempotencyRecord).filter_by(key="caida").count() == 0
    assert _pay(desk, placed_order.id, "caida").status_code == 201


@pytest.mark.parametrize("path", ["/ventas/api/ventasreservas/", "/ventas/ventas/prebooking/"])
def test_idempotent_order_creation(api, booking_setup, make_client, db_session, path):
    owner = make_client(phone="+56911112222")
    s = booking_setup
    if path.endswith("prebooking/"):
        body = {
            "telefono": owner.phone,
            "nombre_cliente": owner.name,
            "servicios": [
                {
                    "servicio_id": s["calipso"].id,
                    "fecha_agendamiento": "2026-03-02T14:00:00-03:00",
                    "cantidad_personas": 2,
                }
            ],
        }
    else:
        body = {
            "cliente": owner.id,
            "servicios": [
                {
                    "servicio": s["calipso"].id,
                    "fecha_agendamiento": "2026-03-02",
                    "hora_inicio": "14:00",
                    "cantidad_personas": 2,
                }
            ],
        }
    desk = api("recepcion")
    first = desk.post(path, json=body, headers={"Idempotency-Key": "k1"})
    second = desk.post(path, json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == second.status_code == 201 and second.headers["Idempotent-Replayed"] == "true"
    assert db_session.query(Order).count() == 1


def test_idempotent_flow_create_for_staff(api, booking_setup, db_session):
    from app.sales import cart_services, checkout_services
    from app.sales import services as sales_services
    from app.sales.models import FlowTransaction
    from tests.api.conftest import MONDAY

    cart = cart_services.create_cart()
    cart_services.hold_slot(
        cart, sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="14:00", people=2)
    )
    order = checkout_services.checkout_cart(
        cart,
        checkout_services.CheckoutData(
            telefono="+56987654321", nombre="María Pérez", email="maria@example.com", metodo_pago="flow"
        ),
    )
    before = db_session.query(FlowTransaction).filter_by(order_id=order.id).count()
    desk = api("recepcion")
    first = desk.post("/ventas/api/flow/create/", json={"reserva_id": order.id}, headers={"Idempotency-Key": "f1"})
    again = desk.post("/ventas/api/flow/create/", json={"reserva_id": order.id}, headers={"Idempotency-Key": "f1"})
    assert first.status_code == again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert db_session.query(FlowTransaction).filter_by(order_id=order.id).count() == before + 1


@pytest.mark.parametrize("reserva_id", [0, -1, 2**31, 2**100])
def test_flow_create_with_an_id_beyond_the_column_is_not_found(api, reserva_id):
    """Found by the property run on SQLite (an id past 64 bits was a 500): an id no order can have is a 404."""
    response = api("recepcion").post("/ventas/api/flow/create/", json={"reserva_id": reserva_id})
    assert response.status_code == 404 and response.json == {"error": "Reservation not found"}
