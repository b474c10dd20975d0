"""Checkout and the public order page (spec booking.md §5–§6.1)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext

from app.auth.decorators import public  # noqa: I001
from app.clients.models import Client
from app.core import clock
from app.core.errors import DomainError
from app.core.phone import InvalidPhone, normalize_phone
from app.core.signing import order_id_from_token, order_token
from app.core.uow import unit_of_work
from app.extensions import db, limiter
from app.sales import checkout_services
from app.sales.models import BOOKING_STATUS_LABELS, Order
from app.sales.policy_queries import amount_due_now, deposit_info
from app.sales.selfservice_queries import manage_state
from app.shop.blueprint import bp
from app.shop.booking_views import RATE_MESSAGE, cart_context, current_cart
from app.shop.forms import CheckoutForm, OrderPayForm
from app.waitlist.queries import OFFER_SESSION_KEY, offer_contact
from app.web.forms import submit
from app.web.htmx import render_page, see_other
from app.web.i18n import current_language
from app.web.submissions import DuplicateSubmission

log = logging.getLogger(__name__)
EMPTY_CART = lazy_gettext("El carrito está vacío")
SESSION_EXPIRED = lazy_gettext("La sesión expiró. Revise sus datos y vuelva a confirmar.")
METHOD_LABELS = {
    "transferencia": lazy_gettext("Transferencia bancaria"),
    "flow": lazy_gettext("Flow (tarjetas, Webpay)"),
}


def method_choices() -> list[tuple[str, str]]:
    methods = ["transferencia"]
    if current_app.config.get("FLOW_MODE", "off") != "off":
        methods.append("flow")
    return [(m, METHOD_LABELS[m]) for m in methods]


def _form() -> CheckoutForm:
    form = CheckoutForm()
    form.metodo_pago.choices = method_choices()
    if not form.metodo_pago.data:
        form.metodo_pago.data = "transferencia"
    return form


@bp.get("/ventas/checkout/")
@public
def checkout():
    cart = current_cart()
    if cart is None:
        flash(str(EMPTY_CART), "info")
        return redirect(url_for("shop.cart"), 303)
    form = _form()
    for name, value in offer_contact(session.get(OFFER_SESSION_KEY), cart).items():  # a waitlist offer's link
        getattr(form, name).data = value
    return render_template("shop/checkout.html", form=form, **cart_context(cart))


@bp.get("/ventas/checkout/cliente/")
@limiter.limit("10 per minute", error_message=RATE_MESSAGE)
@public
def checkout_client_hint():
    try:
        phone = normalize_phone(request.args.get("telefono"))
    except InvalidPhone:
        return make_response("", 200)
    client = db.session.scalar(sa.select(Client).where(Client.phone == phone))
    return render_template("shop/_client_hint.html", first_name=client.first_name if client else None)


def checkout_data(form) -> checkout_services.CheckoutData:
    """The buyer's part of a checkout form (the cart's and the public gift-card purchase's)."""
    return checkout_services.CheckoutData(
        telefono=form.telefono.data,
        nombre=form.nombre.data,
        email=form.email.data,
        documento_identidad=form.documento_identidad.data,
        metodo_pago=form.metodo_pago.data,
        acepta_marketing=bool(form.acepta_marketing.data),
        comentarios=form.comentarios.data,
        idioma=current_language(),
        pago=getattr(form, "pago", None) and form.pago.data or "total",
    )


def _json_wanted() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/ventas/complete-checkout/")
@limiter.limit("20 per minute", error_message=RATE_MESSAGE)
@public
def complete_checkout():
    form = _form()
    cart = current_cart(with_lines=True)
    if cart is None:
        return _checkout_failed(form, cart, 400, EMPTY_CART)
    if not submit(form, lambda: checkout_services.checkout_cart(cart, checkout_data(form), ip=request.remote_addr)):
        if isinstance(form.refusal, DuplicateSubmission) and cart.converted_order_id:
            # the first click placed the order: show it, as a double submit always did
            return see_other(url_for("shop.order_page", token=order_token(cart.converted_order_id)))
        failing = {label for label, _ in getattr(form.refusal, "failures", ())}
        return _checkout_failed(form, cart, form.refusal_status, failing=failing)
    order = form.result
    target = url_for("shop.order_page", token=order_token(order.id))
    if order.checkout_method == "flow" and order.balance_due > 0:
        target = start_flow_or_order_page(order)
    if _json_wanted():
        return jsonify(
            success=True,
            message="Reserva creada exitosamente",
            reserva_id=order.id,
            metodo_pago=order.checkout_method,
            redirect_url=target,
            token=order_token(order.id),
        )
    return see_other(target)


FLOW_NOT_STARTED = lazy_gettext("No pudimos iniciar el pago con Flow. Intente nuevamente o pague por transferencia.")


class FlowNotStarted(DomainError):
    """Flow could not be reached or refused to start the payment (the order stays as it was)."""

    def __init__(self) -> None:
        super().__init__(FLOW_NOT_STARTED)


def _start_flow(order: Order) -> str:
    """A new Flow payment for the order's balance (its URL); FlowNotStarted if Flow cannot be used now."""
    from app.sales.flow import FlowError, FlowUnavailable
    from app.sales.flow_services import start_flow_payment

    try:
        return start_flow_payment(order)
    except (FlowUnavailable, FlowError, DomainError) as exc:
        log.warning("Flow payment could not start for order %s", order.id)
        raise FlowNotStarted() from exc


def start_flow_or_order_page(order: Order) -> str:
    """Send the customer to Flow; if Flow cannot be reached, back to the order page with a retry button. (The
    order is already committed: the Flow payment is its own unit of work.)"""
    try:
        with unit_of_work():
            return _start_flow(order)
    except FlowNotStarted as exc:
        flash(str(exc.message), "error")
        return url_for("shop.order_page", token=order_token(order.id))


