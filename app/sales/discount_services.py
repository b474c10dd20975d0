"""Discount codes and staff discounts on an order (spec booking.md §7.3), under the order lock. Flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.clients.services import record_event
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp, require_positive
from app.extensions import db
from app.sales import locks
from app.sales.locks import lock_order
from app.sales.models import (
    Discount,
    DiscountCode,
    Order,
)
from app.sales.services import cfg, recalculate_order

# Tests switch this off to show that without the row lock concurrent checkouts oversell (negative control).
INVALID_CODE = "Código de descuento inválido o vencido."


# --- discount codes ------------------------------------------------------------------------------------------


def code_uses(code: DiscountCode) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Discount)
        .where(Discount.discount_code_id == code.id, Discount.status == "activo")
    )


def find_valid_code(raw: str, *, client_id: int | None, lock: bool = False) -> DiscountCode | None:
    """The usable code (active, in its dates, uses left, personal only for its client), else None.

    `lock` (applying it to an order): the code's row lock first (global lock order: after the products), then the
    uses are counted, so two orders never take the last use of a code together."""
    text = (raw or "").strip().upper()
    if not text:
        return None
    stmt = sa.select(DiscountCode).where(DiscountCode.code == text)
    if lock and locks.CODE_LOCKING_ENABLED:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    code = db.session.scalar(stmt)
    today = clock.today()
    if code is None or not code.is_active:
        return None
    if (code.valid_from and today < code.valid_from) or (code.valid_until and today > code.valid_until):
        return None
    if code.client_id is not None and client_id is not None and code.client_id != client_id:
        return None
    if code.max_uses is not None and code_uses(code) >= code.max_uses:
        return None
    return code


def apply_code(order: Order, raw: str, *, by=None) -> Discount:
    """Apply a discount code to an order (one code per order) under the order lock; recalculates; flushes."""
    order = lock_order(order)
    if order.discount_code_id is not None:
        raise ValidationError("La venta ya tiene un código de descuento.")
    code = find_valid_code(raw, client_id=order.client_id, lock=True)
    if code is None:
        raise ValidationError(INVALID_CODE, field="codigo")
    percent = code.value if code.kind == "porcentaje" else None
    amount = code.value if code.kind == "monto" else 0
    discount = Discount(
        order=order,
        amount=amount,
        percent=percent,
        discount_code_id=code.id,
        reason=f"Código {code.code}",
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(discount)
    order.discount_code_id = code.id
    db.session.flush()
    recalculate_order(order)
    label = f"{code.code} ({code.value} %)" if percent else code.code
    record_event(order.client, "discount_applied", f"{label} - {format_clp(discount.amount)}", by=by, order_id=order.id)
    return discount


def apply_discount(
    order: Order, *, amount: int | None = None, code: str | None = None, reason: str = "", by=None
) -> Discount:
    """A staff discount: a fixed amount with a reason, or a code (spec booking.md §7.3); recalculates; audit.

    Σ discounts ≤ subtotal; recepcion may give at most RECEPTION_MAX_DISCOUNT_PERCENT % of the subtotal in total.
    Both caps are checked against the totals read under the order lock.
    """
    order = lock_order(order)
    if order.is_cancelled:
        raise ValidationError("La venta está cancelada.")
    subtotal = order.services_total + order.products_total
    current = order.discount_total
    if code:
        discount = apply_code(order, code, by=by)
        added = discount.amount
    else:
        require_positive(amount)
        if len((reason or "").strip()) < 3:
            raise ValidationError("Indique el motivo (mínimo 3 caracteres).", field="motivo")
        added = amount
        discount = None
    if current + added > subtotal:
        raise ValidationError("El descuento no puede superar el total de la venta.", field="monto")
    max_pct = cfg("RECEPTION_MAX_DISCOUNT_PERCENT")
    if getattr(by, "role", None) == "recepcion" and (current + added) * 100 > subtotal * max_pct:
        raise ValidationError(f"Descuentos mayores al {max_pct} % requieren un gerente.", field="monto")
    if discount is None:
        discount = Discount(order=order, amount=amount, reason=reason.strip(), created_by_id=getattr(by, "id", None))
        db.session.add(discount)
        recalculate_order(order)
        record_event(
            order.client, "discount_applied", f"{reason.strip()} - {format_clp(amount)}", by=by, order_id=order.id
        )
    return discount


def void_discount(discount: Discount, *, by) -> Discount:
    """Void a discount (row kept); recepcion only its own; recalculates; audit `discount_voided`."""
    lock_order(discount.order_id, discount)
    if discount.status != "activo":
        raise ValidationError("El descuento ya está anulado.")
    if getattr(by, "role", None) == "recepcion" and discount.created_by_id != getattr(by, "id", None):
        raise ValidationError("Solo un gerente puede anular descuentos de otros usuarios.")
    order = discount.order
    discount.status = "anulado"
    discount.voided_at = clock.now()
    discount.voided_by_id = getattr(by, "id", None)
    if discount.discount_code_id is not None and order.discount_code_id == discount.discount_code_id:
        order.discount_code_id = None
    recalculate_order(order)
    record_event(
        order.client, "discount_voided", f"{discount.reason} - {format_clp(discount.amount)}", by=by, order_id=order.id
    )
    return discount
