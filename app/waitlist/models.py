"""`waitlist_entries` (self-service.md §4): one customer's request to be told when a full slot frees."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clients.models import CLIENT_LANGUAGES, register_history
from app.core.db import UTCDateTime, _now, enum_check
from app.extensions import db

WAITLIST_STATUSES = ("esperando", "ofrecida", "aceptada", "vencida", "cancelada")
ACTIVE_STATUSES = ("esperando", "ofrecida")
STATUS_LABELS = {
    "esperando": "Esperando",
    "ofrecida": "Oferta enviada",
    "aceptada": "Aceptada",
    "vencida": "Vencida",
    "cancelada": "Cancelada",
}


class WaitlistEntry(db.Model):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        enum_check("status", WAITLIST_STATUSES),
        enum_check("language", CLIENT_LANGUAGES),
        sa.CheckConstraint("people >= 1", name="people_positive"),
        sa.Index("ix_waitlist_entries_service_date_status", "service_id", "date", "status"),
        sa.Index("ix_waitlist_entries_phone_status", "phone", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    date: Mapped[date] = mapped_column(sa.Date)
    time: Mapped[str | None] = mapped_column(sa.String(5))  # None: "cualquier hora ese día"
    people: Mapped[int]
    consent: Mapped[bool] = mapped_column(default=False)
    # the language of the offer's SMS/e-mail (self-service.md §5): the page's language when the visitor joined
    language: Mapped[str] = mapped_column(sa.String(2), default="es", server_default="es")
    status: Mapped[str] = mapped_column(sa.String(10), default="esperando")
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    offer_count: Mapped[int] = mapped_column(default=0)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offered_time: Mapped[str | None] = mapped_column(sa.String(5))  # the hour held by the current offer
    cart_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carts.id", ondelete="SET NULL"))
    hold_id: Mapped[int | None]  # the offer's CartHold (deleted with its cart: no foreign key)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # aceptada / vencida / cancelada
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    service = relationship("Service")
    client = relationship("Client")
    cart = relationship("Cart")
    order = relationship("Order")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def hour_label(self) -> str:
        return self.time or "Cualquier hora"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


register_history(WaitlistEntry.client_id)
