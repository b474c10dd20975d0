"""Buying a gift card on the public site (spec booking.md §8.2): a page listing the published gift-card products,
buyer and recipient fields, paid by Flow or bank transfer like any order. The card is issued only when the order
reaches `pagado` (Flow confirmation, or staff recording the transfer: `record_payment` → `issue_cards_for_paid_order`)
and e-mailed through the outbox with its printable page link (GIFT_CARD)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request, url_for
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import Optional

from app.auth.decorators import public
from app.catalog.models import Product
from app.core.errors import DomainError, ValidationError
from app.core.signing import order_token
from app.extensions import db, limiter
from app.sales import cart_services, checkout_services
from app.sales.giftcard_services import clean_recipient, max_amount, parse_card_amount
from app.shop.blueprint import bp
from app.shop.booking_views import RATE_MESSAGE
from app.shop.checkout_views import _validate as validate_buyer
from app.shop.checkout_views import checkout_data, method_choices, start_flow_or_order_page
from app.shop.forms import CheckoutForm
from app.web.htmx import render_page, see_other
from app.web.submissions import claim_submission

FREE_AMOUNT_MIN = 5000  # catalog.md §1: a "monto libre" product takes 5.000 … GIFTCARD_MAX_AMOUNT


class GiftCardPurchaseForm(CheckoutForm):
    producto_id = RadioField("Gift card", choices=[], validate_choice=False)
    monto = StringField("Monto (si eliges monto libre)", validators=[Optional()])
    destinatario_nombre = StringField("Nombre de quien la recibe", validators=[Optional()])
    destinatario_email = StringField(
        "E-mail de quien la recibe (si lo dejas vacío, te la enviamos a ti)", validators=[Optional()]
    )
    mensaje = TextAreaField("Mensaje (opcional)", validators=[Optional()])


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
    form = GiftCardPurchaseForm()
    form.metodo_pago.choices = method_choices()
    if not form.metodo_pago.data:
        form.metodo_pago.data = "transferencia"
    form.producto_id.choices = [(str(p.id), p.name) for p in products]
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


def _validate(form, products) -> tuple[dict[str, str], Product | None, int | None]:
    errors = {}
    product = next((p for p in products if str(p.id) == (form.producto_id.data or "")), None)
    amount = None
    if product is None:
        errors["producto_id"] = "Elige una gift card."
    elif product.base_price == 0:
        try:
            amount = parse_card_amount(form.monto.data)
        except ValueError:
            errors["monto"] = "Ingresa el monto de la gift card."
    try:
        clean_recipient(form.destinatario_nombre.data, form.destinatario_email.data, None, form.mensaje.data)
    except ValidationError as exc:
        errors[exc.field] = (
            "Ingresa un e-mail válido para quien recibe la gift card."
            if exc.field == "destinatario_email"
            else exc.message
        )
    errors.update(validate_buyer(form))
    if len(" ".join((form.nombre.data or "").split())) > 100:
        errors["nombre"] = "El nombre no puede superar los 100 caracteres."
    if len((form.email.data or "").strip()) > 254:
        errors["email"] = "Ingrese un e-mail válido."
    return errors, product, amount


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
    if not form.validate():  # CSRF and shape
        return _page(form, products, status=422)
    errors, product, amount = _validate(form, products)
    if errors:
        for name, message in errors.items():
            getattr(form, name).errors = [message]
        form.form_errors.append(next(iter(errors.values())))
        return _page(form, products, status=422)
    data = checkout_data(form)
    try:
        claim_submission()
        order = buy_gift_card(
            product,
            amount=amount,
            data=data,
            recipient_name=form.destinatario_nombre.data,
            recipient_email=form.destinatario_email.data,
            message=form.mensaje.data,
            ip=request.remote_addr,
        )
        order_id, method, balance = order.id, order.checkout_method, order.balance_due
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _page(form, products, status=exc.status)
    target = url_for("shop.order_page", token=order_token(order_id))
    if method == "flow" and balance > 0:
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
