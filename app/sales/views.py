"""Flow callbacks and the Flow API endpoint (spec api.md §5.5, booking.md §6.2)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from app.auth.decorators import public  # noqa: I001
from app.core import clock
from app.core.errors import ConflictError
from app.core.money import format_clp
from app.core.signing import order_id_from_token, order_token
from app.core.uow import unit_of_work
from app.extensions import csrf, db, limiter
from app.sales import giftcard_services as giftcards
from app.sales.flow import FlowError, FlowUnavailable
from app.sales.flow_services import CONFIRMATION_TEXT, FlowDisabled, confirm_flow_token, start_flow_payment
from app.sales.models import FlowTransaction, Order
from app.web.htmx import render_page
from app.web.params import MAX_ID

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)


def _settle_flow_token(token: str) -> tuple[int, str, FlowTransaction | None]:
    """`confirm_flow_token`, then what it asks of its caller, in one place for both callbacks: keep Flow's answer
    on 200, keep nothing otherwise. (Flow posts these from its own servers and pages: no form of ours, no CSRF,
    and the outcome is a status, not a DomainError.)"""
    status, outcome, tx = confirm_flow_token(token)
    if status == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return status, outcome, tx


@bp.post("/ventas/payment/confirmation/")
@csrf.exempt
@limiter.exempt
@public
def flow_confirmation():
    status, outcome, _ = _settle_flow_token(request.form.get("token", ""))
    return CONFIRMATION_TEXT.get(outcome, outcome), status, {"Content-Type": "text/plain; charset=utf-8"}


RETURN_TITLES = {
    "paid": lazy_gettext("¡Pago Exitoso!"),
    "already_paid": lazy_gettext("¡Pago Exitoso!"),
    "rejected": lazy_gettext("Pago Rechazado"),
    "cancelled": lazy_gettext("Pago Cancelado"),
}
NO_TRANSACTION = lazy_gettext("No se recibió información de la transacción")


@bp.route("/ventas/payment/return/", methods=["GET", "POST"])
@csrf.exempt
@public
def flow_return():
    token = request.values.get("token", "")
    if not token:
        return render_template("payments/return.html", title=NO_TRANSACTION, tx=None, order=None), 400
    status, outcome, tx = _settle_flow_token(token)
    if tx is None:
        return render_template("payments/return.html", title=NO_TRANSACTION, tx=None, order=None), 404
    title = RETURN_TITLES.get(outcome) or gettext("Estado del Pago Pendiente o Desconocido")
    order = db.session.get(Order, tx.order_id)
    return render_template(
        "payments/return.html", title=title, tx=tx, order=order, outcome=outcome, order_url_token=order_token(order.id)
    )


@bp.route("/ventas/api/flow/create/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@csrf.exempt
@public
def api_flow_create():
    if request.method != "POST":
        return jsonify(error="Invalid method"), 405
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="Invalid JSON body"), 400
    order_id = body.get("reserva_id")
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return jsonify(error="Missing reserva_id"), 400
    staff = current_user.is_authenticated and current_user.role in ("recepcion", "gerente", "admin")
    if not staff and order_id_from_token(str(body.get("token", ""))) != order_id:
        return jsonify(error="Invalid order token"), 403
    order = db.session.get(Order, order_id) if 0 < order_id <= MAX_ID else None  # beyond the column: unknown
    if order is None:
        return jsonify(error="Reservation not found"), 404
    try:
        with unit_of_work():
            url = start_flow_payment(order)
            token = db.session.scalar(
                sa.select(FlowTransaction.token)
                .where(FlowTransaction.order_id == order.id)
                .order_by(FlowTransaction.id.desc())
                .limit(1)
            )
    except FlowDisabled:
        return jsonify(error="Flow payments are disabled"), 503
    except ConflictError:
        return jsonify(error="Reservation has no pending balance"), 409
    except (FlowUnavailable, FlowError):
        log.exception("Flow create failed")
        return jsonify(error="Flow API request failed"), 502
    return jsonify(url=url, token=token)


# --- public gift-card pages (spec booking.md §8.2–8.3) --------------------------------------------------------


@bp.get("/ventas/giftcard/saldo/")
@limiter.limit("10 per minute")
@public
def gift_card_balance():
    code = giftcards.normalize_code(request.args.get("codigo"))
    message, found = None, False
    if code:
        card = giftcards.find_card(code)
        if card is None or card.status == "anulada":
            message = gettext("Código no encontrado.")
        else:
            found = True
            message = gettext(
                "Saldo disponible: %(amount)s — vence el %(date)s",
                amount=format_clp(card.balance),
                date=f"{card.expires_on:%d/%m/%Y}",
            )
            if card.is_expired(clock.today()):
                message += gettext(" (vencida)")
    return render_page("payments/giftcard_balance.html", "result", code=code, message=message, found=found)


@bp.get("/ventas/giftcard/<token>/")
@public
def gift_card_public(token: str):
    from flask import abort

    card = giftcards.card_from_token(token)
    if card is None:
        abort(404)
    return render_template("payments/giftcard_print.html", card=card, today=clock.today(), staff=False)
