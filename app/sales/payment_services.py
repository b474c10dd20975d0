"""Money in: payments and their effect on order totals. Services flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.clients.services import record_event
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp, require_positive
from app.extensions import db
from app.sales import giftcard_services as giftcards
from app.sales import signals
from app.sales.cash_queries import closed_close
from app.sales.locks import lock_cash_day, lock_order
from app.sales.models import Order, Payment, PaymentMethod
from app.sales.policy_queries import deposit_info
from app.sales.representation import order_representation
from app.sales.services import recalculate_order
from app.webhooks.event_services import emit_event, giftcard_datos

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
            db.session.add(
                PaymentMethod(code=code, label=label, is_public=public, counts_as_cash=cash, sort_order=order)
            )
            created += 1
    db.session.flush()
    return created


PRIVILEGED_ROLES = ("gerente", "admin")


def is_privileged(by) -> bool:
    """gerente, admin and the `sistema` actor (Flow, jobs) may record money on a closed day."""
    return by is None or getattr(by, "role", None) in PRIVILEGED_ROLES or getattr(by, "is_system", False)


def _closed_day_check(day, by) -> bool:
    """True when `day` is closed and `by` may still act (the row is flagged "posterior al cierre").
    Takes the day's shared cash lock first, so a close in progress is waited for and seen."""
    lock_cash_day(day, shared=True)
    if closed_close(day) is None:
        return False
    if not is_privileged(by):
        raise ValidationError(f"La caja del {day:%d/%m/%Y} está cerrada.")
    return True


def record_payment(
    order: Order,
    *,
    amount: int,
    method: str,
    by=None,
    reference: str | None = None,
    gift_card_code: str | None = None,
    flow_transaction_id: int | None = None,
    allow_credit: bool = False,
    allow_cancelled: bool = False,
) -> Payment:
    """Record money received for an order and recalculate it; flushes (spec booking.md §7.2, §8.3).

    Raises ValidationError for a non-positive amount, an inactive method, a cancelled order, a closed cash day
    (recepcion), an amount above the balance without `allow_credit` ("Confirmo saldo a favor"); for method
    `giftcard` the card is locked and checked, and the amount may not exceed the balance.
    """

    require_positive(amount)
    pm = _usable_method(method)
    order = lock_order(order)  # before reading the balance (global lock order: order, cash day, gift card)
    if order.is_cancelled and not allow_cancelled:
        raise ValidationError("La venta está cancelada.")
    now = clock.now()
    after_close = _closed_day_check(clock.to_local(now).date(), by)
    card = None
    if pm.code == "giftcard":
        card = _redeemable_card(order, amount, gift_card_code)
    elif amount > order.balance_due and not allow_credit:
        raise ValidationError(f"El monto supera el saldo pendiente ({format_clp(order.balance_due)}).", field="monto")
    was_paid = order.payment_status == "pagado"
    paid_before = order.paid
    payment = Payment(
        order_id=order.id,
        amount=amount,
        method=pm.code,
        recorded_by_id=getattr(by, "id", None),
        reference=reference,
        flow_transaction_id=flow_transaction_id,
        paid_at=now,
        gift_card_id=card.id if card else None,
        after_close=after_close,
    )
    db.session.add(payment)
    db.session.flush()
    if card is not None:
        giftcards.add_entry(card, amount=-amount, kind="redencion", by=by, payment_id=payment.id)
    recalculate_order(order)
    _announce_payment(order, payment, card, by=by)
    payment.just_paid = not was_paid and order.payment_status == "pagado"
    if payment.just_paid:
        giftcards.issue_cards_for_paid_order(order, by=by)
        signals.order_paid.send(order, by=by)
        emit_event("order.paid", lambda: {"venta_reserva": order_representation(order)})
    else:
        deposit = deposit_info(order)
        if deposit and paid_before < deposit["amount"] <= order.paid:  # the deposit confirms the booking
            signals.deposit_paid.send(order, by=by)
    return payment


def _refund_to_gift_card(order: Order, payment: Payment, amount: int, *, by, expires_on=None):
    """A refund by gift card credits back the card the order was last paid with (unless voided), else issues a new
    card (origin `reembolso`) to the client."""
    used = db.session.scalar(
        sa.select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.status == "valido",
            Payment.gift_card_id.is_not(None),
            Payment.amount > 0,
        )
        .order_by(Payment.id.desc())
    )
    if used is not None and used.gift_card.status != "anulada":
        giftcards.reverse_redemption(
            used.gift_card,
            amount=amount,
            by=by,
            payment_id=payment.id,
            reason=f"Reembolso venta #{order.id}",
            order=order,
        )
        return used.gift_card
    return giftcards.issue_gift_card(
        amount=amount,
        by=by,
        origin="reembolso",
        buyer_client_id=order.client_id,
        order_id=order.id,
        expires_on=expires_on,
    )


def _usable_method(code: str) -> PaymentMethod:
    pm = db.session.scalar(sa.select(PaymentMethod).where(PaymentMethod.code == code))
    if pm is None or not pm.is_active:
        raise ValidationError("Método de pago no disponible.", field="metodo_pago")
    return pm


def _redeemable_card(order: Order, amount: int, code: str | None):
    """The gift card paying `amount`, locked and checked; a card never pays for gift-card lines of the order."""
    limit = max(order.balance_due - giftcards.gift_card_lines_total(order), 0)
    if amount > limit:
        raise ValidationError(
            f"El monto supera el saldo que se puede pagar con gift card ({format_clp(limit)}).", field="monto"
        )
    return giftcards.check_redeemable(giftcards.lock_card(code), amount)


