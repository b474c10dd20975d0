"""Catalogue state changes: services, purchases and stock. Services flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Product, Provider, Purchase, PurchaseLine, Service, StockMovement
from app.catalog.policy import validate_slot_grid
from app.core import clock
from app.core.errors import ConflictError, InsufficientStock, ValidationError
from app.extensions import db


def save_service_grid(service: Service, grid: object) -> Service:
    """Validate and store a slot grid (never touches bookings); flushes; raises ValidationError."""
    service.slot_grid = validate_slot_grid(grid)
    db.session.flush()
    return service


# Tests switch this off to show that without the row lock concurrent sales oversell (negative control).
LOCKING_ENABLED = True


def lock_products(product_ids) -> dict[int, Product]:
    """SELECT … FOR NO KEY UPDATE the products in ascending id order (lock 4 of the global lock order,
    sales.locks), re-read: a transaction that changes the stock of several products takes them all here first,
    so two of them never wait for each other in a cycle. Returns {id: product} with current stock."""
    ids = sorted({pid for pid in product_ids if pid is not None})
    if not ids:
        return {}
    stmt = sa.select(Product).where(Product.id.in_(ids)).order_by(Product.id)
    if LOCKING_ENABLED:  # FOR NO KEY UPDATE: stock writers wait for each other, while inserting a line or a
        stmt = stmt.with_for_update(key_share=True)  # movement that references the product (KEY SHARE) does not
    # populate_existing: a product already loaded in this session (the line's, the form's) gets the stock read
    # under the lock, not the one read before it
    return {p.id: p for p in db.session.scalars(stmt.execution_options(populate_existing=True))}


def _locked_product(product_id: int) -> Product:
    product = lock_products([product_id]).get(product_id)
    if product is None:
        raise ValidationError("Producto no encontrado.", field="product_id")
    return product


def change_stock(
    product: Product, delta: int, *, reason: str, by=None, purchase_id=None, order_id=None, note=None
) -> StockMovement | None:
    """Apply a signed stock change under the product row lock and record it; flushes.

    Raises ConflictError when stock would go negative. Gift-card products never track stock.
    """
    if product.is_gift_card or delta == 0:
        return None
    locked = _locked_product(product.id)
    if locked.stock + delta < 0:
        if reason.startswith("compra"):
            raise ConflictError("No se puede eliminar: el stock quedaría negativo.")
        raise InsufficientStock(f"Stock insuficiente para {locked.name}: disponible {locked.stock}.")
    locked.stock += delta
    movement = StockMovement(
        product_id=locked.id,
        delta=delta,
        reason=reason,
        note=note,
        purchase_id=purchase_id,
        order_id=order_id,
        user_id=getattr(by, "id", None),
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def adjust_stock(product: Product, delta: int, *, note: str, by) -> StockMovement | None:
    """Manual stock correction (gerente/admin) with a written reason; flushes."""
    if not (note or "").strip():
        raise ValidationError("Indique el motivo del ajuste.", field="note")
    return change_stock(product, delta, reason="ajuste", note=note.strip(), by=by)


def _check_quantity_price(quantity: int, unit_price: int) -> None:
    if quantity < 1:
        raise ValidationError("La cantidad debe ser al menos 1.", field="quantity")
    if unit_price < 0:
        raise ValidationError("El precio unitario no puede ser negativo.", field="unit_price")


def _line_values(line: dict) -> dict:
    quantity = int(line.get("quantity") or 0)
    unit_price = int(line.get("unit_price") or 0)
    _check_quantity_price(quantity, unit_price)
    product = db.session.get(Product, line["product_id"]) if line.get("product_id") else None
    description = (line.get("description") or "").strip() or (product.name if product else "")
    if not description:
        raise ValidationError("La descripción es obligatoria.", field="description")
    return {
        "product": product,
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "subtotal": quantity * unit_price,
    }


def _recalculate(purchase: Purchase) -> None:
    purchase.total = sum(line.subtotal for line in purchase.lines)


def create_purchase(
    *,
    lines: list[dict],
    by,
    purchase_date=None,
    provider_id=None,
    payment_method=None,
    document_number=None,
    notes=None,
) -> Purchase:
    """Record a purchase; every product line raises stock in the same transaction; flushes."""
    if not lines:
        raise ValidationError("La compra debe tener al menos una línea.")
    lock_products(raw.get("product_id") for raw in lines if isinstance(raw.get("product_id"), int))
    purchase = Purchase(
        purchase_date=purchase_date or clock.today(),
        provider_id=provider_id,
        payment_method=payment_method,
        document_number=document_number,
        notes=notes,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(purchase)
    db.session.flush()
    for raw in lines:
        add_purchase_line(purchase, raw, by=by)
    return purchase


def add_purchase_line(purchase: Purchase, raw: dict, *, by) -> PurchaseLine:
    """Add a line to a purchase; product lines add stock; flushes."""
    values = _line_values(raw)
    product = values.pop("product")
    line = PurchaseLine(purchase=purchase, product_id=product.id if product else None, **values)
    db.session.add(line)
    db.session.flush()
    if product is not None:
        reason = "compra" if raw.get("_new_purchase", True) else "compra_editada"
        change_stock(product, line.quantity, reason=reason, by=by, purchase_id=purchase.id)
    _recalculate(purchase)
    db.session.flush()
    return line


def update_purchase_line(line: PurchaseLine, *, quantity: int, unit_price: int, by) -> PurchaseLine:
    """Change quantity/price of a line; stock follows the quantity delta; flushes."""
    _check_quantity_price(quantity, unit_price)
    if line.product_id is not None:  # the product's lock serializes edits of its lines; then re-read the line
        lock_products([line.product_id])
        db.session.refresh(line)
    delta = quantity - line.quantity
    if line.product is not None and delta:
        change_stock(line.product, delta, reason="compra_editada", by=by, purchase_id=line.purchase_id)
    line.quantity = quantity
    line.unit_price = unit_price
    line.subtotal = quantity * unit_price
    _recalculate(line.purchase)
    db.session.flush()
    return line


def delete_purchase_line(line: PurchaseLine, *, by) -> None:
    """Remove a line and subtract its stock; refused if stock would go negative; flushes."""
    if line.product_id is not None:
        lock_products([line.product_id])
        db.session.refresh(line)
    purchase = line.purchase
    if line.product is not None:
        change_stock(line.product, -line.quantity, reason="compra_eliminada", by=by, purchase_id=purchase.id)
    purchase.lines.remove(line)
    db.session.flush()
    _recalculate(purchase)
    db.session.flush()


def delete_purchase(purchase: Purchase, *, by) -> None:
    """Delete a purchase, subtracting all its stock first (all or nothing); flushes."""
    lock_products(line.product_id for line in purchase.lines)
    for line in list(purchase.lines):
        delete_purchase_line(line, by=by)
    db.session.delete(purchase)
    db.session.flush()


def _purchase_header(*, purchase_date, provider_id, payment_method, document_number, notes) -> dict:
    if provider_id is not None and db.session.get(Provider, provider_id) is None:
        raise ValidationError("Elija un proveedor de la lista.", field="proveedor_id")
    if purchase_date is not None and purchase_date > clock.today():
        raise ValidationError("La fecha de compra no puede ser futura.", field="fecha_compra")
    document = (document_number or "").strip() or None
    if document and len(document) > 50:
        raise ValidationError("El N° de documento admite hasta 50 caracteres.", field="numero_documento")
    return {
        "purchase_date": purchase_date or clock.today(),
        "provider_id": provider_id,
        "payment_method": payment_method or None,
        "document_number": document,
        "notes": (notes or "").strip() or None,
    }


def save_purchase(purchase: Purchase | None, *, header: dict, lines: list[dict], by) -> Purchase:
    """The purchase screens' one call (spec catalog.md §1.6): create a purchase, or apply an edited one — header
    fields, lines kept (quantity, price and description changed; stock follows), lines removed (stock subtracted,
    refused if it would go negative) and lines added. `lines`: dicts with `id` (an existing line of this purchase,
    or None), `product_id`, `description`, `quantity`, `unit_price`. All or nothing: a refusal rolls back with the
    request. Flushes."""
    values = _purchase_header(**header)
    if not lines:
        raise ValidationError("La compra debe tener al menos una línea.")
    if purchase is None:
        return create_purchase(lines=lines, by=by, **values)
    existing = {line.id: line for line in purchase.lines}
    kept = {raw["id"] for raw in lines if raw.get("id")}
    if kept - existing.keys():
        raise ValidationError("Una de las líneas ya no pertenece a esta compra; recargue la página.")
    for key, value in values.items():
        setattr(purchase, key, value)
    for line_id, line in existing.items():
        if line_id not in kept:
            delete_purchase_line(line, by=by)
    for raw in lines:
        if raw.get("id"):
            line = existing[raw["id"]]
            update_purchase_line(
                line, quantity=int(raw.get("quantity") or 0), unit_price=int(raw.get("unit_price") or 0), by=by
            )
            line.description = (raw.get("description") or "").strip() or line.description
        else:
            add_purchase_line(purchase, {**raw, "_new_purchase": False}, by=by)
    _recalculate(purchase)
    db.session.flush()
    return purchase
