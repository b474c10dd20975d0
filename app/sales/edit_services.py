"""Staff changes to an existing order (spec booking.md §9): add a service line, add/change/void a product line,
edit the order's own fields. Same locks and availability rules as checkout; flushes, never commits."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from app.catalog.models import Product
from app.catalog.policy import line_price
from app.catalog.services import change_stock
from app.clients.services import record_event
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.extensions import db
from app.sales import signals
from app.sales.line_services import _check_may_cancel_order
from app.sales.locks import lock_order, lock_services
from app.sales.models import GiftCard, Order, ProductLine, ServiceLine
from app.sales.representation import order_representation
from app.sales.services import LineRequest, cancel_order, check_line, line_label, recalculate_order, slot_unavailable
from app.webhooks.event_services import emit_event

MAX_QUANTITY = 99


def _check_open(order: Order) -> None:
    if order.is_cancelled:
        raise ValidationError("La venta está cancelada: no se pueden agregar ni modificar líneas.")


def add_service_line(order: Order, req: LineRequest, *, by) -> ServiceLine:
    """A new service line priced from the catalogue now, checked in staff mode under the booking locks (taken after
    the order lock: global lock order)."""
    order = lock_order(order)
    _check_open(order)
    service = lock_services([(req.service_id, req.day)]).get(req.service_id)
    if service is None or not service.is_active:
        raise ValidationError("Servicio no encontrado.", field="servicio")
    label = line_label(service.name, req.day, req.hhmm)
    entry, provider_id = check_line(service, req, staff=True)
    if not entry.reservable:
        raise slot_unavailable(label, entry)
    line = ServiceLine(
        order_id=order.id,
        service_id=service.id,
        service_date=req.day,
        start_time=req.hhmm,
        people=req.people,
        provider_id=provider_id,
        unit_price=service.base_price,
        pricing_rule=service.pricing_rule,
        subtotal=line_price(service.base_price, service.pricing_rule, req.people),
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(line)
    db.session.flush()
    db.session.refresh(order, ["service_lines"])
    recalculate_order(order)
    record_event(
        order.client,
        "line_added",
        f"{label}, {req.people} persona{'s' if req.people != 1 else ''}, {format_clp(line.subtotal)}",
        by=by,
        order_id=order.id,
    )
    signals.line_added.send(line, by=by)  # communications.md §4.1: a confirmation listing every line
    emit_event("booking.created", lambda: {"venta_reserva": order_representation(order)})
    return line


def _quantity(raw: int) -> int:
    if not 1 <= raw <= MAX_QUANTITY:
        raise ValidationError(f"La cantidad debe estar entre 1 y {MAX_QUANTITY}.", field="cantidad")
    return raw


def add_product_line(order: Order, *, product_id: int, quantity: int, by) -> ProductLine:
    """A product sold at the desk (stock taken under the product lock, after the order lock); gift cards are sold
    from Gift cards."""
    order = lock_order(order)
    _check_open(order)
    product = db.session.get(Product, product_id)
    if product is None or not product.is_active:
        raise ValidationError("Producto no encontrado.", field="producto")
    if product.is_gift_card:
        raise ValidationError(
            "Las gift cards se venden desde «Gift cards › Vender gift card», que registra su pago.", field="producto"
        )
    quantity = _quantity(quantity)
    line = ProductLine(
        order_id=order.id,
        product_id=product.id,
        quantity=quantity,
        unit_price=product.base_price,
        subtotal=product.base_price * quantity,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(line)
    db.session.flush()
    change_stock(product, -quantity, reason="venta", by=by, order_id=order.id)
    db.session.refresh(order, ["product_lines"])
    recalculate_order(order)
    record_event(
        order.client,
        "line_added",
        f"{product.name} × {quantity}, {format_clp(line.subtotal)}",
        by=by,
        order_id=order.id,
    )
    return line


def _check_product_line(line: ProductLine) -> None:
    """Takes the order lock and re-reads the line, then checks it may still change."""
    lock_order(line.order_id, line)
    _check_open(line.order)
    if line.status != "activa":
        raise ValidationError("La línea ya está anulada.")

    if db.session.scalar(sa.select(sa.exists().where(GiftCard.order_line_id == line.id))):
        raise ValidationError("La gift card de esta línea ya fue emitida: anúlela desde Gift cards.")


def change_product_quantity(line: ProductLine, *, quantity: int, by) -> ProductLine:
    """New quantity; the difference is taken from or returned to stock; price snapshot kept."""
    _check_product_line(line)
    quantity = _quantity(quantity)
    before = line.quantity
    if quantity == before:
        return line
    change_stock(
        line.product,
        before - quantity,
        reason="venta" if quantity > before else "venta_anulada",
        by=by,
        order_id=line.order_id,
    )
    line.quantity = quantity
    line.subtotal = line.unit_price * quantity
    recalculate_order(line.order)
    record_event(
        line.order.client,
        "line_updated",
        f"{line.product.name}: {before} → {quantity}, {format_clp(line.subtotal)}",
        by=by,
        order_id=line.order_id,
    )
    return line


def void_product_line(line: ProductLine, *, by, restock: bool = True) -> ProductLine:
    """Void a product line (stock back unless told not to); the last active line cancels the order."""
    _check_product_line(line)
    order = line.order
    last = not any(ln.status != "cancelada" for ln in order.service_lines) and not any(
        pl.status == "activa" and pl.id != line.id for pl in order.product_lines
    )
    if last:
        _check_may_cancel_order(order, by)
    record_event(order.client, "line_removed", f"{line.product.name} × {line.quantity}", by=by, order_id=order.id)
    if last:
        cancel_order(order, reason="Sin líneas activas", by=by, restock=restock)
        return line
    line.status = "anulada"
    if restock:
        change_stock(line.product, line.quantity, reason="venta_anulada", by=by, order_id=order.id)
    recalculate_order(order)
    return line


def _to_minute(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(second=0, microsecond=0)


EDITABLE = {
    "comments": "Comentarios",
    "fiscal_document_number": "Documento fiscal",
    "charged": "Cobrado",
    "sold_at": "Fecha venta",
}


def edit_order(
    order: Order,
    *,
    comments: str | None,
    fiscal_document_number: str | None,
    charged: bool,
    sold_at: datetime | None,
    by,
) -> Order:
    """Comments, fiscal document number, cobrado and the sale date (fecha_reserva, gerente/admin only)."""
    order = lock_order(order)
    if sold_at is not None and _to_minute(sold_at) == _to_minute(order.sold_at):
        sold_at = None  # the form shows minutes: same minute = unchanged
    if sold_at is not None and getattr(by, "role", None) not in ("gerente", "admin"):
        raise ValidationError("Solo un gerente puede cambiar la fecha de venta.", field="fecha_reserva")
    fiscal = (fiscal_document_number or "").strip() or None
    if fiscal and len(fiscal) > 50:
        raise ValidationError("Documento fiscal: máximo 50 caracteres.", field="documento_fiscal")
    new = {
        "comments": (comments or "").strip() or None,
        "fiscal_document_number": fiscal,
        "charged": charged,
        "sold_at": sold_at or order.sold_at,
    }
    changed = [field for field, value in new.items() if getattr(order, field) != value]
    if not changed:
        return order
    for field in changed:
        setattr(order, field, new[field])
    db.session.flush()
    record_event(
        order.client,
        "order_updated",
        "Modificado: " + ", ".join(EDITABLE[f] for f in changed),
        by=by,
        order_id=order.id,
    )
    return order
