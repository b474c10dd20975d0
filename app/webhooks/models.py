from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, _now, enum_check
from app.extensions import db

# event -> Spanish label (spec api.md §8); `ping` is only the admin's test delivery
EVENTS = {
    "booking.created": "Reserva creada",
    "booking.rescheduled": "Reserva reprogramada",
    "order.paid": "Venta pagada",
    "order.cancelled": "Venta cancelada",
    "client.created": "Cliente creado",
    "giftcard.redeemed": "Gift card redimida",
    "message.failed": "Mensaje fallido",
    "waitlist.offered": "Cupo ofrecido a la lista de espera",
}
PING = "ping"
DELIVERY_STATUSES = ("PENDING", "SENDING", "DELIVERED", "FAILED")
DELIVERY_STATUS_LABELS = {"PENDING": "Pendiente", "SENDING": "Enviando", "DELIVERED": "Entregada", "FAILED": "Fallida"}


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    secret: Mapped[str] = mapped_column(sa.String(64))  # 32 random bytes, hex
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User")

    def subscribes(self, event: str) -> bool:
        return self.is_active and event in (self.events or [])

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        enum_check("status", DELIVERY_STATUSES),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(40))
    event_id: Mapped[str] = mapped_column(sa.String(36))  # uuid4, also the X-Aremko-Delivery header
    payload: Mapped[dict] = mapped_column(sa.JSON)  # the whole body {"id", "evento", "fecha", "datos"}
    status: Mapped[str] = mapped_column(sa.String(10), default="PENDING")
    attempts: Mapped[int] = mapped_column(default=0)
    # when the next attempt is due; while SENDING, the end of the sender's lease (a crashed sender's row comes back)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    endpoint: Mapped[WebhookEndpoint] = relationship()

    @property
    def status_label(self) -> str:
        return DELIVERY_STATUS_LABELS.get(self.status, self.status)
