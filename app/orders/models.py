from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, _now, enum_check
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
        sa.Index("ix_orders_requires_refund", "requires_refund", postgresql_where=sa.text("requires_refund"),
                 sqlite_where=sa.text("requires_refund")),
        # client_stats' spend per client as an index-only scan (automations benchmark, docs/PERFORMANCE.md)
        sa.Index("ix_orders_client_stats", "client_id", postgresql_include=["paid", "cancelled_at"]),
        # client_stats' non-cancelled orders in id order (merged with the lines per order) as an index-only scan
        # (segmentation benchmark, docs/PERFORMANCE.md)
        sa.Index("ix_orders_live_by_id", "id", postgresql_include=["client_id", "paid"],
                 postgresql_where=sa.text("cancelled_at IS NULL"), sqlite_where=sa.text("cancelled_at IS NULL")),
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
        from app.core import clock

        if (self.payment_status == "pendiente" and self.checkout_method == "flow" and self.payment_due_at
                and self.payment_due_at > clock.now()):
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
        sa.Index("ix_order_service_lines_sold", "service_date", "status",
                 postgresql_include=["id", "service_id", "start_time", "people", "subtotal"]),
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

    holds: Mapped[list[CartHold]] = relationship(back_populates="cart", order_by="CartHold.id",
                                                 cascade="all, delete-orphan")
    product_lines: Mapped[list[CartProductLine]] = relationship(back_populates="cart", order_by="CartProductLine.id",
                                                                cascade="all, delete-orphan")


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
