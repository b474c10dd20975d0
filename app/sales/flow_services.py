"""App side of Flow.cl (spec booking.md §6.2–6.3): start a payment, handle confirmations exactly once.

Services flush; callers commit.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from app.auth.services import ensure_system_user
from app.clients.services import record_event
from app.core import clock
from app.core.errors import ConflictError, DomainError
from app.core.money import format_clp
from app.core.settings import in_force
from app.extensions import db
from app.sales import signals
from app.sales.flow import (
    PRODUCTION,
    SANDBOX,
    STATUS_CANCELLED,
    STATUS_PAID,
    STATUS_REJECTED,
    FlowClient,
    FlowError,
    FlowSettings,
    FlowUnavailable,
)
from app.sales.locks import lock_order, lock_services
from app.sales.models import FlowTransaction, Order, Payment
from app.sales.payment_services import record_payment
from app.sales.policy_queries import amount_due_now
from app.sales.representation import order_representation
from app.sales.services import LineRequest, cancel_order, check_line, recalculate_order
from app.web.urls import public_url
from app.webhooks.event_services import emit_event

log = logging.getLogger(__name__)


class FlowDisabled(DomainError):
    status = 503

    def __init__(self):
        super().__init__("Flow payments are disabled")


def flow_enabled() -> bool:
    return current_app.config.get("FLOW_MODE", "off") != "off"


def flow_gateway():
    """The adapter for FLOW_MODE: the in-process fake, or the HTTP client for sandbox/production."""
    mode = current_app.config.get("FLOW_MODE", "off")
    if mode == "fake":
        from app.sales.fake_flow import FakeFlowGateway

        return FakeFlowGateway()
    if mode in ("sandbox", "production"):
        base = SANDBOX if mode == "sandbox" else PRODUCTION
        cfg = current_app.config
        return FlowClient(
            FlowSettings(
                api_key=cfg.get("FLOW_API_KEY", ""),
                secret_key=cfg.get("FLOW_SECRET_KEY", ""),
                create_url=cfg.get("FLOW_CREATE_API_URL") or f"{base}/payment/create",
                status_url=cfg.get("FLOW_STATUS_API_URL") or f"{base}/payment/getStatus",
            )
        )
    raise FlowDisabled()


def callback_urls() -> tuple[str, str]:
    """Flow's confirmation and return URLs: the configured ones, else PUBLIC_BASE_URL's. With the fake Flow or in
    development the browser comes back to the host it is using (any port): the CSP's form-action 'self' would
    block a return to another origin (D25)."""
    from flask import has_request_context, url_for

    cfg = current_app.config
    local = has_request_context() and (cfg.get("FLOW_MODE") == "fake" or cfg.get("APP_ENV") == "development")

    def url(endpoint: str) -> str:
        return url_for(endpoint, _external=True) if local else public_url(endpoint)

    confirmation = cfg.get("FLOW_CONFIRMATION_URL") or url("payments.flow_confirmation")
    ret = cfg.get("FLOW_RETURN_URL") or url("payments.flow_return")
    return confirmation, ret


def start_flow_payment(order: Order, *, deposit: bool = True) -> str:
    """Create a FlowTransaction for the order's balance — or the deposit the customer chose at checkout while it
    is unpaid (self-service.md §3) — and return the URL to send the customer to; flushes.

    Raises FlowDisabled, ConflictError (cancelled / nothing to pay) or FlowUnavailable/FlowError from the adapter.
    The balance and the attempt number are read under the order lock.
    """

    gateway = flow_gateway()
    order = lock_order(order)
    if order.is_cancelled:
        raise ConflictError("Reservation is cancelled")
    if order.balance_due <= 0:
        raise ConflictError("Reservation has no pending balance")
    attempt = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(FlowTransaction).where(FlowTransaction.order_id == order.id)
        )
        + 1
    )
    ref = f"A{order.id}-{attempt}"
    amount = amount_due_now(order) if deposit else order.balance_due
    confirmation, ret = callback_urls()
    answer = gateway.create_payment(
        order_ref=ref,
        subject=f"Reserva Aremko #{order.id}",
        amount=amount,
        email=order.contact_email,
        url_confirmation=confirmation,
        url_return=ret,
        timeout_s=int(in_force()["FLOW_PAYMENT_TTL_MINUTES"]) * 60,
    )
    db.session.add(
        FlowTransaction(
            order_id=order.id,
            commerce_order=ref,
            token=answer["token"],
            flow_order=answer["flow_order"],
            amount=amount,
            status="creada",
        )
    )
    db.session.flush()
    return f"{answer['url']}?token={answer['token']}"


def _transaction_for(token: str, *, lock: bool) -> FlowTransaction | None:
    """The transaction of `token`; `lock`: its row lock, re-read. Global lock order: the order comes first, so the
    caller takes `lock_order(tx.order_id)` before (see lock_transaction)."""
    stmt = sa.select(FlowTransaction).where(FlowTransaction.token == token)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def lock_transaction(tx: FlowTransaction) -> FlowTransaction:
    """The order's lock, then the transaction's row lock (global lock order), the row re-read after both."""

    lock_order(tx.order_id)
    return _transaction_for(tx.token, lock=True)


def apply_status(tx: FlowTransaction, status: dict) -> str:
    """Record what getStatus said about one transaction, idempotently; flushes; returns an outcome code.

    Outcomes: paid, already_paid, mismatch, rejected, cancelled, pending.
    """
    if status["commerce_order"] != tx.commerce_order or int(status["amount"]) != tx.amount:
        tx.status = "monto_incorrecto"
        tx.raw = status.get("raw")
        log.warning("Flow amount/order mismatch for transaction %s", tx.id)
        db.session.flush()
        return "mismatch"
    code = status["status"]
    if code == STATUS_PAID:
        if db.session.scalar(sa.select(Payment.id).where(Payment.flow_transaction_id == tx.id)):
            return "already_paid"
        tx.status = "pagada"
        tx.flow_order = status.get("flow_order") or tx.flow_order
        tx.confirmed_at = clock.now()
        tx.raw = status.get("raw")
        _record_flow_payment(tx)
        return "paid"
    tx.status = {STATUS_REJECTED: "rechazada", STATUS_CANCELLED: "anulada"}.get(code, "pendiente")
    db.session.flush()
    return {STATUS_REJECTED: "rejected", STATUS_CANCELLED: "cancelled"}.get(code, "pending")


def _record_flow_payment(tx: FlowTransaction) -> None:
    order = lock_order(tx.order_id)  # already held by the callers of apply_status; re-taking it is free
    sistema = ensure_system_user()
    if order.is_cancelled and not _reinstate(order, sistema):
        record_payment(
            order,
            amount=tx.amount,
            method="flow",
            by=sistema,
            reference=tx.flow_order,
            flow_transaction_id=tx.id,
            allow_credit=True,
            allow_cancelled=True,
        )
        order.requires_refund = True
        db.session.flush()
        record_event(
            order.client,
            "flow_payment_late",
            f"{format_clp(tx.amount)} recibido con la venta cancelada: requiere reembolso",
            by=sistema,
            order_id=order.id,
        )
        emit_event("order.paid", lambda: {"venta_reserva": order_representation(order)})
        return
    record_payment(
        order,
        amount=tx.amount,
        method="flow",
        by=sistema,
        reference=tx.flow_order,
        flow_transaction_id=tx.id,
        allow_credit=True,
    )


EXPIRY_REASONS = ("Pago Flow no completado", "Pago por transferencia no recibido")


def _reinstate(order: Order, by) -> bool:
    """Late payment: give back the lines cancelled by the expiry if every one is still bookable (under lock). An
    order somebody cancelled (the customer on the manage page, staff) is never given back: the payment is credit."""
    if order.cancel_reason not in EXPIRY_REASONS:
        return False

    lines = [ln for ln in order.service_lines if ln.status == "cancelada"]
    services = lock_services([(ln.service_id, ln.service_date) for ln in lines])
    for ln in lines:
        req = LineRequest(
            service_id=ln.service_id,
            day=ln.service_date,
            hhmm=ln.start_time,
            people=ln.people,
            provider_id=ln.provider_id,
        )
        entry, _ = check_line(services[ln.service_id], req, staff=True, ignore_line_id=ln.id)
        if not entry.reservable:
            return False
    for ln in lines:
        ln.status, ln.cancelled_at, ln.cancel_reason = "pendiente", None, None
    for pl in order.product_lines:
        pl.status = "activa"
    order.cancelled_at = order.cancelled_by_id = order.cancel_reason = None
    recalculate_order(order)
    record_event(
        order.client, "order_reinstated", "Pago Flow recibido después del vencimiento", by=by, order_id=order.id
    )
    signals.order_reinstated.send(order, by=by)
    return True


CONFIRMATION_TEXT = {
    "paid": "Payment Confirmed",
    "already_paid": "Payment Confirmed",
    "rejected": "Payment Rejected/Cancelled",
    "cancelled": "Payment Rejected/Cancelled",
    "pending": "Payment Status Pending/Unknown",
    "mismatch": "Amount mismatch",
}


def confirm_flow_token(token: str) -> tuple[int, str, FlowTransaction | None]:
    """Flow's notification for `token`: always ask getStatus, then record at most one payment; flushes.

    Returns (HTTP status, outcome or error text, transaction); outcomes are the keys of CONFIRMATION_TEXT.
    The caller commits on 200 and rolls back otherwise.
    """

    if not token:
        return 400, "Missing token", None
    tx = _transaction_for(token, lock=False)
    if tx is None:
        log.warning("Flow confirmation for unknown token")
        return 404, "Unknown token", None
    try:
        status = flow_gateway().get_status(token)  # outside the locks: no order waits for Flow's answer
    except (FlowUnavailable, FlowError, FlowDisabled):
        log.exception("Flow getStatus failed")
        return 502, "Flow API request failed", tx
    tx = lock_transaction(tx)  # order, then transaction; apply_status then sees a payment recorded meanwhile
    return 200, apply_status(tx, status), tx


def expire_unpaid_orders() -> int:
    """Job: cancel unpaid orders past `vence_pago` (asking Flow first); flushes; returns how many were cancelled."""

    now = clock.now()
    due = db.session.scalars(
        sa.select(Order)
        .where(
            Order.payment_status == "pendiente",
            Order.paid == 0,
            Order.cancelled_at.is_(None),
            Order.payment_due_at.is_not(None),
            Order.payment_due_at < now,
        )
        .order_by(Order.id)
        .with_for_update(skip_locked=True, key_share=True)  # the order locks (lock_order)
    ).all()
    sistema = ensure_system_user()
    cancelled = 0
    for order in due:
        tx = db.session.scalar(
            sa.select(FlowTransaction)
            .where(FlowTransaction.order_id == order.id)
            .order_by(FlowTransaction.id.desc())
            .limit(1)
        )
        if tx is not None and tx.token and flow_enabled():
            try:
                status = flow_gateway().get_status(tx.token)
                if apply_status(lock_transaction(tx), status) in ("paid", "already_paid"):
                    continue
            except Exception:  # Flow down: cancel anyway; a late confirmation is handled (§6.3)
                log.exception("Flow status check failed during expiry")
        reason = EXPIRY_REASONS[0] if order.checkout_method == "flow" else EXPIRY_REASONS[1]
        cancel_order(order, reason=reason, by=sistema)
        signals.order_expired.send(order, by=sistema)
        cancelled += 1
    return cancelled