def _announce_payment(order: Order, payment: Payment, card, *, by) -> None:
    """The audit events (`payment_recorded`, `giftcard_redeemed`) and the `giftcard.redeemed` webhook."""
    amount = payment.amount
    record_event(
        order.client,
        "payment_recorded",
        f"Pago registrado - {payment.method} - {format_clp(amount)}",
        by=by,
        order_id=order.id,
    )
    if card is not None:
        record_event(
            order.client, "giftcard_redeemed", f"Gift card {card.code} {format_clp(amount)}", by=by, order_id=order.id
        )
        emit_event("giftcard.redeemed", giftcard_datos(card, amount=amount, order_id=order.id))


def void_payment(payment: Payment, *, reason: str, by) -> Payment:
    """A payment recorded by mistake: status `anulado` (row kept), gift card credited back, recalculation, audit.

    recepcion: own payments of today, day open; gerente/admin: any payment of an open day (spec §7.2).
    """

    if not (reason or "").strip():
        raise ValidationError("Indique el motivo de la anulación.", field="motivo")
    if len(reason.strip()) > 255:
        raise ValidationError("El motivo admite hasta 255 caracteres.", field="motivo")
    lock_order(payment.order_id, payment)
    if payment.status != "valido":
        raise ValidationError("El pago ya está anulado.")
    if payment.flow_transaction_id is not None and not is_privileged(by):
        raise ValidationError("Solo un gerente puede anular un pago Flow.")
    day = clock.to_local(payment.paid_at).date()
    lock_cash_day(day, shared=True)
    if closed_close(day) is not None:
        raise ValidationError(f"La caja del {day:%d/%m/%Y} está cerrada: debe reabrirse primero.")
    if not is_privileged(by):
        if payment.recorded_by_id != getattr(by, "id", None):
            raise ValidationError("Solo puede anular pagos registrados por usted.")
        if day != clock.today():
            raise ValidationError("Solo puede anular pagos del día.")
    payment.status = "anulado"
    payment.voided_at = clock.now()
    payment.voided_by_id = getattr(by, "id", None)
    payment.void_reason = reason.strip()
    db.session.flush()
    order = payment.order
    if payment.gift_card_id is not None and payment.amount > 0:  # a redemption: the amount goes back to the card
        giftcards.reverse_redemption(
            payment.gift_card,
            amount=payment.amount,
            by=by,
            payment_id=payment.id,
            reason=f"Pago #{payment.id} anulado",
            order=order,
        )
    elif payment.gift_card_id is not None:  # a refund credited to a card: take it back if still there
        card = giftcards.lock_card(payment.gift_card.code)
        if card.balance < -payment.amount:
            raise ValidationError(f"La gift card {card.code} ya usó el reembolso: no se puede anular.")
        giftcards.add_entry(
            card,
            amount=payment.amount,
            kind="ajuste",
            by=by,
            payment_id=payment.id,
            reason=f"Reembolso #{payment.id} anulado",
        )
    recalculate_order(order)

    record_event(
        order.client,
        "payment_voided",
        f"Pago anulado - {payment.method} - {format_clp(payment.amount)}: {reason.strip()}",
        by=by,
        order_id=order.id,
    )
    return payment


def refund(order: Order, *, amount: int, method: str, reason: str, by) -> Payment:
    """gerente/admin: money given back as a negative payment (≤ net paid); `giftcard` credits the card used or
    issues a new one (origin `reembolso`); audit `refund_recorded`; flushes."""

    if getattr(by, "role", None) not in PRIVILEGED_ROLES:
        raise ValidationError("Solo un gerente puede registrar reembolsos.")
    return _record_refund(order, amount=amount, method=method, reason=reason, by=by)


def refund_to_gift_card(order: Order, *, amount: int, reason: str, by=None, expires_on=None) -> Payment:
    """A customer's own cancellation (self-service.md §2): the money returned as a gift card (the card used is
    credited back, else a new card, origin `reembolso`, valid until `expires_on`); `by` None = the customer."""
    return _record_refund(order, amount=amount, method="giftcard", reason=reason, by=by, expires_on=expires_on)


def _record_refund(order: Order, *, amount: int, method: str, reason: str, by, expires_on=None) -> Payment:
    require_positive(amount)
    if not (reason or "").strip():
        raise ValidationError("Indique el motivo del reembolso.", field="motivo")
    order = lock_order(order)
    if amount > order.paid:
        raise ValidationError(f"El reembolso supera lo pagado ({format_clp(order.paid)}).", field="monto")
    pm = _usable_method(method)
    now = clock.now()
    after_close = _closed_day_check(clock.to_local(now).date(), by)
    payment = Payment(
        order_id=order.id,
        amount=-amount,
        method=pm.code,
        recorded_by_id=getattr(by, "id", None),
        is_refund=True,
        reference=reason.strip()[:120],
        paid_at=now,
        after_close=after_close,
    )
    db.session.add(payment)
    db.session.flush()
    if pm.code == "giftcard":
        payment.gift_card_id = _refund_to_gift_card(order, payment, amount, by=by, expires_on=expires_on).id
    recalculate_order(order)

    record_event(
        order.client,
        "refund_recorded",
        f"Reembolso registrado - {pm.code} - {format_clp(amount)}: {reason.strip()}",
        by=by,
        order_id=order.id,
    )
    return payment
