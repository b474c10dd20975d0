"""The shared serializers: order (api.md §4.2) and client (api.md §5.2) objects."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.clients.representation import client_representation
from app.sales import checkout_services, discount_services
from app.sales import services as sales_services
from app.sales.payment_services import record_payment
from app.sales.representation import order_representation

ORDER_KEYS = [
    "id",
    "cliente",
    "cliente_nombre",
    "fecha_creacion",
    "fecha_reserva",
    "origen",
    "estado_pago",
    "estado_reserva",
    "total_servicios",
    "total_productos",
    "descuentos",
    "total",
    "pagado",
    "saldo_pendiente",
    "saldo_a_favor",
    "requiere_reembolso",
    "comentarios",
    "numero_documento_fiscal",
    "cobrado",
    "enlace_publico",
    "servicios",
    "productos",
    "pagos",
    "descuentos_detalle",
]


def test_order_representation_matches_the_spec(booking_setup, make_user):
    s = booking_setup
    recepcion = make_user("recepcion", username="recepcion")
    order = checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=s["calipso"].id, day=date(2026, 3, 2), hhmm="14:00", people=2)],
        data=checkout_services.CheckoutData(telefono="+56987654321", nombre="María Pérez"),
        origin="api",
        staff=True,
    )
    discount_services.apply_discount(order, amount=5000, reason="cliente frecuente", by=make_user("gerente"))
    record_payment(order, amount=10000, method="efectivo", by=recepcion)
    out = order_representation(order)
    assert list(out) == ORDER_KEYS
    assert out["cliente_nombre"] == "María Pérez" and out["origen"] == "api"
    assert (out["total_servicios"], out["descuentos"], out["total"], out["pagado"], out["saldo_pendiente"]) == (
        50000,
        5000,
        45000,
        10000,
        35000,
    )
    assert out["estado_pago"] == "parcial" and out["estado_reserva"] == "pendiente"
    assert out["fecha_creacion"].endswith("-03:00") and out["comentarios"] == ""
    assert "/ventas/reserva/" in out["enlace_publico"]
    assert out["servicios"] == [
        {
            "id": order.service_lines[0].id,
            "servicio": {
                "id": s["calipso"].id,
                "nombre": "Tina Calipso",
                "tipo_servicio": "tina",
                "precio_base": 25000,
            },
            "fecha_agendamiento": "2026-03-02",
            "hora_inicio": "14:00",
            "cantidad_personas": 2,
            "proveedor_asignado": None,
            "precio_unitario": 25000,
            "regla_precio": "por_persona",
            "subtotal": 50000,
            "estado": "pendiente",
        }
    ]
    [pago] = out["pagos"]
    assert pago["monto"] == 10000 and pago["usuario"] == "recepcion" and pago["giftcard"] is None
    assert pago["estado"] == "valido" and pago["es_reembolso"] is False and pago["fecha_pago"].endswith("-03:00")
    assert out["descuentos_detalle"] == [
        {"id": order.discounts[0].id, "monto": 5000, "motivo": "cliente frecuente", "codigo": None}
    ]


def test_client_representation(make_client):
    client = make_client(
        name="María Pérez",
        phone="+56987654321",
        email="maria@example.com",
        city="Puerto Varas",
        birth_date=date(1990, 5, 1),
    )
    assert client_representation(client) == {
        "id": client.id,
        "nombre": "María Pérez",
        "telefono": "+56987654321",
        "email": "maria@example.com",
        "documento_identidad": None,
        "ciudad": "Puerto Varas",
        "pais": "Chile",
        "fecha_nacimiento": "1990-05-01",
    }


def test_list_rows_give_the_object_representation(booking_setup, make_user, make_client, make_product, api, db_session):
    """The list endpoints serialise plain rows; every field equals the ORM representation (api.md §4.2)."""
    from app.api.order_views import payment_representation
    from app.sales import edit_services as editing
    from app.sales import giftcard_services as giftcards
    from app.sales.models import Order, Payment, ServiceLine
    from app.sales.representation import payment_summary, product_line_representation, service_line_representation

    s = booking_setup
    recepcion, gerente = make_user("recepcion", username="recepcion"), make_user("gerente")
    owner = make_client(name="María Pérez", phone="+56987654321")
    rich = checkout_services.place_order(
        lines=[
            sales_services.LineRequest(service_id=s["calipso"].id, day=date(2026, 3, 2), hhmm="14:00", people=2),
            sales_services.LineRequest(
                service_id=s["relajacion"].id, day=date(2026, 3, 2), hhmm="13:00", people=1, provider_id=s["ana"].id
            ),
        ],
        data=checkout_services.CheckoutData(telefono=owner.phone, nombre=owner.name, comentarios="ventana"),
        origin="api",
        staff=True,
    )
    editing.add_product_line(rich, product_id=make_product(name="Espumante").id, quantity=2, by=recepcion)
    discount_services.apply_code(rich, "AREMKO15", by=recepcion)
    voided = discount_services.apply_discount(rich, amount=1000, reason="error", by=gerente)
    discount_services.void_discount(voided, by=gerente)
    discount_services.apply_discount(rich, amount=2000, reason="cliente frecuente", by=gerente)
    record_payment(rich, amount=10000, method="efectivo", by=recepcion)
    card = giftcards.issue_gift_card(amount=50000, by=recepcion)
    record_payment(rich, amount=5000, method="giftcard", gift_card_code=card.code)
    bare = checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=s["grande"].id, day=date(2026, 3, 2), hhmm="19:00", people=2)],
        data=checkout_services.CheckoutData(telefono="+56911112222", nombre="Juan"),
        origin="recepcion",
        staff=True,
    )
    db_session.commit()
    http = api("gerente")
    orders = http.get("/ventas/api/ventasreservas/?page_size=10").json["results"]
    db_session.expire_all()
    assert orders == [order_representation(db_session.get(Order, o.id)) for o in (bare, rich)]
    assert [len(orders[1][k]) for k in ("servicios", "productos", "pagos", "descuentos_detalle")] == [2, 1, 2, 2]
    # same keys in the same order (the NDJSON export keeps dict order), and the keyset page reads the same rows
    assert [list(o) for o in orders] == [ORDER_KEYS, ORDER_KEYS]
    assert list(orders[1]["servicios"][0]) == list(service_line_representation(rich.service_lines[0]))
    assert list(orders[1]["pagos"][0]) == list(payment_summary(rich.payments[0]))
    assert http.get("/ventas/api/ventasreservas/?cursor=&page_size=10").json["results"] == orders
    lines = http.get("/ventas/api/reservaservicios/?page_size=10").json["results"]
    assert lines == [
        service_line_representation(line, with_order=True)
        for line in db_session.scalars(sa.select(ServiceLine).order_by(ServiceLine.id))
    ]
    payments = http.get("/ventas/api/pagos/?page_size=10").json["results"]
    assert payments == [payment_representation(p) for p in db_session.scalars(sa.select(Payment).order_by(Payment.id))]
    assert [list(p) for p in payments] == [list(payment_representation(rich.payments[0]))] * 2
    assert payments[1]["giftcard"] == card.code and payments[0]["usuario"] == "recepcion"
    assert http.get("/ventas/api/pagos/?usuario=recepcion").json["results"] == payments[:1]
    products = http.get("/ventas/api/reservaproductos/").json["results"]
    assert products == [product_line_representation(line) for line in rich.product_lines]
    assert http.get(f"/ventas/api/ventasreservas/?cliente={owner.id}").json["results"] == orders[1:]


def test_order_token_maker_signs_like_order_token(app):
    """The page's token signer (key derived once, one-shot HMAC) gives order_token's tokens."""
    from app.core.signing import order_id_from_token, order_token, order_token_maker

    with app.test_request_context():
        token = order_token_maker()
        for order_id in (0, 1, 9, 10, 12345, 99999, 100000, 2**31 - 1, 2**31, 10**12):
            assert token(order_id) == order_token(order_id)
            assert order_id_from_token(token(order_id)) == order_id


def test_client_rows_give_the_object_representation(api, make_client, db_session):
    """The rows of the `clientes` list and export (one generated function per resource) equal `serialize` of the
    objects, key order included, and the export's lines are the JSON encoder's."""
    import json

    from app.api.client_views import CLIENTS
    from app.clients.models import Client

    make_client(name='Ñandú "Pérez" \\ 😀', email="n@example.com", city="Frutillar", birth_date=date(1990, 5, 1))
    make_client(name="Juan")
    db_session.commit()
    http = api("gerente")
    listed = http.get("/ventas/api/clientes/?page_size=10").json["results"]
    assert len(listed) == 2
    objects = [CLIENTS.serialize(db_session.get(Client, item["id"])) for item in listed]
    assert listed == objects and [list(item) for item in listed] == [list(obj) for obj in objects]
    exported = http.get("/ventas/api/clientes/export.ndjson").get_data(as_text=True)
    assert exported == "".join(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n" for obj in objects)
