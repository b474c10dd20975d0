"""The fake Flow (FLOW_MODE=fake): same shapes and signature check as Flow, a pay/reject/cancel page.

Refused (404) unless FLOW_MODE is `fake`. Its buttons confirm server-side through our own confirmation logic and
then send the browser back to `urlReturn` by POST, as Flow does.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for

from app.auth.decorators import public  # noqa: I001
from app.extensions import csrf, db, limiter
from app.sales.fake_flow import FAKE_API_KEY, FAKE_SECRET, fake_create, fake_status
from app.sales.flow import STATUS_CANCELLED, STATUS_PAID, STATUS_REJECTED, FlowError, verify
from app.sales.flow_services import confirm_flow_token
from app.sales.models import FakeFlowPayment

bp = Blueprint("fake_flow", __name__, url_prefix="/ventas/fake-flow")


@bp.before_request
def _only_in_fake_mode():
    if current_app.config.get("FLOW_MODE") != "fake":
        abort(404)


# --- Flow-shaped HTTP API (lets the real FlowClient be exercised against the fake) ---------------------------


class _BadSignature(Exception):
    """A request to the fake Flow API whose HMAC signature does not verify (answered like Flow, code 108)."""


@bp.errorhandler(_BadSignature)
def _bad_signature(_exc):
    return jsonify(code=108, message="Invalid apiKey or signature"), 401  # Flow's answer shape


def _signed_params() -> dict:
    params = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
    if params.get("apiKey") != FAKE_API_KEY or not verify(params, FAKE_SECRET):
        raise _BadSignature()
    return params


@bp.post("/api/payment/create")
@csrf.exempt
@limiter.exempt
@public
def api_create():
    p = _signed_params()
    row = fake_create(
        order_ref=p["commerceOrder"],
        subject=p.get("subject", ""),
        amount=int(p["amount"]),
        email=p.get("email"),
        url_confirmation=p["urlConfirmation"],
        url_return=p["urlReturn"],
    )
    db.session.commit()
    return jsonify(url=url_for("fake_flow.pay_page", _external=True), token=row.token, flowOrder=row.flow_order)


@bp.get("/api/payment/getStatus")
@limiter.exempt
@public
def api_status():
    p = _signed_params()
    try:
        return jsonify(fake_status(p.get("token", "")))
    except FlowError as exc:
        return jsonify(code=exc.code, message=exc.message), 400


# --- the customer's payment page ----------------------------------------------------------------------------

ACTIONS = {"pagar": STATUS_PAID, "rechazar": STATUS_REJECTED, "cancelar": STATUS_CANCELLED}


@bp.route("/pay", methods=["GET", "POST"])
@csrf.exempt
@public
def pay_page():
    token = request.values.get("token", "")
    row = db.session.scalar(sa.select(FakeFlowPayment).where(FakeFlowPayment.token == token))
    if row is None:
        abort(404)
    if request.method == "GET":
        return render_template("payments/fake_flow_pay.html", row=row)
    action = request.form.get("accion", "")
    if action not in ACTIONS:
        abort(400)
    row.status = ACTIONS[action]
    db.session.commit()

    status, _, _ = confirm_flow_token(token)  # "Flow" notifies our confirmation URL server-side
    if status == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return render_template("payments/fake_flow_return.html", row=row)
