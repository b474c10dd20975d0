"""clientes resource (api.md §4.1), phone lookups (§5.2), the client mini-API (§5.3) and pre-booking (§5.4)."""

from __future__ import annotations

from app.clients.models import ClientEvent, ClientUpdateRequest
from app.sales.models import Order

CLIENT_KEYS = ["id", "nombre", "telefono", "email", "documento_identidad", "ciudad", "pais", "fecha_nacimiento"]


def test_clientes_resource(api, make_client, db_session):
    desk = api("recepcion")
    created = desk.post(
        "/ventas/api/clientes/",
        json={
            "nombre": "Ana Soto",
            "telefono": "9 8765 4321",
            "email": "ANA@example.com",
            "fecha_nacimiento": "1990-05-01",
        },
    )
    assert created.status_code == 201
    body = created.json
    assert list(body) == [
        "id",
        "nombre",
        "telefono",
        "email",
        "documento_identidad",
        "pais",
        "ciudad",
        "fecha_nacimiento",
        "fecha_creacion",
    ]
    assert body["telefono"] == "+56987654321" and body["email"] == "ana@example.com"
    dup = desk.post("/ventas/api/clientes/", json={"nombre": "Otra", "telefono": "+56987654321"})
    assert dup.status_code == 400 and dup.json["detail"] == {"telefono": ["Ya existe un cliente con este teléfono."]}
    bad_phone = desk.post("/ventas/api/clientes/", json={"nombre": "Otra", "telefono": "12"})
    assert bad_phone.status_code == 400 and "telefono" in bad_phone.json["detail"]
    found = api("marketing").get("/ventas/api/clientes/?telefono=987654321").json
    assert [r["id"] for r in found["results"]] == [body["id"]]
    assert api("marketing").get("/ventas/api/clientes/?telefono=xx").json["count"] == 0
    assert api("marketing").get("/ventas/api/clientes/?email=Ana@Example.com").json["count"] == 1
    assert (
        api("marketing").post("/ventas/api/clientes/", json={"nombre": "X", "telefono": "+56911111111"}).status_code
        == 403
    )
    updated = desk.patch(f"/ventas/api/clientes/{body['id']}/", json={"ciudad": "Puerto Varas"})
    assert updated.json["ciudad"] == "Puerto Varas"
    assert db_session.query(ClientEvent).filter_by(client_id=body["id"], event_type="client_updated").count() == 1
    assert desk.delete(f"/ventas/api/clientes/{body['id']}/").status_code == 403
    assert api("admin").delete(f"/ventas/api/clientes/{body['id']}/").status_code == 204


def test_client_with_history_is_not_deleted(api, placed_order):
    resp = api("admin").delete(f"/ventas/api/clientes/{placed_order.client_id}/")
    assert resp.status_code == 409 and resp.json["code"] == "has_history"


def test_get_client_details_reduced_for_anonymous(client, api, make_client):
    make_client(name="María José Pérez", phone="+56987654321", email="maria@example.com")
    assert client.get("/ventas/api/get-client-details/?telefono=987654321").json == {"found": True, "nombre": "María"}
    assert client.get("/ventas/api/get-client-details/?telefono=+56900000000").json == {"found": False}
    assert client.get("/ventas/api/get-client-details/?telefono=abc").json == {"found": False}
    missing = client.get("/ventas/api/get-client-details/")
    assert missing.status_code == 400 and missing.json == {"error": 'Parámetro "telefono" es requerido.'}
    assert api("recepcion").get("/ventas/api/get-client-details/?telefono=987654321").json == {
        "found": True,
        "nombre": "María José Pérez",
        "email": "maria@example.com",
        "documento_identidad": "",
    }


