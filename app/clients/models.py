from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import TimestampMixin, UTCDateTime, _now, enum_check
from app.extensions import db

CLIENT_ORIGINS = ("web", "recepcion", "telefono", "import", "api", "seed")
CLIENT_LANGUAGES = ("es", "en")
CLIENT_ORIGIN_LABELS = {
    "web": "Sitio web",
    "recepcion": "Recepción",
    "telefono": "Teléfono",
    "import": "Importación",
    "api": "API / integración",
    "seed": "Datos de demostración",
}
CHANNEL_FIELDS = ("accepts_sms", "accepts_email", "accepts_whatsapp")
TRANSACTIONAL_FIELDS = ("accepts_booking_confirmations", "accepts_booking_reminders", "accepts_surveys")
MARKETING_FIELDS = (
    "accepts_birthday_messages",
    "accepts_promotional",
    "accepts_newsletters",
    "accepts_reactivation",
)
CONSENT_FIELDS = CHANNEL_FIELDS + TRANSACTIONAL_FIELDS + MARKETING_FIELDS
CONSENT_LABELS = {
    "accepts_sms": "SMS",
    "accepts_email": "E-mail",
    "accepts_whatsapp": "WhatsApp",
    "accepts_booking_confirmations": "Confirmaciones de reserva",
    "accepts_booking_reminders": "Recordatorios de reserva",
    "accepts_surveys": "Encuestas",
    "accepts_birthday_messages": "Saludos de cumpleaños",
    "accepts_promotional": "Promociones",
    "accepts_newsletters": "Novedades",
    "accepts_reactivation": "Regalos de reactivación",
}
CONSENT_SOURCES = (
    "checkout",
    "recepcion",
    "staff",
    "unsubscribe_link",
    "preferences_page",
    "sms_stop",
    "sms_start",
    "import",
    "api",
    "merge",
)
EVENT_TYPES = {
    "order_created": "Venta/Reserva creada",
    "order_updated": "Venta/Reserva modificada",
    "order_cancelled": "Venta/Reserva cancelada",
    "order_reinstated": "Venta/Reserva reactivada",
    "line_added": "Servicio/Producto agregado",
    "line_removed": "Servicio/Producto quitado",
    "line_updated": "Línea modificada",
    "line_moved": "Reserva movida",
    "checked_in": "Check-in",
    "checked_out": "Check-out",
    "no_show": "No show",
    "line_reverted": "Estado revertido",
    "payment_recorded": "Pago registrado",
    "payment_voided": "Pago anulado",
    "refund_recorded": "Reembolso registrado",
    "discount_applied": "Descuento aplicado",
    "discount_voided": "Descuento anulado",
    "giftcard_issued": "Gift card emitida",
    "giftcard_redeemed": "Gift card redimida",
    "giftcard_reversed": "Gift card reversada",
    "giftcard_voided": "Gift card anulada",
    "client_created": "Cliente creado",
    "client_updated": "Cliente actualizado",
    "client_update_requested": "Actualización de datos pendiente",
    "client_update_rejected": "Actualización de datos rechazada",
    "client_merged": "Clientes fusionados",
    "consent_changed": "Consentimiento modificado",
    "flow_payment_late": "Pago Flow tardío",
    "waitlist_joined": "Lista de espera: inscripción",
    "waitlist_offered": "Lista de espera: cupo ofrecido",
}
# Events that describe only the client record itself; anything else is history that must not be lost.
SELF_EVENTS = ("client_created", "client_updated", "consent_changed", "client_update_rejected")


HISTORY_COLUMNS: list = []  # client-id columns of higher packages' rows that make a client "with history"


def register_history(*columns) -> None:
    """Called by the models of a package above clients (sales, comms) for each column that points at a client."""
    HISTORY_COLUMNS.extend(c for c in columns if not any(c is h for h in HISTORY_COLUMNS))


