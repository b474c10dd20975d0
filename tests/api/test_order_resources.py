"""Contract tests of ventasreservas, reservaservicios, reservaproductos and pagos (api.md §4.1–4.2)."""

from __future__ import annotations

from app.clients.models import ClientEvent
from app.sales.models import Order
from tests.api.test_representation import ORDER_KEYS


def stock(product) -> int:
    from app.extensions import db

    db.session.refresh(product)
    return product.stock


def test_create_order_through_place_order(api, booking_setup, make_client, make_product, db_session):
    s = booking_setup
    owner = make_client(name="María Pérez")
    product = make_product(name="Aceite", base_price=9900, stock=3)
    body = {
        "cliente": owner.id,
        "comentarios": "Aniversario",
        "codigo_descuento": "AREMKO15",
        "servicios": [
            {
                "servicio": s["calipso"].id,
                "fecha_agendamiento": "2026-03-02",
                "hora_inicio": "14:00",
                "cantidad_personas": 2,
            }
        ],
        "productos": [{"producto": product.id, "cantidad": 2}],
    }
    resp = api("recepcion").post("/ventas/api/ventasreservas/", json=body)
    assert resp.status_code == 201, resp.json
    out = resp.json
    assert list(out) == ORDER_KEYS and out["origen"] == "api" and out["comentarios"] == "Aniversario"
    assert (out["total_servicios"], out["total_productos"]) == (50000, 19800)
    assert out["descuentos"] == round((50000 + 19800) * 15 / 100)
    assert out["descuentos_detalle"][0]["codigo"] == "AREMKO15"
    assert out["productos"][0]["cantidad"] == 2 and stock(product) == 1
    events = {e.event_type for e in db_session.query(ClientEvent).filter_by(order_id=out["id"])}
    assert {"order_created", "line_added", "discount_applied"} <= events

    taken = api("recepcion").post(
        "/ventas/api/ventasreservas/", json={**body, "productos": [], "codigo_descuento": None}
    )
    assert taken.status_code == 409 and taken.json["code"] == "slot_unavailable"
    assert taken.json["detail"]["lineas"][0]["linea"] == "Tina Calipso 02/03/2026 14:00"
    no_stock = api("recepcion").post(
        "/ventas/api/ventasreservas/",
        json={
            **body,
            "servicios": [{**body["servicios"][0], "hora_inicio": "17:00"}],
            "codigo_descuento": None,
            "productos": [{"producto": product.id, "cantidad": 5}],
        },
    )
    assert no_stock.status_code == 409 and no_stock.json["code"] == "insufficient_stock"
    assert db_session.query(Order).count() == 1  # nothing half-written
    bad = api("recepcion").post("/ventas/api/ventasreservas/", json={"cliente": owner.id, "servicios": [{}]})
    assert bad.status_code == 400 and "servicios" in bad.json["detail"]


def test_order_list_filters_update_and_cancel(api, placed_order, booking_setup):
    order_id = placed_order.id
    recepcion = api("recepcion")
    for query, expected in (
        ("estado_pago=pendiente", [order_id]),
        ("estado_pago=pagado", []),
        ("fecha_servicio=2026-03-02", [order_id]),
        ("fecha_servicio=2026-03-03", []),
        (f"servicio={booking_setup['calipso'].id}", [order_id]),
        ("origen=web", []),
        ("fecha_inicio=2026-03-02&fecha_fin=2026-03-02", [order_id]),
        (f"cliente={placed_order.client_id}", [order_id]),
    ):
        got = recepcion.get(f"/ventas/api/ventasreservas/?{query}").json
        assert [r["id"] for r in got["results"]] == expected, query
    assert recepcion.get("/ventas/api/ventasreservas/?estado_pago=raro").status_code == 400
    patched = recepcion.patch(
        f"/ventas/api/ventasreservas/{order_id}/", json={"comentarios": "Llega tarde", "cobrado": True}
    )
    assert patched.status_code == 200 and patched.json["comentarios"] == "Llega tarde" and patched.json["cobrado"]
    forbidden = recepcion.patch(
        f"/ventas/api/ventasreservas/{order_id}/", json={"fecha_reserva": "2026-03-01T10:00:00-03:00"}
    )
    assert forbidden.status_code == 403 and forbidden.json["code"] == "permission_denied"
    moved = api("gerente").patch(
        f"/ventas/api/ventasreservas/{order_id}/", json={"fecha_reserva": "2026-03-01T10:00:00-03:00"}
    )
    assert moved.json["fecha_reserva"] == "2026-03-01T10:00:00-03:00"
    assert api("marketing").get(f"/ventas/api/ventasreservas/{order_id}/").status_code == 403
    cancelled = recepcion.delete(f"/ventas/api/ventasreservas/{order_id}/?motivo=Cliente%20avisa")
    assert cancelled.status_code == 200 and cancelled.json["estado_reserva"] == "cancelada"
    assert cancelled.json["servicios"][0]["estado"] == "cancelada"


