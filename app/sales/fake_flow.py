"""The fake Flow's gateway (FLOW_MODE=fake): the FlowClient interface over FakeFlowPayment rows, so the whole
payment path runs without the outside world. Its pages and Flow-shaped API are in fake_flow_views.py."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from app.extensions import db
from app.sales.flow import STATUS_PAID, FlowError, sign
from app.sales.models import FakeFlowPayment
from app.web.urls import path_for

FAKE_API_KEY = "fake-api-key"
FAKE_SECRET = "fake-secret-key"


def fake_create(*, order_ref, subject, amount, email, url_confirmation, url_return) -> FakeFlowPayment:
    row = FakeFlowPayment(
        token=secrets.token_hex(20),
        flow_order=str(secrets.randbelow(9_000_000) + 1_000_000),
        commerce_order=order_ref,
        subject=subject,
        amount=int(amount),
        email=email,
        url_confirmation=url_confirmation,
        url_return=url_return,
    )
    db.session.add(row)
    db.session.flush()
    return row


def fake_status(token: str) -> dict:
    row = db.session.scalar(sa.select(FakeFlowPayment).where(FakeFlowPayment.token == token))
    if row is None:
        raise FlowError(105, "Invalid token")
    return {
        "flowOrder": row.flow_order,
        "commerceOrder": row.commerce_order,
        "status": row.status,
        "amount": row.amount,
        "payer": row.email,
        "subject": row.subject,
        "paymentData": {"date": row.created_at.isoformat() if row.status == STATUS_PAID else None},
    }


class FakeFlowGateway:
    """In-process adapter with the FlowClient interface, used when FLOW_MODE=fake."""

    def create_payment(self, *, order_ref, subject, amount, email, url_confirmation, url_return, timeout_s=None):
        row = fake_create(
            order_ref=order_ref,
            subject=subject,
            amount=amount,
            email=email,
            url_confirmation=url_confirmation,
            url_return=url_return,
        )

        return {"url": path_for("fake_flow.pay_page"), "token": row.token, "flow_order": row.flow_order}

    def get_status(self, token: str) -> dict:
        body = fake_status(token)
        return {
            "status": body["status"],
            "commerce_order": body["commerceOrder"],
            "amount": body["amount"],
            "flow_order": body["flowOrder"],
            "payer": body["payer"],
            "payment_date": body["paymentData"]["date"],
            "raw": body,
        }


def fake_signature_for(params: dict) -> str:
    return sign(params, FAKE_SECRET)