class Client(TimestampMixin, db.Model):
    __tablename__ = "clients"
    __table_args__ = (enum_check("origin", CLIENT_ORIGINS), enum_check("language", CLIENT_LANGUAGES))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    document_id: Mapped[str | None] = mapped_column(sa.String(30), index=True)
    country: Mapped[str | None] = mapped_column(sa.String(60))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    birth_date: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.String(10), default="recepcion")
    # the language of the customer messages (self-service.md §5): the site's language at their last web checkout
    language: Mapped[str] = mapped_column(sa.String(2), default="es", server_default="es")

    preferences: Mapped[ClientPreferences | None] = relationship(
        back_populates="client", uselist=False, cascade="all, delete-orphan"
    )

    @property
    def origin_label(self) -> str:
        return CLIENT_ORIGIN_LABELS.get(self.origin, self.origin)

    @property
    def first_name(self) -> str:
        parts = (self.name or "").split()
        return parts[0] if parts else ""

    @property
    def last_name(self) -> str:
        parts = (self.name or "").split()
        return " ".join(parts[1:])

    def has_history(self) -> bool:
        """Anything beyond its own record (orders, payments, messages…) must be kept: merge instead.

        Client events are not enough: seeded or migrated orders, gift cards and messages may have none. The packages
        above clients that keep such rows name their client columns with `register_history` (sales, comms)."""
        checks = [
            sa.exists().where(ClientEvent.client_id == self.id, ClientEvent.event_type.not_in(SELF_EVENTS)),
            *(sa.exists().where(column == self.id) for column in HISTORY_COLUMNS),
        ]
        return bool(db.session.scalar(sa.select(sa.or_(*checks))))

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class ClientPreferences(db.Model):
    __tablename__ = "client_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), unique=True)
    accepts_sms: Mapped[bool] = mapped_column(default=True)
    accepts_email: Mapped[bool] = mapped_column(default=True)
    accepts_whatsapp: Mapped[bool] = mapped_column(default=True)
    accepts_booking_confirmations: Mapped[bool] = mapped_column(default=True)
    accepts_booking_reminders: Mapped[bool] = mapped_column(default=True)
    accepts_surveys: Mapped[bool] = mapped_column(default=True)
    accepts_birthday_messages: Mapped[bool] = mapped_column(default=False)
    accepts_promotional: Mapped[bool] = mapped_column(default=False)
    accepts_newsletters: Mapped[bool] = mapped_column(default=False)
    accepts_reactivation: Mapped[bool] = mapped_column(default=False)
    preferred_contact_hour_start: Mapped[str] = mapped_column(sa.String(5), default="09:00")
    preferred_contact_hour_end: Mapped[str] = mapped_column(sa.String(5), default="20:00")
    opt_out_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)

    client: Mapped[Client] = relationship(back_populates="preferences")

    @property
    def has_marketing_consent(self) -> bool:
        return any(getattr(self, f) for f in MARKETING_FIELDS)


class ConsentEvent(db.Model):
    __tablename__ = "consent_events"
    __table_args__ = (enum_check("source", CONSENT_SOURCES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[bool | None]
    new_value: Mapped[bool]
    source: Mapped[str] = mapped_column(sa.String(20))
    message_id: Mapped[int | None] = mapped_column(sa.Integer)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    note: Mapped[str | None] = mapped_column(sa.String(200))  # staff's optional note (crm.md §3 preferencias)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class ClientEvent(db.Model):
    """Audit trail (original MovimientoCliente); never edited or deleted."""

    __tablename__ = "client_events"
    __table_args__ = (
        sa.Index("ix_client_events_client_created", "client_id", "created_at"),
        enum_check("event_type", tuple(EVENT_TYPES)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(sa.String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict | None] = mapped_column(sa.JSON)

    client: Mapped[Client] = relationship()

    @property
    def label(self) -> str:
        return EVENT_TYPES.get(self.event_type, self.event_type)


class Suppression(db.Model):
    __tablename__ = "suppressions"
    __table_args__ = (
        sa.UniqueConstraint("channel", "destination", name="uq_suppressions_channel_destination"),
        enum_check("channel", ("sms", "email")),
        enum_check("reason", ("stop", "bounce", "complaint", "manual")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(5))
    destination: Mapped[str] = mapped_column(sa.String(254))
    reason: Mapped[str] = mapped_column(sa.String(10))
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class ClientUpdateRequest(db.Model):
    """Checkout/API data that differs from the stored client, awaiting staff review (spec crm.md §4)."""

    __tablename__ = "client_update_requests"
    __table_args__ = (
        enum_check("source", ("checkout", "api")),
        enum_check("status", ("pendiente", "aprobada", "rechazada")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    source: Mapped[str] = mapped_column(sa.String(10))
    proposed: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10), default="pendiente")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class ClientImport(db.Model):
    """An uploaded client .xlsx: previewed, then applied or discarded (spec crm.md §7)."""

    __tablename__ = "client_imports"
    __table_args__ = (enum_check("status", ("preview", "aplicado", "descartado")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="preview")
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    n_rows: Mapped[int] = mapped_column(default=0)
    n_new: Mapped[int] = mapped_column(default=0)
    n_updated: Mapped[int] = mapped_column(default=0)
    n_unchanged: Mapped[int] = mapped_column(default=0)
    n_errors: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClientMerge(db.Model):
    """One duplicate merged into a survivor: what the duplicate was and what moved (spec crm.md §8)."""

    __tablename__ = "client_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    merged_client_id: Mapped[int] = mapped_column(index=True)  # the deleted duplicate's id (no FK)
    snapshot: Mapped[dict] = mapped_column(sa.JSON)
    moved: Mapped[dict] = mapped_column(sa.JSON)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    by_label: Mapped[str] = mapped_column(sa.String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