def _checkout_failed(form, cart, status, message=None, failing=()):
    """The form again with its messages; HTML answers are 409 (slot taken) or 422, the codes HTMX swaps in. The
    first problem also shows above the form (a phone shows one screen at a time)."""
    if message is None:
        message = SESSION_EXPIRED if "csrf_token" in form.errors else form.first_error
    message = str(message or gettext("Revise los datos del formulario."))
    if _json_wanted():
        return jsonify(success=False, error=message), 400 if status == 422 else status
    if message not in form.form_errors:
        form.form_errors.append(message)
    form.renew_key()
    return render_page(
        "shop/checkout.html",
        "checkout_form",
        status=409 if status == 409 else 422,
        form=form,
        **cart_context(cart, failing=failing),
    )


def _order_from_token(token: str) -> Order:
    order_id = order_id_from_token(token)
    order = db.session.get(Order, order_id) if order_id else None
    if order is None:
        abort(404)
    return order


def payment_window(order: Order) -> dict:
    """What the customer may still do about an unpaid order: pay (until `due`, None = no deadline) or nothing."""
    open_ = order.balance_due > 0 and not order.is_cancelled
    due = order.payment_due_at
    expired = open_ and due is not None and due <= clock.now()
    return {"can_pay": open_ and not expired, "expired": expired, "due": due}


def map_url() -> str:
    from urllib.parse import quote_plus

    cfg = current_app.config
    return "https://www.google.com/maps/search/?api=1&query=" + quote_plus(
        f"{cfg['BUSINESS_NAME']}, {cfg['BUSINESS_ADDRESS']}"
    )


def order_pay_form() -> OrderPayForm:
    """A pay button's form (order page, Flow return page): each button rendered gets its own one-time key."""
    return OrderPayForm(formdata=None)


def cart_deposit(holds, total: int) -> dict | None:
    """The deposit the cart's policies ask (self-service.md §3): {"percent", "amount"}, or None (full payment)."""
    from app.sales.policy import deposit_amount
    from app.sales.policy_queries import snapshot_for

    percent = snapshot_for(h.service for h in holds)["deposit_percent"] if holds else 0
    amount = deposit_amount(total, percent)
    return {"percent": percent, "amount": amount} if amount else None


@bp.app_context_processor
def _order_page_context():
    return {
        "payment_window": payment_window,
        "map_url": map_url,
        "order_pay_form": order_pay_form,
        "cart_deposit": cart_deposit,
    }


@bp.get("/ventas/reserva/<token>/")
@public
def order_page(token: str):
    order = _order_from_token(token)
    flow_on = current_app.config.get("FLOW_MODE", "off") != "off"
    return render_template(
        "shop/order.html",
        order=order,
        token=token,
        flow_on=flow_on,
        manage=manage_state(order),
        deposit=deposit_info(order),
        due_now=amount_due_now(order),
        status_labels=BOOKING_STATUS_LABELS,
        now=clock.now(),
        refunds=[p for p in order.payments if p.is_refund and p.status == "valido" and p.gift_card_id],
    )


@bp.get("/ventas/reserva/<token>/calendario.ics")
@public
def order_calendar(token: str):
    """*Agregar al calendario*: the order's bookings as an .ics download (same file as the confirmation e-mail's)."""
    from app.calendars.feeds import order_ics, order_ics_filename

    order = _order_from_token(token)
    response = make_response(order_ics(order))
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = f'attachment; filename="{order_ics_filename(order)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _payable_or_back(order: Order, token: str):
    """None when the order can still be paid, else the answer sending the customer back to the order page."""
    window = payment_window(order)
    if window["can_pay"]:
        return None
    flash(
        gettext("El plazo de pago de esta reserva venció.")
        if window["expired"]
        else gettext("Esta reserva no tiene saldo pendiente."),
        "info",
    )
    return see_other(url_for("shop.order_page", token=token))


def _payment_refused(form: OrderPayForm, token: str):
    """Back to the order page: silently for the same form sent twice, else with the reason."""
    if not isinstance(form.refusal, DuplicateSubmission):
        flash(str(form.first_error), "error")
    return see_other(url_for("shop.order_page", token=token))


@bp.post("/ventas/reserva/<token>/pagar-flow/")
@limiter.limit("20 per minute", error_message=RATE_MESSAGE)
@public
def order_pay_flow(token: str):
    """*Pagar con Flow* / *Reintentar pago*: a new Flow payment for the balance, while the order can be paid; one
    per form render (its one-time key)."""
    order = _order_from_token(token)
    back = _payable_or_back(order, token)
    if back:
        return back
    form = OrderPayForm()
    if not submit(form, lambda: _start_flow(order)):
        return _payment_refused(form, token)
    return see_other(form.result)


@bp.post("/ventas/reserva/<token>/pagar-transferencia/")
@limiter.limit("20 per minute", error_message=RATE_MESSAGE)
@public
def order_pay_transfer(token: str):
    """*Pagar por transferencia* after a failed Flow payment: the order waits for a transfer instead, within the
    same deadline (the slot is not held longer); the order page shows the bank details."""
    order = _order_from_token(token)
    back = _payable_or_back(order, token)
    if back:
        return back
    form = OrderPayForm()
    if not submit(form, lambda: setattr(order, "checkout_method", "transferencia")):
        return _payment_refused(form, token)
    flash(gettext("Te esperamos con la transferencia: los datos bancarios están abajo."), "success")
    return see_other(url_for("shop.order_page", token=token) + "#transfer-instructions")
