from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, _now, enum_check
from app.extensions import db

FLOW_STATUSES = ("creada", "pagada", "rechazada", "anulada", "pendiente", "monto_incorrecto")


class PaymentMethod(db.Model):
    __tablename__ = "payment_methods"
    __table_args__ = (sa.CheckConstraint("code <> 'descuento'", name="not_descuento"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    is_public: Mapped[bool] = mapped_column(default=False)
    counts_as_cash: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.label


class FlowTransaction(db.Model):
    __tablename__ = "flow_transactions"
    __table_args__ = (enum_check("status", FLOW_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    commerce_order: Mapped[str] = mapped_column(sa.String(60), unique=True)
    token: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    flow_order: Mapped[str | None] = mapped_column(sa.String(60))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="creada")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    raw: Mapped[dict | None] = mapped_column(sa.JSON)

    order = relationship("Order")


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        enum_check("status", ("valido", "anulado")),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.Index("ix_payments_paid_at", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    method: Mapped[str] = mapped_column(sa.ForeignKey("payment_methods.code"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    gift_card_id: Mapped[int | None] = mapped_column(sa.Integer)
    is_refund: Mapped[bool] = mapped_column(default=False)
    refund_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"))
    reference: Mapped[str | None] = mapped_column(sa.String(120))
    flow_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flow_transactions.id"), unique=True)
    status: Mapped[str] = mapped_column(sa.String(8), default="valido")
    after_close: Mapped[bool] = mapped_column(default=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    order = relationship("Order", back_populates="payments")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])


class FakeFlowPayment(db.Model):
    """State of the fake Flow (FLOW_MODE=fake, demo and tests only): what Flow would keep on its side."""

    __tablename__ = "fake_flow_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    flow_order: Mapped[str] = mapped_column(sa.String(20))
    commerce_order: Mapped[str] = mapped_column(sa.String(60))
    subject: Mapped[str] = mapped_column(sa.String(255))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    url_confirmation: Mapped[str] = mapped_column(sa.String(500))
    url_return: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
