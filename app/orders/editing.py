"""Adding and changing lines of an existing order, and its editable header fields (spec api.md §4.1).

Capacity is re-checked under the booking locks (staff mode), stock moves under the product row lock, totals are
recalculated and every change is audited. Services flush, never commit.
"""

from __future__ import annotations

from datetime import date, datetime

from app.catalog.models import Product
from app.catalog.policy import line_price
from app.catalog.services import change_stock
from app.clients.services import record_event
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.extensions import db
from app.orders.models import Order, ProductLine, ServiceLine
from app.orders.services import LineRequest, SlotUnavailable, check_line, line_label, lock_services, recalculate_order

ORDER_FIELD_LABELS = {"comments": "comentarios", "fiscal_document_number": "documento fiscal", "charged": "cobrado",
                      "sold_at": "fecha de venta"}


def _check_open(order: Order) -> None:
    if order.is_cancelled:
        raise ValidationError("La venta está cancelada.")


def add_service_line(order: Order, *, service_id: int, day: date, hhmm: str, people: int,
                     provider_id: int | None = None, by) -> ServiceLine:
    """Book one more service on the order (staff-mode availability, price snapshot); flushes.

    Raises ValidationError (cancelled order, unknown service, people out of bounds) or SlotUnavailable.
    """
    _check_open(order)
    service = lock_services([service_id]).get(service_id)
    if service is None:
        raise ValidationError("Servicio no encontrado.", field="servicio_id")
    if not service.min_people <= people <= service.max_people:
        raise ValidationError(f"Personas: entre {service.min_people} y {service.max_people}.",
                              field="cantidad_personas")
    req = LineRequest(service_id=service.id, day=day, hhmm=hhmm, people=people, provider_id=provider_id)
    entry, assigned = check_line(service, req, staff=True)
    label = line_label(service.name, day, hhmm)
    if not entry.reservable:
        raise SlotUnavailable([(label, entry)], message=f"{label}: {entry.mensaje or 'no disponible'}.")
    line = ServiceLine(order_id=order.id, service_id=service.id, service_date=day, start_time=hhmm, people=people,
                       provider_id=assigned, unit_price=service.base_price, pricing_rule=service.pricing_rule,
                       subtotal=line_price(service.base_price, service.pricing_rule, people),
                       created_by_id=getattr(by, "id", None))
    db.session.add(line)
    db.session.flush()
    recalculate_order(order)
    record_event(order.client, "line_added", f"{label}, {people} persona{'s' if people != 1 else ''}, "
                 f"{format_clp(line.subtotal)}", by=by, order_id=order.id)
    return line


def add_product_line(order: Order, *, product_id: int, quantity: int, by, recipient_name: str | None = None,
                     recipient_email: str | None = None, message: str | None = None) -> ProductLine:
    """Sell a product on the order at its current price; stock checked and decremented under lock; flushes."""
    _check_open(order)
    if quantity < 1:
        raise ValidationError("La cantidad debe ser al menos 1.", field="cantidad")
    product = db.session.get(Product, product_id)
    if product is None or not product.is_active:
        raise ValidationError("Producto no disponible.", field="producto")
    line = ProductLine(order_id=order.id, product_id=product.id, quantity=quantity, unit_price=product.base_price,
                       subtotal=product.base_price * quantity, recipient_name=recipient_name,
                       recipient_email=recipient_email, message=message, created_by_id=getattr(by, "id", None))
    db.session.add(line)
    db.session.flush()
    change_stock(product, -quantity, reason="venta", by=by, order_id=order.id)
    recalculate_order(order)
    record_event(order.client, "line_added", f"{product.name} × {quantity}, {format_clp(line.subtotal)}", by=by,
                 order_id=order.id)
    return line


def _check_active(line: ProductLine) -> None:
    _check_open(line.order)
    if line.status != "activa":
        raise ValidationError("La línea está anulada.")


def change_product_quantity(line: ProductLine, *, quantity: int, by) -> ProductLine:
    """New quantity: the difference moves stock (checked under lock), subtotal from the line's price; flushes."""
    _check_active(line)
    if quantity < 1:
        raise ValidationError("La cantidad debe ser al menos 1.", field="cantidad")
    delta = quantity - line.quantity
    if delta:
        change_stock(line.product, -delta, reason="venta_editada", by=by, order_id=line.order_id)
        before = line.quantity
        line.quantity = quantity
        line.subtotal = line.unit_price * quantity
        recalculate_order(line.order)
        record_event(line.order.client, "line_updated", f"{line.product.name}: {before} → {quantity}, "
                     f"{format_clp(line.subtotal)}", by=by, order_id=line.order_id)
    return line


def void_product_line(line: ProductLine, *, by) -> ProductLine:
    """Void a product line (row kept as `anulada`) and restore its stock; flushes."""
    _check_active(line)
    line.status = "anulada"
    change_stock(line.product, line.quantity, reason="venta_anulada", by=by, order_id=line.order_id)
    recalculate_order(line.order)
    record_event(line.order.client, "line_removed", f"{line.product.name} × {line.quantity} anulado", by=by,
                 order_id=line.order_id)
    return line


def update_order_fields(order: Order, *, by, comments: str | None = ..., fiscal_document_number: str | None = ...,
                        charged: bool = ..., sold_at: datetime = ...) -> dict:
    """Change the editable header fields (`...` = unchanged); audit `order_updated`; flushes; returns changes."""
    changes = {}
    for attr, value in (("comments", comments), ("fiscal_document_number", fiscal_document_number),
                        ("charged", charged), ("sold_at", sold_at)):
        if value is ...:
            continue
        if isinstance(value, str):
            value = value.strip() or None
        if getattr(order, attr) != value:
            changes[attr] = value
            setattr(order, attr, value)
    if changes:
        db.session.flush()
        record_event(order.client, "order_updated",
                     "; ".join(f"{ORDER_FIELD_LABELS[k]}: {v if v is not None else '—'}" for k, v in changes.items()),
                     by=by, order_id=order.id)
    return changes


