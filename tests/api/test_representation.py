"""The shared serializers: order (api.md §4.2) and client (api.md §5.2) objects."""

from __future__ import annotations

from datetime import date

from app.clients.representation import client_representation
from app.orders import services as booking
from app.orders.representation import order_representation
from app.payments.services import record_payment

ORDER_KEYS = ["id", "cliente", "cliente_nombre", "fecha_creacion", "fecha_reserva", "origen", "estado_pago",
              "estado_reserva", "total_servicios", "total_productos", "descuentos", "total", "pagado",
              "saldo_pendiente", "saldo_a_favor", "requiere_reembolso", "comentarios", "numero_documento_fiscal",
              "cobrado", "enlace_publico", "servicios", "productos", "pagos", "descuentos_detalle"]


def test_order_representation_matches_the_spec(booking_setup, make_user):
    s = booking_setup
    recepcion = make_user("recepcion", username="recepcion")
    order = booking.place_order(
        lines=[booking.LineRequest(service_id=s["calipso"].id, day=date(2026, 3, 2), hhmm="14:00", people=2)],
        data=booking.CheckoutData(telefono="+56987654321", nombre="María Pérez"), origin="api", staff=True)
    booking.apply_discount(order, amount=5000, reason="cliente frecuente", by=make_user("gerente"))
    record_payment(order, amount=10000, method="efectivo", by=recepcion)
    out = order_representation(order)
    assert list(out) == ORDER_KEYS
    assert out["cliente_nombre"] == "María Pérez" and out["origen"] == "api"
    assert (out["total_servicios"], out["descuentos"], out["total"], out["pagado"], out["saldo_pendiente"]) == (
        50000, 5000, 45000, 10000, 35000)
    assert out["estado_pago"] == "parcial" and out["estado_reserva"] == "pendiente"
    assert out["fecha_creacion"].endswith("-03:00") and out["comentarios"] == ""
    assert "/ventas/reserva/" in out["enlace_publico"]
    assert out["servicios"] == [{
        "id": order.service_lines[0].id,
        "servicio": {"id": s["calipso"].id, "nombre": "Tina Calipso", "tipo_servicio": "tina", "precio_base": 25000},
        "fecha_agendamiento": "2026-03-02", "hora_inicio": "14:00", "cantidad_personas": 2,
        "proveedor_asignado": None, "precio_unitario": 25000, "regla_precio": "por_persona", "subtotal": 50000,
        "estado": "pendiente"}]
    [pago] = out["pagos"]
    assert pago["monto"] == 10000 and pago["usuario"] == "recepcion" and pago["giftcard"] is None
    assert pago["estado"] == "valido" and pago["es_reembolso"] is False and pago["fecha_pago"].endswith("-03:00")
    assert out["descuentos_detalle"] == [{"id": order.discounts[0].id, "monto": 5000, "motivo": "cliente frecuente",
                                          "codigo": None}]


def test_client_representation(make_client):
    client = make_client(name="María Pérez", phone="+56987654321", email="maria@example.com", city="Puerto Varas",
                         birth_date=date(1990, 5, 1))
    assert client_representation(client) == {
        "id": client.id, "nombre": "María Pérez", "telefono": "+56987654321", "email": "maria@example.com",
        "documento_identidad": None, "ciudad": "Puerto Varas", "pais": "Chile", "fecha_nacimiento": "1990-05-01"}
