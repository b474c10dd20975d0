"""The booking-and-money core's models: orders and their lines, discounts and codes, carts and holds, payments and
methods, Flow transactions, gift cards and their ledger, cash closes. One module, as pretix keeps an order and its
money together: order totals read payments without crossing a package boundary. Table names are the original ones."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.clients.models import register_history
from app.core import clock
from app.core.db import UTCDateTime, _now, enum_check
from app.core.money import format_clp
from app.extensions import db

ORDER_ORIGINS = ("web", "recepcion", "telefono", "api")
CHECKOUT_METHODS = ("transferencia", "flow")
PAYMENT_STATUSES = ("pendiente", "parcial", "pagado", "cancelado", "reembolsado")
BOOKING_STATUSES = ("pendiente", "checkin", "checkout", "no_show", "cancelada")
LINE_STATUSES = ("pendiente", "checkin", "checkout", "no_show", "cancelada")
PRODUCT_LINE_STATUSES = ("activa", "anulada")
PRICING_RULES = ("por_persona", "por_reserva")
PAYMENT_STATUS_LABELS = {
    "pendiente": "Pendiente de pago",
    "parcial": "Pago parcial",
    "pagado": "Pagada",
    "cancelado": "Cancelada",
    "reembolsado": "Reembolsada",
}
BOOKING_STATUS_LABELS = {  # an order's booking status and a service line's status share these words
    "pendiente": "Pendiente",
    "checkin": "En el spa",
    "checkout": "Finalizada",
    "no_show": "No show",
    "cancelada": "Cancelada",
}


class DiscountCode(db.Model):
    __tablename__ = "discount_codes"
    __table_args__ = (
        enum_check("kind", ("porcentaje", "monto")),
        sa.CheckConstraint("value > 0", name="value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    value: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True)
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    max_uses: Mapped[int | None]
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    description: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    def __str__(self) -> str:
        return self.code


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        enum_check("origin", ORDER_ORIGINS),
        enum_check("payment_status", PAYMENT_STATUSES),
        enum_check("booking_status", BOOKING_STATUSES),
        sa.Index("ix_orders_client_id", "client_id"),
        sa.Index("ix_orders_sold_at", "sold_at"),
        sa.Index("ix_orders_unpaid_due", "payment_status", "payment_due_at"),
        sa.Index(
            "ix_orders_requires_refund",
            "requires_refund",
            postgresql_where=sa.text("requires_refund"),
            sqlite_where=sa.text("requires_refund"),
        ),
        # client_stats' spend per client as an index-only scan (automations benchmark, docs/PERFORMANCE.md)
        sa.Index("ix_orders_client_stats", "client_id", postgresql_include=["paid", "cancelled_at"]),
        # client_stats' non-cancelled orders in id order (merged with the lines per order) as an index-only scan
        # (segmentation benchmark, docs/PERFORMANCE.md)
        sa.Index(
            "ix_orders_live_by_id",
            "id",
            postgresql_include=["client_id", "paid"],
            postgresql_where=sa.text("cancelled_at IS NULL"),
            sqlite_where=sa.text("cancelled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    origin: Mapped[str] = mapped_column(sa.String(10))
    contact_name: Mapped[str | None] = mapped_column(sa.String(100))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    checkout_method: Mapped[str | None] = mapped_column(sa.String(15))
    payment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    services_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    products_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    discount_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    balance_due: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    credit: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    payment_status: Mapped[str] = mapped_column(sa.String(12), default="pendiente")
    booking_status: Mapped[str] = mapped_column(sa.String(10), default="pendiente")
    requires_refund: Mapped[bool] = mapped_column(default=False)
    discount_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("discount_codes.id"))
    fiscal_document_number: Mapped[str | None] = mapped_column(sa.String(50))
    charged: Mapped[bool] = mapped_column(default=False)
    comments: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # the booking policies that applied at checkout (self-service.md §1): later edits never change these terms
    policy_snapshot: Mapped[dict | None] = mapped_column(sa.JSON)
    # the late-cancellation fee the spa kept when the customer cancelled after the cut-off (≤ what was paid): part
    # of the cancelled order's total, so only the rest is credit to return
    cancellation_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    client = relationship("Client")
    service_lines: Mapped[list[ServiceLine]] = relationship(back_populates="order", order_by="ServiceLine.id")
    product_lines: Mapped[list[ProductLine]] = relationship(back_populates="order", order_by="ProductLine.id")
    discounts: Mapped[list[Discount]] = relationship(back_populates="order", order_by="Discount.id")
    payments = relationship("Payment", back_populates="order", order_by="Payment.id")
    discount_code: Mapped[DiscountCode | None] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def payment_status_label(self) -> str:
        if (
            self.payment_status == "pendiente"
            and self.checkout_method == "flow"
            and self.payment_due_at
            and self.payment_due_at > clock.now()
        ):
            return "Esperando pago Flow"
        return PAYMENT_STATUS_LABELS.get(self.payment_status, self.payment_status)

    def __str__(self) -> str:
        return f"Venta #{self.id}"


class ServiceLine(db.Model):
    __tablename__ = "order_service_lines"
    __table_args__ = (
        enum_check("status", LINE_STATUSES),
        enum_check("pricing_rule", PRICING_RULES),
        sa.CheckConstraint("people >= 1", name="people_positive"),
        sa.Index("ix_order_service_lines_slot", "service_id", "service_date", "start_time"),
        sa.Index("ix_order_service_lines_provider_date", "provider_id", "service_date"),
        sa.Index("ix_order_service_lines_service_date", "service_date"),  # the front desk board
        # client_stats' visit days per order as an index-only scan (automations benchmark)
        sa.Index("ix_order_service_lines_visits", "order_id", postgresql_include=["service_date", "status"]),
        # servicios vendidos: the month's aggregate and the ids of one page as index-only scans
        sa.Index(
            "ix_order_service_lines_sold",
            "service_date",
            "status",
            postgresql_include=["id", "service_id", "start_time", "people", "subtotal"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    service_date: Mapped[date]
    start_time: Mapped[str] = mapped_column(sa.String(5))
    people: Mapped[int]
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    pricing_rule: Mapped[str] = mapped_column(sa.String(12))
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(10), default="pendiente")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    # customer reschedules through the manage-booking page (at most MAX_CUSTOMER_RESCHEDULES)
    reschedule_count: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="service_lines")
    service = relationship("Service")
    provider = relationship("Provider")


class ProductLine(db.Model):
    __tablename__ = "order_product_lines"
    __table_args__ = (
        enum_check("status", PRODUCT_LINE_STATUSES),
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(8), default="activa")
    recipient_name: Mapped[str | None] = mapped_column(sa.String(100))
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    recipient_phone: Mapped[str | None] = mapped_column(sa.String(20))
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    order: Mapped[Order] = relationship(back_populates="product_lines")
    product = relationship("Product")


class Discount(db.Model):
    __tablename__ = "discounts"
    __table_args__ = (
        enum_check("status", ("activo", "anulado")),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    percent: Mapped[int | None]
    reason: Mapped[str] = mapped_column(sa.String(255))
    discount_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("discount_codes.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(8), default="activo")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="discounts")
    code: Mapped[DiscountCode | None] = relationship()


class Cart(db.Model):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)
    discount_code: Mapped[str | None] = mapped_column(sa.String(30))
    converted_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    holds: Mapped[list[CartHold]] = relationship(
        back_populates="cart", order_by="CartHold.id", cascade="all, delete-orphan"
    )
    product_lines: Mapped[list[CartProductLine]] = relationship(
        back_populates="cart", order_by="CartProductLine.id", cascade="all, delete-orphan"
    )


class CartHold(db.Model):
    __tablename__ = "cart_holds"
    __table_args__ = (
        enum_check("pricing_rule", PRICING_RULES),
        sa.Index("ix_cart_holds_slot", "service_id", "date", "time"),
        sa.Index("ix_cart_holds_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    date: Mapped[date]
    time: Mapped[str] = mapped_column(sa.String(5))
    people: Mapped[int]
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    pricing_rule: Mapped[str] = mapped_column(sa.String(12))
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set by the expire_cart_holds job: the capacity claim is gone, the line stays in the cart as "vencida"
    # and is re-checked like a new one at checkout (spec booking.md §3).
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    cart: Mapped[Cart] = relationship(back_populates="holds")
    service = relationship("Service")
    provider = relationship("Provider")

    def is_live(self, at: datetime) -> bool:
        return self.expires_at > at


class CartProductLine(db.Model):
    __tablename__ = "cart_product_lines"
    __table_args__ = (sa.CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    recipient_name: Mapped[str | None] = mapped_column(sa.String(100))
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    cart: Mapped[Cart] = relationship(back_populates="product_lines")
    product = relationship("Product")

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


# --- money: payments, Flow, gift cards, cash close ---------------------------------------------------------

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
        sa.Index(
            "ix_payments_cash", "paid_at", "id", postgresql_include=["status", "method", "amount", "recorded_by_id"]
        ),
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
        sa.Index(
            "uq_cash_closes_open_day",
            "business_date",
            unique=True,
            postgresql_where=sa.text("status = 'cerrada'"),
            sqlite_where=sa.text("status = 'cerrada'"),
        ),
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
    lines: Mapped[list[CashCloseLine]] = relationship(
        back_populates="cash_close", order_by="CashCloseLine.id", cascade="all, delete-orphan"
    )


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
    GiftCard.initial_amount
    + sa.select(sa.cast(sa.func.coalesce(sa.func.sum(GiftCardEntry.amount), 0), sa.BigInteger))
    .where(GiftCardEntry.gift_card_id == GiftCard.id)
    .correlate_except(GiftCardEntry)
    .scalar_subquery()
)  # the cast keeps CLP integers (PostgreSQL sums are NUMERIC)


register_history(Order.client_id, DiscountCode.client_id, GiftCard.buyer_client_id, GiftCard.recipient_client_id)


# --- booking policies (self-service.md §1) ----------------------------------------------------------------------


class BookingPolicy(db.Model):
    """One row per service category: cut-offs, late and no-show fees, online deposit (integers, percents 0–100)."""

    __tablename__ = "booking_policies"
    __table_args__ = (
        sa.CheckConstraint("cancel_cutoff_hours >= 0", name="cancel_cutoff_nonnegative"),
        sa.CheckConstraint("reschedule_cutoff_hours >= 0", name="reschedule_cutoff_nonnegative"),
        sa.CheckConstraint("late_cancel_fee_percent BETWEEN 0 AND 100", name="late_fee_percent"),
        sa.CheckConstraint("no_show_fee_percent BETWEEN 0 AND 100", name="no_show_fee_percent"),
        sa.CheckConstraint("deposit_percent BETWEEN 0 AND 100", name="deposit_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("service_categories.id", ondelete="CASCADE"), unique=True)
    cancel_cutoff_hours: Mapped[int]
    reschedule_cutoff_hours: Mapped[int]
    late_cancel_fee_percent: Mapped[int]
    no_show_fee_percent: Mapped[int]
    deposit_percent: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    category = relationship("ServiceCategory")


class BookingPolicyChange(db.Model):
    """Audit of the policies (`policy_changed`, old → new); never edited."""

    __tablename__ = "booking_policy_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("booking_policies.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(sa.String(30), default="policy_changed")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict | None] = mapped_column(sa.JSON)

    policy: Mapped[BookingPolicy] = relationship()
    user = relationship("User")


class ClientStats(db.Model):
    """One row per client: the figures of client_queries.client_stats() (visits, spend, first and last visit), kept
    current in the same transaction as every order, line and payment change (client_stats_services) and recomputed
    nightly. The figures depend on the day (a booked line becomes a visit on its day): a row is exact from `as_of`
    until the day before `next_visit`, the first counted line after `as_of`; reads recompute the few rows past it."""

    __tablename__ = "client_stats"
    # the rows past their next_visit (or computed for a later day) found by index: the reads recompute only those
    __table_args__ = (sa.Index("ix_client_stats_next_visit", "next_visit"), sa.Index("ix_client_stats_as_of", "as_of"))

    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    visits: Mapped[int] = mapped_column(default=0, server_default="0")
    spend: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    first_visit: Mapped[date | None]
    last_visit: Mapped[date | None]
    next_visit: Mapped[date | None]
    as_of: Mapped[date]
