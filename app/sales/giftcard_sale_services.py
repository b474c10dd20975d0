"""Gift cards sold or given at the desk (spec booking.md §8.2): the free-amount desk product, the recipient's
data, a sale paid on the spot, a courtesy card (gerente/admin). The card itself, its ledger and redemption are
giftcard_services.py. Flush, never commit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.catalog.models import Product
from app.clients.services import record_event
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.extensions import db
from app.sales.giftcard_services import (
    COURTESY_ROLES,
    check_amount,
    clean_recipient,
    issue_gift_card,
)
from app.sales.models import GiftCard, Order, PaymentMethod, ProductLine
from app.sales.payment_services import record_payment
from app.sales.services import recalculate_order

# --- desk sale and courtesy cards (spec booking.md §8.2) -------------------------------------------------------

DESK_PRODUCT_NAME = "Gift Card monto libre"


def _check_expiry(expires_on: date | None) -> None:
    if expires_on is not None and expires_on < clock.today():
        raise ValidationError("La fecha de vencimiento no puede ser anterior a hoy.", field="fecha_vencimiento")


def _sale_method(code: str | None):
    """The real-money method a card is paid with at the desk (not `giftcard`: a card does not buy a card; not
    Flow, which is paid online)."""

    pm = db.session.scalar(sa.select(PaymentMethod).where(PaymentMethod.code == (code or "")))
    if pm is None or not pm.is_active or not pm.counts_as_cash or pm.code == "flow":
        raise ValidationError("Elija cómo se paga la gift card.", field="metodo_pago")
    return pm


def desk_product(amount: int):
    """The catalogue's gift-card product for a desk sale: the active one with this face value, else the active
    "monto libre" one (price 0), else a new unpublished "monto libre" product; flushes."""

    products = db.session.scalars(
        sa.select(Product)
        .where(Product.is_gift_card.is_(True), Product.is_active.is_(True), Product.base_price.in_((amount, 0)))
        .order_by(Product.base_price.desc(), Product.id)
    ).all()
    if products:
        return products[0]
    product = Product(name=DESK_PRODUCT_NAME, base_price=0, is_gift_card=True, is_active=True, is_published=False)
    db.session.add(product)
    db.session.flush()
    return product


def sell_gift_card(
    *,
    amount: int,
    method: str,
    by,
    buyer,
    reference: str | None = None,
    expires_on: date | None = None,
    recipient_name: str | None = None,
    recipient_email: str | None = None,
    recipient_phone: str | None = None,
    message: str | None = None,
) -> GiftCard:
    """A card sold at the desk: its sale order (origin `recepcion`, one gift-card product line), the card (origin
    `venta`, linked to the line) and the payment, in the caller's transaction, so the money is in caja diaria and
    in the close's expected amounts. Flushes; raises ValidationError (amount out of bounds, no real-money
    method, closed cash day for recepcion, …) before anything is kept, since the caller rolls back."""

    check_amount(amount)
    _check_expiry(expires_on)
    pm = _sale_method(method)
    recipient = clean_recipient(recipient_name, recipient_email, recipient_phone, message)
    order, line = _desk_sale_order(buyer, desk_product(amount), amount, recipient, by=by)
    card = issue_gift_card(
        amount=amount,
        by=by,
        expires_on=expires_on,
        origin="venta",
        buyer_client_id=buyer.id,
        order_line_id=line.id,
        order_id=order.id,
        **recipient,
    )
    record_payment(order, amount=amount, method=pm.code, by=by, reference=(reference or "").strip()[:120] or None)
    return card


def _desk_sale_order(buyer, product, amount: int, recipient: dict, *, by):
    """The sale's order (origin `recepcion`) with its one gift-card product line, totals and `order_created`."""
    now = clock.now()
    order = Order(
        client=buyer,
        client_id=buyer.id,
        origin="recepcion",
        contact_name=buyer.name,
        contact_email=buyer.email,
        contact_phone=buyer.phone,
        created_by_id=getattr(by, "id", None),
        created_at=now,
        sold_at=now,
        comments="Venta de gift card en recepción",
    )
    db.session.add(order)
    db.session.flush()
    line = ProductLine(
        order_id=order.id,
        product_id=product.id,
        quantity=1,
        unit_price=amount,
        subtotal=amount,
        created_by_id=getattr(by, "id", None),
        **recipient,
    )
    db.session.add(line)
    db.session.flush()
    db.session.refresh(order, ["product_lines"])
    recalculate_order(order)
    record_event(
        buyer,
        "order_created",
        f"Venta #{order.id} creada (recepcion): gift card, total {format_clp(amount)}",
        by=by,
        order_id=order.id,
    )
    return order, line


def issue_courtesy_card(
    *,
    amount: int,
    reason: str,
    by,
    client,
    expires_on: date | None = None,
    recipient_name: str | None = None,
    recipient_email: str | None = None,
    recipient_phone: str | None = None,
    message: str | None = None,
) -> GiftCard:
    """A card without payment (compensation, campaign): gerente/admin only, reason required, audited on the
    client as `giftcard_issued` "cortesía"; origin `manual`; flushes."""
    if getattr(by, "role", None) not in COURTESY_ROLES:
        raise ValidationError("Solo un gerente o administrador puede emitir gift cards de cortesía.")
    reason = " ".join((reason or "").split())
    if len(reason) < 3:
        raise ValidationError("Indique el motivo de la cortesía.", field="motivo")
    if len(reason) > 255:
        raise ValidationError("El motivo no puede superar los 255 caracteres.", field="motivo")
    if client is None:
        raise ValidationError("Indique el cliente que recibe la cortesía.", field="cliente_telefono")
    check_amount(amount)
    _check_expiry(expires_on)
    recipient = clean_recipient(
        recipient_name or client.name, recipient_email or client.email, recipient_phone, message
    )
    card = issue_gift_card(
        amount=amount,
        by=by,
        expires_on=expires_on,
        origin="manual",
        recipient_client_id=client.id,
        audit=False,
        **recipient,
    )
    record_event(
        client,
        "giftcard_issued",
        f"Gift card {card.code} {format_clp(amount)} — cortesía: {reason}",
        by=by,
        data={"cortesia": True, "motivo": reason, "gift_card_id": card.id},
    )
    return card


def is_courtesy(card: GiftCard) -> bool:
    return card.origin == "manual" and card.order_line_id is None
