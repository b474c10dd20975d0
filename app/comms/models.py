"""Outbox rows, inbound SMS, SMS templates and the demo fakes' outbox (communications.md §2, §7, §8)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clients.models import register_history
from app.comms.policy import (
    CHANNEL_LABELS,
    COMMUNICATION_TYPES,
    MESSAGE_TYPES,
    SMS_CAPABLE_TYPES,
    STATUS_LABELS,
    STATUSES,
    is_marketing,
    reason_label,
    type_label,
)
from app.core.db import TimestampMixin, UTCDateTime, _now, enum_check
from app.extensions import db


class CommunicationLog(TimestampMixin, db.Model):
    """One outbound message: queued PENDING by a service, sent by the dispatcher (the outbox)."""

    __tablename__ = "communication_logs"
    __table_args__ = (
        enum_check("communication_type", COMMUNICATION_TYPES),
        enum_check("message_type", tuple(MESSAGE_TYPES)),
        enum_check("status", STATUSES),
        sa.Index("ix_communication_logs_status_not_before", "status", "not_before"),
        sa.Index("ix_communication_logs_client_channel_sent", "client_id", "communication_type", "sent_at"),
        sa.Index("ix_communication_logs_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    gift_card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gift_cards.id"), index=True)
    communication_type: Mapped[str] = mapped_column(sa.String(10))
    message_type: Mapped[str] = mapped_column(sa.String(30))
    destination: Mapped[str | None] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    content: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default="PENDING")
    reason: Mapped[str | None] = mapped_column(sa.String(30))
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[dict | None] = mapped_column(sa.JSON)  # data given when queued (staff text, event ids…)
    force_send: Mapped[bool] = mapped_column(default=False)  # "enviar ahora": skip quiet hours and caps
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    provider_response: Mapped[dict | None] = mapped_column(sa.JSON)
    external_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    segments: Mapped[int | None]
    cost: Mapped[int] = mapped_column(sa.Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    triggered_by: Mapped[str] = mapped_column(sa.String(60))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    client = relationship("Client")
    order = relationship("Order")
    created_by = relationship("User")

    @property
    def channel(self) -> str:
        return self.communication_type

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.communication_type, self.communication_type)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def reason_label(self) -> str:
        return reason_label(self.reason)

    @property
    def type_label(self) -> str:
        return type_label(self.message_type)

    @property
    def is_marketing(self) -> bool:
        return is_marketing(self.message_type)


class InboundSms(db.Model):
    """An SMS reply (webhook or polled batch replies); STOP/START are acted on, others listed for staff."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, index=True)
    batch_id: Mapped[str | None] = mapped_column(sa.String(100))
    dedupe_key: Mapped[str] = mapped_column(sa.String(64), unique=True)  # polled replies are seen many times
    action: Mapped[str | None] = mapped_column(sa.String(10))  # stop | start | None (kept for staff)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    communication_log_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communication_logs.id"))

    client = relationship("Client")


class SmsTemplate(TimestampMixin, db.Model):
    """Editable SMS text with {variables}; at most one active per message type."""

    __tablename__ = "sms_templates"
    __table_args__ = (
        sa.UniqueConstraint("name", "message_type", name="uq_sms_templates_name_message_type"),
        enum_check("message_type", SMS_CAPABLE_TYPES),
        sa.Index(
            "uq_sms_templates_active_type",
            "message_type",
            unique=True,
            postgresql_where=sa.text("is_active"),
            sqlite_where=sa.text("is_active = 1"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    message_type: Mapped[str] = mapped_column(sa.String(30))
    content: Mapped[str] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def type_label(self) -> str:
        return type_label(self.message_type)


class FakeMessage(db.Model):
    """What the fake SMS/e-mail adapters "sent" (demo and tests), shown on /ventas/comunicaciones/bandeja-fake/."""

    __tablename__ = "fake_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    destination: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    html: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict | None] = mapped_column(sa.JSON)
    attachments: Mapped[list | None] = mapped_column(sa.JSON)  # file names and types only
    provider_id: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, index=True)


register_history(CommunicationLog.client_id, InboundSms.client_id)
