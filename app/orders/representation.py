"""The JSON order representation (spec api.md §4.2): the `ventasreservas` resource and webhook payloads.

Callers that serialise many orders load them with `order_load_options()` so the number of statements does not
depend on the number of orders.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import joinedload, selectinload

from app.core import clock
from app.orders.models import Discount, Order, ProductLine, ServiceLine


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with the America/Santiago offset (spec api.md §2)."""
    return clock.to_local(value).isoformat(timespec="seconds") if value is not None else None


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_load_options() -> list:
    """Eager loads for order_representation: a constant number of statements per page of orders."""
    from app.payments.models import Payment

    return [
        joinedload(Order.client),  # many-to-one: joined, one round trip less
        selectinload(Order.service_lines).selectinload(ServiceLine.service),
        selectinload(Order.product_lines),
        selectinload(Order.payments).selectinload(Payment.recorded_by),
        selectinload(Order.payments).selectinload(Payment.gift_card),
        selectinload(Order.discounts).selectinload(Discount.code),
    ]


def service_line_representation(line: ServiceLine, *, with_order: bool = False) -> dict:
    service = line.service
    out = {"id": line.id}
    if with_order:
        out["venta_reserva"] = line.order_id
    out.update({
        "servicio": {"id": service.id, "nombre": service.name, "tipo_servicio": service.service_type,
                     "precio_base": service.base_price},
        "fecha_agendamiento": iso_date(line.service_date),
        "hora_inicio": line.start_time,
        "cantidad_personas": line.people,
        "proveedor_asignado": line.provider_id,
        "precio_unitario": line.unit_price,
        "regla_precio": line.pricing_rule,
        "subtotal": line.subtotal,
        "estado": line.status,
    })
    return out


def product_line_representation(line: ProductLine) -> dict:
    return {
        "id": line.id,
        "venta_reserva": line.order_id,
        "producto": line.product_id,
        "cantidad": line.quantity,
        "precio_unitario": line.unit_price,
        "subtotal": line.subtotal,
        "estado": line.status,
        "destinatario_nombre": line.recipient_name,
        "destinatario_email": line.recipient_email,
        "mensaje": line.message,
    }


def payment_summary(payment) -> dict:
    """A payment inside the order representation (the `pagos` resource adds its own fields)."""
    return {
        "id": payment.id,
        "fecha_pago": iso_datetime(payment.paid_at),
        "monto": payment.amount,
        "metodo_pago": payment.method,
        "usuario": payment.recorded_by.username if payment.recorded_by else None,
        "giftcard": payment.gift_card.code if payment.gift_card else None,
        "es_reembolso": payment.is_refund,
        "estado": payment.status,
    }


def order_representation(order: Order) -> dict:
    """The order as api.md §4.2 shows it: totals in integer CLP, lines, payments and active discounts."""
    from app.core.signing import order_token
    from app.web.urls import public_url

    return {
        "id": order.id,
        "cliente": order.client_id,
        "cliente_nombre": order.client.name if order.client else None,
        "fecha_creacion": iso_datetime(order.created_at),
        "fecha_reserva": iso_datetime(order.sold_at),
        "origen": order.origin,
        "estado_pago": order.payment_status,
        "estado_reserva": order.booking_status,
        "total_servicios": order.services_total,
        "total_productos": order.products_total,
        "descuentos": order.discount_total,
        "total": order.total,
        "pagado": order.paid,
        "saldo_pendiente": order.balance_due,
        "saldo_a_favor": order.credit,
        "requiere_reembolso": order.requires_refund,
        "comentarios": order.comments or "",
        "numero_documento_fiscal": order.fiscal_document_number,
        "cobrado": order.charged,
        "enlace_publico": public_url("shop.order_page", token=order_token(order.id)),
        "servicios": [service_line_representation(line) for line in order.service_lines],
        "productos": [product_line_representation(line) for line in order.product_lines],
        "pagos": [payment_summary(p) for p in order.payments],
        "descuentos_detalle": [
            {"id": d.id, "monto": d.amount, "motivo": d.reason, "codigo": d.code.code if d.code else None}
            for d in order.discounts if d.status == "activo"
        ],
    }