def test_payments_record_void_discount_and_rules(api, placed_order, db_session):
    order_id = placed_order.id
    recepcion = api("recepcion")
    paid = recepcion.post(
        "/ventas/api/pagos/",
        json={"venta_reserva": order_id, "monto": 10000, "metodo_pago": "efectivo", "referencia": "caja 1"},
    )
    assert paid.status_code == 201
    assert list(paid.json) == [
        "id",
        "venta_reserva",
        "fecha_pago",
        "monto",
        "metodo_pago",
        "usuario",
        "giftcard",
        "es_reembolso",
        "referencia",
        "estado",
        "motivo_anulacion",
    ]
    assert paid.json["monto"] == 10000 and paid.json["estado"] == "valido" and paid.json["usuario"].startswith("rec")
    over = recepcion.post(
        "/ventas/api/pagos/", json={"venta_reserva": order_id, "monto": 999999, "metodo_pago": "efectivo"}
    )
    assert over.status_code == 422 and over.json["code"] == "business_rule" and "monto" in over.json["detail"]
    unknown = recepcion.post(
        "/ventas/api/pagos/", json={"venta_reserva": order_id, "monto": 1000, "metodo_pago": "bitcoin"}
    )
    assert unknown.status_code == 422 and unknown.json["error"] == "Método de pago no disponible."
    discount = recepcion.post(
        "/ventas/api/pagos/",
        json={"venta_reserva": order_id, "monto": 5000, "metodo_pago": "descuento", "referencia": "cliente frecuente"},
    )
    assert discount.status_code == 201 and discount.json == {
        "id": discount.json["id"],
        "tipo": "descuento",
        "venta_reserva": order_id,
        "monto": 5000,
        "motivo": "cliente frecuente",
    }
    put = recepcion.put(f"/ventas/api/pagos/{paid.json['id']}/", json={"monto": 1})
    assert put.status_code == 405 and put.json["error"] == (
        "Los pagos no se modifican; anule el pago y registre uno nuevo."
    )
    listed = recepcion.get(f"/ventas/api/pagos/?venta_reserva={order_id}&estado=valido&fecha_inicio=2026-03-02")
    assert [p["id"] for p in listed.json["results"]] == [paid.json["id"]]
    other = api("recepcion").delete(f"/ventas/api/pagos/{paid.json['id']}/")
    assert other.status_code == 422 and other.json["error"] == "Solo puede anular pagos registrados por usted."
    voided = recepcion.delete(f"/ventas/api/pagos/{paid.json['id']}/?motivo=Error%20de%20digitaci%C3%B3n")
    assert voided.status_code == 200 and voided.json["estado"] == "anulado"
    assert voided.json["motivo_anulacion"] == "Error de digitación"
    order = recepcion.get(f"/ventas/api/ventasreservas/{order_id}/").json
    assert (order["pagado"], order["descuentos"], order["saldo_pendiente"]) == (0, 5000, 45000)


def test_service_and_product_lines(api, placed_order, booking_setup, make_product):
    s = booking_setup
    order_id = placed_order.id
    desk = api("recepcion")
    added = desk.post(
        "/ventas/api/reservaservicios/",
        json={
            "venta_reserva": order_id,
            "servicio_id": s["relajacion"].id,
            "fecha_agendamiento": "2026-03-02",
            "hora_inicio": "13:00",
            "cantidad_personas": 1,
        },
    )
    assert added.status_code == 201, added.json
    line = added.json
    assert list(line) == [
        "id",
        "venta_reserva",
        "servicio",
        "fecha_agendamiento",
        "hora_inicio",
        "cantidad_personas",
        "proveedor_asignado",
        "precio_unitario",
        "regla_precio",
        "subtotal",
        "estado",
    ]
    assert line["servicio"]["nombre"] == "Masaje Relajación" and line["proveedor_asignado"] is not None
    moved = desk.patch(f"/ventas/api/reservaservicios/{line['id']}/", json={"hora_inicio": "14:15"})
    assert moved.status_code == 200 and moved.json["hora_inicio"] == "14:15"
    full = desk.patch(
        f"/ventas/api/reservaservicios/{placed_order.service_lines[0].id}/", json={"cantidad_personas": 9}
    )
    assert full.status_code == 422
    checked = desk.patch(f"/ventas/api/reservaservicios/{line['id']}/", json={"estado": "checkin"})
    assert checked.status_code == 200 and checked.json["estado"] == "checkin"
    undone = desk.patch(f"/ventas/api/reservaservicios/{line['id']}/", json={"estado": "pendiente"})
    assert undone.json["estado"] == "pendiente"
    rows = desk.get(f"/ventas/api/reservaservicios/?venta_reserva={order_id}&fecha=2026-03-02").json
    assert rows["count"] == 2
    assert desk.get(f"/ventas/api/reservaservicios/?proveedor={s['ana'].id}&estado=pendiente").status_code == 200
    cancelled = desk.delete(f"/ventas/api/reservaservicios/{line['id']}/")
    assert cancelled.status_code == 200 and cancelled.json["estado"] == "cancelada"

    product = make_product(base_price=3000, stock=4)
    sold = desk.post(
        "/ventas/api/reservaproductos/", json={"venta_reserva": order_id, "producto": product.id, "cantidad": 2}
    )
    assert sold.status_code == 201 and sold.json["subtotal"] == 6000 and stock(product) == 2
    more = desk.patch(f"/ventas/api/reservaproductos/{sold.json['id']}/", json={"cantidad": 3})
    assert more.json["cantidad"] == 3 and stock(product) == 1
    too_many = desk.patch(f"/ventas/api/reservaproductos/{sold.json['id']}/", json={"cantidad": 10})
    assert too_many.status_code == 409 and too_many.json["code"] == "insufficient_stock"
    voided = desk.delete(f"/ventas/api/reservaproductos/{sold.json['id']}/")
    assert voided.json["estado"] == "anulada" and stock(product) == 4
    assert desk.get(f"/ventas/api/reservaproductos/?producto={product.id}").json["count"] == 1
