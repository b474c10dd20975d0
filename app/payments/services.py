"""Money in: payments and their effect on order totals. Services flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.extensions import db
from app.orders.models import Order
from app.orders.services import recalculate_order
from app.payments.models import Payment, PaymentMethod

# (code, label, public, counts as cash) — spec booking.md §7.1
PAYMENT_METHODS = [
    ("efectivo", "Efectivo", False, True),
    ("tarjeta", "Tarjeta débito/crédito", False, True),
    ("transferencia", "Transferencia bancaria", True, True),
    ("webpay", "Webpay", False, True),
    ("flow", "Flow", True, True),
    ("mercadopago", "Mercado Pago", False, True),
    ("scotiabank", "Transferencia Scotiabank", False, True),
    ("bancoestado", "Transferencia BancoEstado", False, True),
    ("cuentarut", "CuentaRUT", False, True),
    ("giftcard", "Gift Card", False, False),
]


def ensure_payment_methods() -> int:
    """Insert the seeded payment methods that are missing (by code); flushes; returns how many were created."""
    existing = set(db.session.scalars(sa.select(PaymentMethod.code)))
    created = 0
    for order, (code, label, public, cash) in enumerate(PAYMENT_METHODS, start=1):
        if code not in existing:
            db.session.add(PaymentMethod(code=code, label=label, is_public=public, counts_as_cash=cash,
                                         sort_order=order))
            created += 1
    db.session.flush()
    return created


def record_payment(order: Order, *, amount: int, method: str, by=None, reference: str | None = None,
                   flow_transaction_id: int | None = None, allow_credit: bool = False,
                   allow_cancelled: bool = False) -> Payment:
    """Record money received for an order and recalculate it; flushes.

    Raises ValidationError for a non-positive amount, an inactive method, a cancelled order or an amount above
    the balance without `allow_credit` ("Confirmo saldo a favor").
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("El monto debe ser un número entero mayor que cero.", field="monto")
    pm = db.session.scalar(sa.select(PaymentMethod).where(PaymentMethod.code == method))
    if pm is None or not pm.is_active:
        raise ValidationError("Método de pago no disponible.", field="metodo_pago")
    if order.is_cancelled and not allow_cancelled:
        raise ValidationError("La venta está cancelada.")
    if amount > order.balance_due and not allow_credit:
        raise ValidationError(f"El monto supera el saldo pendiente ({format_clp(order.balance_due)}).",
                              field="monto")
    was_paid = order.payment_status == "pagado"
    payment = Payment(order_id=order.id, amount=amount, method=pm.code, recorded_by_id=getattr(by, "id", None),
                      reference=reference, flow_transaction_id=flow_transaction_id, paid_at=clock.now())
    db.session.add(payment)
    db.session.flush()
    recalculate_order(order)
    from app.clients.services import record_event

    record_event(order.client, "payment_recorded", f"Pago registrado - {pm.code} - {format_clp(amount)}", by=by,
                 order_id=order.id)
    payment.just_paid = not was_paid and order.payment_status == "pagado"
    return payment