def test_get_client_details_rate_limited(make_client, limited_app):
    make_client(phone="+56987654321")
    limited = limited_app.test_client()
    codes = [limited.get("/ventas/api/get-client-details/?telefono=987654321").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    blocked = limited.get("/ventas/api/get-client-details/?telefono=987654321").json
    assert blocked["code"] == "rate_limited" and blocked["error"] == (
        "Demasiadas solicitudes. Intente nuevamente en un minuto."
    )


def test_get_client_by_phone(api, client, make_client):
    owner = make_client(phone="+56987654321")
    ok = api("marketing").get("/ventas/api/get-client-by-phone/?telefono=%2B56987654321")
    assert ok.status_code == 200 and list(ok.json["cliente"]) == CLIENT_KEYS and ok.json["cliente"]["id"] == owner.id
    missing = api("marketing").get("/ventas/api/get-client-by-phone/?telefono=%2B56900000000")
    assert missing.status_code == 404 and missing.json == {"cliente": None}
    assert client.get("/ventas/api/get-client-by-phone/?telefono=1").status_code == 401


def test_client_mini_api(api, make_client):
    make_client(phone="+56987654321")
    desk = api("recepcion")
    listing = desk.get("/ventas/api/cliente/?page=1&page_size=500").json
    assert listing["status"] == "success" and listing["page"] == 1 and listing["pages"] == 1
    assert listing["count"] == len(listing["data"]) >= 1
    assert desk.get("/ventas/api/cliente/?page_size=501").status_code == 400
    one = desk.get("/ventas/api/cliente/987654321/").json
    assert one["status"] == "success" and one["count"] == 1 and one["data"][0]["telefono"] == "+56987654321"
    assert desk.get("/ventas/api/cliente/+56900000000/").json == {
        "status": "error",
        "message": "No se encontró ningún cliente con ese teléfono",
    }
    created = desk.post("/ventas/api/cliente/create/", json={"nombre": "Luis", "telefono": "+56911112222"})
    assert created.status_code == 201 and created.json["message"] == "Cliente creado exitosamente"
    dup = desk.post("/ventas/api/cliente/create/", json={"nombre": "Luis", "telefono": "+56911112222"})
    assert dup.status_code == 400 and dup.json == {
        "status": "error",
        "message": {"telefono": ["Ya existe un cliente con este teléfono."]},
    }
    updated = desk.put("/ventas/api/cliente/update/911112222/", json={"ciudad": "Frutillar", "telefono": "ignorado"})
    assert updated.status_code == 200 and updated.json["data"]["ciudad"] == "Frutillar"
    assert updated.json["data"]["telefono"] == "+56911112222"
    missing = desk.patch("/ventas/api/cliente/update/+56987650000/", json={"ciudad": "X"})
    assert missing.status_code == 404 and missing.json == {
        "status": "error",
        "message": "Cliente no encontrado",
        "telefono_buscado": "+56987650000",
    }
    assert api("marketing").post("/ventas/api/cliente/create/", json={}).status_code == 403
    assert api("marketing").get("/ventas/api/cliente/").status_code == 200


def test_prebooking(api, booking_setup, make_client, db_session, client):
    s = booking_setup
    existing = make_client(name="María Pérez", phone="+56987654321", email="maria@example.com")
    body = {
        "telefono": "+56987654321",
        "nombre_cliente": "María P. Pérez",
        "email": "maria@example.com",
        "comentarios": "Aniversario",
        "discount_code": "AREMKO15",
        "fecha_reserva": "2020-01-01",
        "servicios": [
            {"servicio_id": s["calipso"].id, "fecha_agendamiento": "2026-03-02T14:00:00-03:00", "cantidad_personas": 2}
        ],
    }
    resp = api("recepcion").post("/ventas/ventas/prebooking/", json=body)
    assert resp.status_code == 201
    assert resp.json == {
        "status": "success",
        "message": "Pre-reserva creada exitosamente",
        "venta_reserva_id": resp.json["venta_reserva_id"],
        "total": 42500,
        "discount_applied": 7500,
    }
    order = db_session.get(Order, resp.json["venta_reserva_id"])
    assert order.client_id == existing.id and order.origin == "api"
    assert existing.name == "María Pérez"  # never overwritten: a pending update instead
    assert db_session.query(ClientUpdateRequest).filter_by(client_id=existing.id).count() == 1
    again = api("recepcion").post("/ventas/ventas/prebooking/", json=body)
    assert again.status_code == 409 and again.json == {
        "status": "error",
        "message": "Horario no disponible: Tina Calipso 02/03/2026 14:00 (Horario agotado.)",
    }
    by_date = api("gerente").post(
        "/ventas/ventas/prebooking/",
        json={
            **body,
            "discount_code": None,
            "telefono": "+56911223344",
            "servicios": [{"servicio_id": s["calipso"].id, "fecha_agendamiento": "2026-03-02", "hora_inicio": "17:00"}],
        },
    )
    assert by_date.status_code == 201 and by_date.json["total"] == 25000
    bad = api("recepcion").post("/ventas/ventas/prebooking/", json={**body, "servicios": []})
    assert bad.status_code == 400 and bad.json["status"] == "error"
    assert api("marketing").post("/ventas/ventas/prebooking/", json=body).status_code == 403
    anon = client.post("/ventas/ventas/prebooking/", json=body)
    assert anon.status_code == 401 and anon.json["code"] == "not_authenticated"


def test_clientes_segment_filter(api, placed_order, make_client):
    from app.sales.payment_services import record_payment

    record_payment(placed_order, amount=30000, method="efectivo")  # future booking paid: new_low_spend
    idle = make_client()
    desk = api("marketing")
    assert [r["id"] for r in desk.get("/ventas/api/clientes/?segmento=new_low_spend").json["results"]] == [
        placed_order.client_id
    ]
    assert idle.id in [
        r["id"] for r in desk.get("/ventas/api/clientes/?segmento=zero_spend&page_size=200").json["results"]
    ]
    assert desk.get("/ventas/api/clientes/?segmento=otro").status_code == 400
