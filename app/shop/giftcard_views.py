"""Buying a gift card on the public site (spec booking.md §8.2): a page listing the published gift-card products,
buyer and recipient fields, paid by Flow or bank transfer like any order. The card is issued only when the order
reaches `pagado` (Flow confirmation, or staff recording the transfer: `record_payment` → `issue_cards_for_paid_order`)
and e-mailed through the outbox with its printable page link (GIFT_CARD)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request, url_for

from app.auth.decorators import public
from app.catalog.models import Product
from app.core.errors import ValidationError
from app.core.signing import order_token
from app.extensions import db, limiter
from app.sales import cart_services, checkout_services
from app.sales.giftcard_services import clean_recipient, max_amount
from app.shop.blueprint import bp
from app.shop.booking_views import RATE_MESSAGE
from app.shop.checkout_views import checkout_data, method_choices, start_flow_or_order_page
from app.shop.forms import GiftCardPurchaseForm
from app.web.forms import submit
from app.web.htmx import render_page, see_other

FREE_AMOUNT_MIN = 5000  # catalog.md §1: a "monto libre" product takes 5.000 … GIFTCARD_MAX_AMOUNT


def gift_card_products() -> list[Product]:
    """Published, active gift-card products within the maximum, fixed amounts first (cheapest first), then the
    free-amount one."""
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(
                Product.is_gift_card.is_(True),
                Product.is_active.is_(True),
                Product.is_published.is_(True),
                Product.base_price <= max_amount(),
            )
            .order_by((Product.base_price == 0), Product.base_price, Product.id)
        )
    )


def _form(products) -> GiftCardPurchaseForm:
    form = GiftCardPurchaseForm(products)
    form.metodo_pago.choices = method_choices()
    if not form.metodo_pago.data:
        form.metodo_pago.data = "transferencia"
    return form


def _page(form, products, *, status=200):
    return render_page(
        "shop/giftcard_buy.html",
        "giftcard_buy_form",
        status=status,
        form=form,
        products=products,
        max_amount=max_amount(),
        free_min=FREE_AMOUNT_MIN,
    )


@bp.route("/ventas/giftcard/comprar/", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"], error_message=RATE_MESSAGE)
@public
def gift_card_buy():
    products = gift_card_products()
    form = _form(products)
    if request.method == "GET":
        if request.args.get("producto", "") in {str(p.id) for p in products}:
            form.producto_id.data = request.args["producto"]
        return _page(form, products)

    def buy():
        return buy_gift_card(
            form.product,
            amount=form.amount,
            data=checkout_data(form),
            recipient_name=form.destinatario_nombre.data,
            recipient_email=form.destinatario_email.data,
            message=form.mensaje.data,
            ip=request.remote_addr,
        )

    if not submit(form, buy):
        first = form.first_error
        if first and first not in form.form_errors:  # the first problem also above the form
            form.form_errors.append(first)
        form.renew_key()
        return _page(form, products, status=form.refusal_status)
    order = form.result
    target = url_for("shop.order_page", token=order_token(order.id))
    if order.checkout_method == "flow" and order.balance_due > 0:
        target = start_flow_or_order_page(order)
    return see_other(target)


def buy_gift_card(
    product: Product,
    *,
    amount: int | None,
    data: checkout_services.CheckoutData,
    recipient_name=None,
    recipient_email=None,
    message=None,
    ip=None,
):
    """A web order with one gift-card line (no card yet: it is issued when the order is paid); flushes.

    The line goes through the cart's own rules (published product, amount bounds) on a cart of its own, then
    `place_order` (client matched or created, consent, audit, Flow expiry). Without a recipient e-mail the card is
    sent to the buyer."""
    if data.metodo_pago not in dict(method_choices()):
        raise ValidationError("Método de pago no disponible.", field="metodo_pago")
    recipient = clean_recipient(recipient_name, recipient_email or data.email, None, message)
    cart = cart_services.create_cart()
    cart_services.add_product_to_cart(
        cart,
        product_id=product.id,
        quantity=1,
        amount=amount,
        recipient_name=recipient["recipient_name"],
        recipient_email=recipient["recipient_email"],
        message=recipient["message"],
    )
    return checkout_services.place_order(lines=[], data=data, origin="web", cart=cart, ip=ip)
