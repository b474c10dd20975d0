from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.policy import PRICING_RULE_BY_TYPE, SERVICE_TYPE_LABELS, SERVICE_TYPES, empty_grid, price_label
from app.core.db import TimestampMixin, UTCDateTime, _now, enum_check
from app.extensions import db

service_providers = sa.Table(
    "service_providers",
    db.metadata,
    sa.Column("service_id", sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("provider_id", sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
)


class ServiceCategory(TimestampMixin, db.Model):
    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    image: Mapped[str | None] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    schedule_note: Mapped[str | None] = mapped_column(sa.Text)
    sort_order: Mapped[int] = mapped_column(default=0)

    services: Mapped[list[Service]] = relationship(back_populates="category")

    def has_history(self) -> bool:
        return bool(self.services)

    def __str__(self) -> str:
        return self.name


class Provider(TimestampMixin, db.Model):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    is_active: Mapped[bool] = mapped_column(default=True)

    services: Mapped[list[Service]] = relationship(secondary=service_providers, back_populates="providers")
    absences: Mapped[list[ProviderAbsence]] = relationship(back_populates="provider")

    def has_history(self) -> bool:
        """Purchases, products or absences would lose their provider."""
        return any(
            db.session.scalar(sa.select(sa.exists().where(col == self.id)))
            for col in (Purchase.provider_id, Product.provider_id, ProviderAbsence.provider_id)
        )

    def __str__(self) -> str:
        return self.name


class ProviderAbsence(db.Model):
    __tablename__ = "provider_absences"
    __table_args__ = (sa.CheckConstraint("end_date >= start_date", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    provider: Mapped[Provider] = relationship(back_populates="absences")


class Service(TimestampMixin, db.Model):
    __tablename__ = "services"
    __table_args__ = (
        enum_check("service_type", SERVICE_TYPES),
        sa.CheckConstraint("base_price >= 0", name="price_not_negative"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("min_people >= 1 AND max_people >= min_people", name="people_range"),
        sa.CheckConstraint("max_concurrent_bookings >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    base_price: Mapped[int] = mapped_column(sa.Integer)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_categories.id"), index=True)
    min_people: Mapped[int] = mapped_column(default=1)
    max_people: Mapped[int] = mapped_column(default=1)
    max_concurrent_bookings: Mapped[int] = mapped_column(default=1)
    opening_time: Mapped[time] = mapped_column(default=time(9, 0))
    closing_time: Mapped[time] = mapped_column(default=time(23, 59))
    slot_grid: Mapped[dict] = mapped_column(sa.JSON, default=empty_grid)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_published: Mapped[bool] = mapped_column(default=True)
    service_type: Mapped[str] = mapped_column(sa.String(10), default="otro")
    image: Mapped[str | None] = mapped_column(sa.String(255))
    web_description: Mapped[str | None] = mapped_column(sa.Text)
    sort_order: Mapped[int] = mapped_column(default=0)

    category: Mapped[ServiceCategory | None] = relationship(back_populates="services")
    providers: Mapped[list[Provider]] = relationship(secondary=service_providers, back_populates="services")

    @property
    def pricing_rule(self) -> str:
        return PRICING_RULE_BY_TYPE[self.service_type]

    @property
    def type_label(self) -> str:
        return SERVICE_TYPE_LABELS.get(self.service_type, self.service_type)

    @property
    def price_label(self) -> str:
        return price_label(self.service_type, self.base_price, self.max_people)

    @property
    def is_bookable_online(self) -> bool:
        return self.is_active and self.is_published

    def __str__(self) -> str:
        return self.name


class ProductCategory(db.Model):
    __tablename__ = "product_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)

    products: Mapped[list[Product]] = relationship(back_populates="category")

    def has_history(self) -> bool:
        return bool(self.products)

    def __str__(self) -> str:
        return self.name


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("base_price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    base_price: Mapped[int] = mapped_column(sa.Integer, default=0)
    stock: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_categories.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_published: Mapped[bool] = mapped_column(default=False)
    is_gift_card: Mapped[bool] = mapped_column(default=False)

    provider: Mapped[Provider | None] = relationship()
    category: Mapped[ProductCategory | None] = relationship(back_populates="products")

    def has_history(self) -> bool:
        """Stock movements or purchase lines (later also sales) reference it."""
        return any(
            db.session.scalar(sa.select(sa.exists().where(col == self.id)))
            for col in (StockMovement.product_id, PurchaseLine.product_id)
        )

    def __str__(self) -> str:
        return self.name


class Purchase(db.Model):
    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_date: Mapped[date]
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    payment_method: Mapped[str | None] = mapped_column(sa.String(30))
    document_number: Mapped[str | None] = mapped_column(sa.String(50))
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    provider: Mapped[Provider | None] = relationship()
    lines: Mapped[list[PurchaseLine]] = relationship(
        back_populates="purchase", cascade="all, delete-orphan", order_by="PurchaseLine.id"
    )

    def __str__(self) -> str:
        return f"Compra #{self.id}"


class PurchaseLine(db.Model):
    __tablename__ = "purchase_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(sa.ForeignKey("purchases.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"), index=True)
    description: Mapped[str] = mapped_column(sa.String(255))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)

    purchase: Mapped[Purchase] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()


STOCK_REASONS = (
    "venta",
    "venta_anulada",
    "venta_editada",
    "compra",
    "compra_editada",
    "compra_eliminada",
    "ajuste",
)


class StockMovement(db.Model):
    __tablename__ = "stock_movements"
    __table_args__ = (enum_check("reason", STOCK_REASONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.String(255))
    purchase_id: Mapped[int | None] = mapped_column(sa.Integer)
    order_id: Mapped[int | None] = mapped_column(sa.Integer)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    product: Mapped[Product] = relationship()


class ServiceBlock(db.Model):
    __tablename__ = "service_blocks"
    __table_args__ = (sa.CheckConstraint("end_date >= start_date", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("services.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    service: Mapped[Service | None] = relationship()


class SlotBlock(db.Model):
    __tablename__ = "slot_blocks"
    __table_args__ = (sa.UniqueConstraint("service_id", "date", "time", name="uq_slot_blocks_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), index=True)
    date: Mapped[date]
    time: Mapped[str] = mapped_column(sa.String(5))
    reason: Mapped[str] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    service: Mapped[Service] = relationship()
