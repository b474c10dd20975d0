from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.core.db import UTCDateTime, _now, enum_check
from app.core.money import format_clp
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
        # caja diaria: the range's aggregates and the ids of one detail page as index-only scans
        sa.Index("ix_payments_cash", "paid_at", "id",
                 postgresql_include=["status", "method", "amount", "recorded_by_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    method: Mapped[str] = mapped_column(sa.ForeignKey("payment_methods.code"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    gift_card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gift_cards.id"), index=True)
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
    voided_by = relationship("User", foreign_keys=[voided_by_id])
    gift_card = relationship("GiftCard", foreign_keys=[gift_card_id])
    method_ref = relationship("PaymentMethod", lazy="joined", viewonly=True)

    @property
    def is_valid(self) -> bool:
        return self.status == "valido"


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


GIFT_CARD_STATUSES = ("por_cobrar", "cobrado", "anulada")
GIFT_CARD_ORIGINS = ("venta", "manual", "reactivacion", "reembolso")
GIFT_CARD_ENTRY_KINDS = ("redencion", "reverso", "ajuste")


class GiftCard(db.Model):
    """A prepaid card; its balance is the initial amount plus its ledger (spec booking.md §8)."""

    __tablename__ = "gift_cards"
    __table_args__ = (
        enum_check("status", GIFT_CARD_STATUSES),
        enum_check("origin", GIFT_CARD_ORIGINS),
        sa.CheckConstraint("initial_amount > 0", name="initial_amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    initial_amount: Mapped[int] = mapped_column(sa.BigInteger)
    issued_on: Mapped[date]
    expires_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="por_cobrar")
    buyer_client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    recipient_client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    recipient_name: Mapped[str | None] = mapped_column(sa.String(100))
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    recipient_phone: Mapped[str | None] = mapped_column(sa.String(20))
    message: Mapped[str | None] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.String(12), default="manual")
    order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_product_lines.id"), index=True)
    source_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(255))

    buyer = relationship("Client", foreign_keys=[buyer_client_id])
    recipient = relationship("Client", foreign_keys=[recipient_client_id])
    entries: Mapped[list[GiftCardEntry]] = relationship(back_populates="gift_card", order_by="GiftCardEntry.id")

    def is_expired(self, today: date) -> bool:
        return today > self.expires_on

    def status_label(self, today: date) -> str:
        if self.status == "anulada":
            return "Anulada"
        if self.balance > 0 and self.is_expired(today):
            return "Vencida"
        # `por_cobrar` means "balance left" (not "unpaid"): staff read the balance, or that the card is used up
        return f"Saldo disponible {format_clp(self.balance)}" if self.status == "por_cobrar" else "Agotada"

    def __str__(self) -> str:
        return self.code


class GiftCardEntry(db.Model):
    __tablename__ = "gift_card_entries"
    __table_args__ = (
        enum_check("kind", GIFT_CARD_ENTRY_KINDS),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gift_card_id: Mapped[int] = mapped_column(sa.ForeignKey("gift_cards.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(10))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    gift_card: Mapped[GiftCard] = relationship(back_populates="entries")
    created_by = relationship("User")


class CashClose(db.Model):
    """Cierre de caja of one business day (spec reports.md §2.3); at most one `cerrada` per day."""

    __tablename__ = "cash_closes"
    __table_args__ = (
        enum_check("status", ("cerrada", "reabierta")),
        sa.Index("uq_cash_closes_open_day", "business_date", unique=True,
                 postgresql_where=sa.text("status = 'cerrada'"), sqlite_where=sa.text("status = 'cerrada'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="cerrada")
    version: Mapped[int] = mapped_column(default=1)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    reopened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_reason: Mapped[str | None] = mapped_column(sa.String(255))

    closed_by = relationship("User", foreign_keys=[closed_by_id])
    reopened_by = relationship("User", foreign_keys=[reopened_by_id])
    lines: Mapped[list[CashCloseLine]] = relationship(back_populates="cash_close", order_by="CashCloseLine.id",
                                                      cascade="all, delete-orphan")


class CashCloseLine(db.Model):
    __tablename__ = "cash_close_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    cash_close_id: Mapped[int] = mapped_column(sa.ForeignKey("cash_closes.id"), index=True)
    method_code: Mapped[str] = mapped_column(sa.ForeignKey("payment_methods.code"))
    expected: Mapped[int] = mapped_column(sa.BigInteger)
    counted: Mapped[int] = mapped_column(sa.BigInteger)
    difference: Mapped[int] = mapped_column(sa.BigInteger)

    cash_close: Mapped[CashClose] = relationship(back_populates="lines")
    method = relationship("PaymentMethod")


# Balance (monto_disponible) = initial amount + Σ ledger entries; read in the same SELECT as the card.
GiftCard.balance = column_property(
    GiftCard.initial_amount + sa.select(sa.cast(sa.func.coalesce(sa.func.sum(GiftCardEntry.amount), 0), sa.BigInteger))
    .where(GiftCardEntry.gift_card_id == GiftCard.id).correlate_except(GiftCardEntry).scalar_subquery()
)  # the cast keeps CLP integers (PostgreSQL sums are NUMERIC)
