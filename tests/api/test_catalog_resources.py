"""Contract tests of the catalogue resources: fields, types, filters, pagination, write rules, error bodies."""

from __future__ import annotations

from app.catalog.models import StockMovement

PROVIDER_KEYS = ["id", "nombre", "direccion", "telefono", "email", "activo"]


def test_provider_crud_contract(api):
    gerente = api("gerente")
    created = gerente.post("/ventas/api/proveedores/", json={"nombre": " Ana  Soto ", "email": "ana@example.com"})
    assert created.status_code == 201
    body = created.json
    assert list(body) == PROVIDER_KEYS and body["nombre"] == "Ana Soto" and body["activo"] is True
    pid = body["id"]
    assert gerente.get(f"/ventas/api/proveedores/{pid}/").json == body
    patched = gerente.patch(f"/ventas/api/proveedores/{pid}/", json={"activo": False})
    assert patched.status_code == 200 and patched.json["activo"] is False and patched.json["nombre"] == "Ana Soto"
    put = gerente.put(f"/ventas/api/proveedores/{pid}/", json={"direccion": "Puerto Varas"})
    assert put.status_code == 400 and put.json == {
        "error": "Datos inválidos.",
        "code": "validation_error",
        "detail": {"nombre": ["Este campo es requerido."]},
    }
    listed = api("recepcion").get("/ventas/api/proveedores/?activo=false&q=ana")
    assert listed.status_code == 200 and [r["id"] for r in listed.json["results"]] == [pid]
    assert gerente.delete(f"/ventas/api/proveedores/{pid}/").status_code == 204
    missing = gerente.get(f"/ventas/api/proveedores/{pid}/")
    assert missing.status_code == 404 and missing.json == {"error": "No encontrado.", "code": "not_found", "detail": {}}


def test_validation_errors_list_every_bad_field(api):
    resp = api("admin").post("/ventas/api/productos/", json={"nombre": 5, "precio_base": -1, "proveedor": 999999})
    assert resp.status_code == 400 and resp.json["code"] == "validation_error"
    assert set(resp.json["detail"]) == {"nombre", "precio_base", "proveedor"}
    bad_json = api("admin").post("/ventas/api/productos/", data="{nope", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json["detail"] == {"body": ["Se esperaba un objeto JSON."]}
    bad_filter = api("admin").get("/ventas/api/productos/?activo=quizas&categoria=x")
    assert bad_filter.status_code == 400 and set(bad_filter.json["detail"]) == {"activo", "categoria"}


def test_write_roles_and_method_not_allowed(api, client):
    assert api("recepcion").post("/ventas/api/categorias/", json={"nombre": "Aceites"}).json == {
        "error": "No tiene permiso para realizar esta acción.",
        "code": "permission_denied",
        "detail": {},
    }
    resp = client.post("/ventas/api/categorias/", json={"nombre": "Aceites"})
    assert resp.status_code == 401 and resp.json["error"] == "Autenticación requerida."
    not_allowed = api("admin").delete("/ventas/api/categorias/")
    assert not_allowed.status_code == 405 and not_allowed.json["code"] == "method_not_allowed"
    unknown = client.get("/ventas/api/no-existe/")
    assert unknown.status_code == 404 and unknown.json["code"] == "not_found"


def test_product_stock_is_an_adjustment_and_history_blocks_delete(api, db_session):
    gerente = api("gerente")
    cat = gerente.post("/ventas/api/categorias/", json={"nombre": "Aceites"}).json
    assert gerente.post("/ventas/api/categorias/", json={"nombre": "aceites"}).json["detail"] == {
        "nombre": ["Ya existe un registro con este nombre."]
    }
    product = gerente.post(
        "/ventas/api/productos/",
        json={"nombre": "Aceite", "precio_base": 9900, "cantidad_disponible": 5, "categoria": cat["id"]},
    ).json
    assert product["cantidad_disponible"] == 5 and product["categoria"] == cat["id"]
    assert (
        gerente.patch(f"/ventas/api/productos/{product['id']}/", json={"cantidad_disponible": 3}).json[
            "cantidad_disponible"
        ]
        == 3
    )
    moves = db_session.query(StockMovement).filter_by(product_id=product["id"]).order_by(StockMovement.id).all()
    assert [(m.delta, m.reason, m.note) for m in moves] == [(5, "ajuste", "API"), (-2, "ajuste", "API")]
    conflict = gerente.delete(f"/ventas/api/productos/{product['id']}/")
    assert conflict.status_code == 409 and conflict.json == {
        "error": "No se puede eliminar: tiene historial asociado. Desactívelo en su lugar.",
        "code": "has_history",
        "detail": {},
    }
    assert gerente.delete(f"/ventas/api/categorias/{cat['id']}/").json["code"] == "has_history"
    filtered = gerente.get(f"/ventas/api/productos/?categoria={cat['id']}&activo=true").json
    assert filtered["count"] == 1 and filtered["results"][0]["nombre"] == "Aceite"


def test_services_public_read_and_manager_writes(api, client, make_service, make_category):
    cat = make_category(name="Tinas")
    shown = make_service(name="Tina Calipso", category=cat)
    hidden = make_service(name="Tina Oculta", is_published=False)
    anon = client.get("/ventas/api/servicios/?page_size=200").json
    names = [r["nombre"] for r in anon["results"]]
    assert "Tina Calipso" in names and "Tina Oculta" not in names
    assert client.get(f"/ventas/api/servicios/{hidden.id}/").status_code == 404
    staff = api("recepcion").get(f"/ventas/api/servicios/{hidden.id}/")
    assert staff.status_code == 200
    body = api("marketing").get(f"/ventas/api/servicios/{shown.id}/").json
    assert list(body) == [
        "id",
        "nombre",
        "precio_base",
        "duracion",
        "categoria",
        "proveedores",
        "capacidad_minima",
        "capacidad_maxima",
        "max_reservas_simultaneas",
        "horario_apertura",
        "horario_cierre",
        "slots_disponibles",
        "activo",
        "publicado_web",
        "tipo_servicio",
        "imagen",
        "descripcion_web",
        "regla_precio",
        "etiqueta_precio",
    ]
    assert body["slots_disponibles"]["monday"] == ["14:00", "17:00"] and body["horario_apertura"] == "09:00"
    assert body["regla_precio"] == "por_persona" and body["etiqueta_precio"] == "$25.000 precio por persona"
    assert api("recepcion").patch(f"/ventas/api/servicios/{shown.id}/", json={"activo": False}).status_code == 403
    admin = api("admin")
    bad = admin.patch(
        f"/ventas/api/servicios/{shown.id}/", json={"capacidad_minima": 9, "slots_disponibles": {"lunes": ["14:00"]}}
    )
    assert bad.status_code == 400 and set(bad.json["detail"]) == {"slots_disponibles"}
    bounds = admin.patch(f"/ventas/api/servicios/{shown.id}/", json={"capacidad_minima": 9})
    assert bounds.status_code == 400 and "capacidad_maxima" in bounds.json["detail"]
    ok = admin.patch(f"/ventas/api/servicios/{shown.id}/", json={"horario_cierre": "22:30", "precio_base": 26000})
    assert ok.status_code == 200 and ok.json["horario_cierre"] == "22:30" and ok.json["precio_base"] == 26000
    cats = client.get("/ventas/api/categorias-servicio/").json["results"]
    assert {"id", "nombre", "horarios", "imagen", "descripcion", "orden"} == set(cats[0])


def test_pagination_shape_and_links(api, make_category):
    for n in range(5):
        make_category(name=f"Cat {n}")
    page = api("gerente").get("/ventas/api/categorias-servicio/?page=2&page_size=2").json
    assert page["count"] == 5 and len(page["results"]) == 2
    assert page["next"].endswith("page=3&page_size=2") and page["previous"].endswith("page=1&page_size=2")
    last = api("gerente").get("/ventas/api/categorias-servicio/?page=3&page_size=2").json
    assert last["next"] is None and len(last["results"]) == 1
    too_big = api("gerente").get("/ventas/api/categorias-servicio/?page_size=201")
    assert too_big.status_code == 400 and "page_size" in too_big.json["detail"]


def test_nul_characters_are_refused_not_a_server_error(api, placed_order):
    desk = api("recepcion")
    assert desk.get("/ventas/api/clientes/?q=a%00b").status_code == 400
    assert desk.post("/ventas/api/proveedores/", json={"nombre": "a\x00b"}).status_code in (400, 403)
    assert api("admin").post("/ventas/api/proveedores/", json={"nombre": "a\x00b"}).status_code == 400
    prebook = desk.post(
        "/ventas/ventas/prebooking/",
        json={
            "telefono": "+56911112222",
            "nombre_cliente": "a\x00",
            "servicios": [{"servicio_id": 1, "fecha_agendamiento": "2026-03-02", "hora_inicio": "14:00"}],
        },
    )
    assert prebook.status_code == 400
    cancelled = desk.delete(f"/ventas/api/ventasreservas/{placed_order.id}/?motivo=x%00y")
    assert cancelled.status_code == 200
