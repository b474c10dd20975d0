"""CRM models (spec crm.md §9.1, §9.2, §10). Enums are stored as the original's codes with CHECK constraints."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import TimestampMixin, UTCDateTime, _now, enum_check
from app.extensions import db

if TYPE_CHECKING:
    from app.clients.models import Client

CAMPAIGN_STATUS_LABELS = {
    "Planning": "Planificación",
    "Active": "Activa",
    "Completed": "Completada",
    "Cancelled": "Cancelada",
}
AUDIENCE_SOURCES = {"reglas": "Reglas (visitas, gasto, segmentos)", "lista": "Lista explícita de clientes"}
CAMPAIGN_CHANNELS = {"sms": "SMS", "email": "Correo electrónico", "whatsapp": "WhatsApp"}  # WhatsApp: ManyChat
TARGET_SOURCES = ("segmento", "manual", "reglas")
TARGET_SOURCE_LABELS = {"segmento": "Segmento", "manual": "Selección manual", "reglas": "Reglas"}

LEAD_STATUS_LABELS = {
    "New": "Nuevo",
    "Contacted": "Contactado",
    "Qualified": "Calificado",
    "Unqualified": "No calificado",
    "Converted": "Convertido",
}
LEAD_SOURCE_LABELS = {
    "Website Form": "Formulario web",
    "Referral": "Referido",
    "Cold Call": "Llamada en frío",
    "Event": "Evento",
    "Campaign": "Campaña",
    "Other": "Otro",
}
DEAL_STAGE_LABELS = {
    "Prospecting": "Prospección",
    "Qualification": "Calificación",
    "Proposal": "Propuesta",
    "Negotiation": "Negociación",
    "Closed Won": "Ganada",
    "Closed Lost": "Perdida",
}
ACTIVITY_TYPES = (
    "Call",
    "Email Sent",
    "Email Received",
    "Meeting",
    "Note Added",
    "Status Change",
    "Campaign Initiation",
    "SMS Sent",
    "SMS Failed",
    "Email Failed",
    "WhatsApp Sent",
    "WhatsApp Failed",
    "Other",
)
INTERACTION_TYPES = (
    "EMAIL_OPEN",
    "EMAIL_CLICK",
    "SMS_REPLY",
    "WHATSAPP_REPLY",
    "CALL_ANSWERED",
    "CALL_VOICEMAIL",
    "FORM_SUBMIT",
    "OTHER",
)


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        enum_check("status", tuple(CAMPAIGN_STATUS_LABELS)),
        enum_check("audience_source", tuple(AUDIENCE_SOURCES)),
        sa.CheckConstraint("budget >= 0 AND target_min_visits >= 0 AND target_min_spend >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    goal: Mapped[str | None] = mapped_column(sa.Text)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="Planning")
    budget: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    target_min_visits: Mapped[int] = mapped_column(default=0)
    target_min_spend: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    target_segments: Mapped[list | None] = mapped_column(sa.JSON)
    audience_source: Mapped[str] = mapped_column(sa.String(10), default="reglas")
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    email_subject_template: Mapped[str | None] = mapped_column(sa.String(255))
    email_body_template: Mapped[str | None] = mapped_column(sa.Text)
    sms_template: Mapped[str | None] = mapped_column(sa.Text)
    whatsapp_template: Mapped[str | None] = mapped_column(sa.Text)
    automation_notes: Mapped[str | None] = mapped_column(sa.Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def status_label(self) -> str:
        return CAMPAIGN_STATUS_LABELS.get(self.status, self.status)

    def __str__(self) -> str:
        return self.name


class CampaignTarget(db.Model):
    __tablename__ = "campaign_targets"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "client_id", name="uq_campaign_targets_campaign_client"),
        enum_check("source", TARGET_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(sa.String(10))
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class Lead(TimestampMixin, db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        enum_check("status", tuple(LEAD_STATUS_LABELS)),
        enum_check("source", tuple(LEAD_SOURCE_LABELS)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100), default="")
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    company_name: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(12), default="New")
    source: Mapped[str] = mapped_column(sa.String(15), default="Other")
    notes: Mapped[str | None] = mapped_column(sa.Text)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)

    campaign: Mapped[Campaign | None] = relationship()
    activities: Mapped[list[Activity]] = relationship(back_populates="related_lead")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Company(TimestampMixin, db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    website: Mapped[str | None] = mapped_column(sa.String(255))
    address: Mapped[str | None] = mapped_column(sa.String(255))

    contacts: Mapped[list[Contact]] = relationship(back_populates="company")

    def __str__(self) -> str:
        return self.name


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)  # NULLs never collide
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    job_title: Mapped[str | None] = mapped_column(sa.String(100))
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id", ondelete="SET NULL"))
    linked_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"), unique=True)
    notes: Mapped[str | None] = mapped_column(sa.Text)

    company: Mapped[Company | None] = relationship(back_populates="contacts")
    client: Mapped[Client | None] = relationship()
    deals: Mapped[list[Deal]] = relationship(back_populates="contact")
    activities: Mapped[list[Activity]] = relationship(back_populates="related_contact")
    interactions: Mapped[list[CampaignInteraction]] = relationship(back_populates="contact")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Deal(TimestampMixin, db.Model):
    __tablename__ = "deals"
    __table_args__ = (
        enum_check("stage", tuple(DEAL_STAGE_LABELS)),
        sa.CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(15), default="Prospecting")
    expected_close_date: Mapped[date | None]
    amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    probability: Mapped[int] = mapped_column(default=0)
    related_booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str | None] = mapped_column(sa.Text)

    contact: Mapped[Contact] = relationship(back_populates="deals")
    campaign: Mapped[Campaign | None] = relationship()
    activities: Mapped[list[Activity]] = relationship(back_populates="related_deal")

    def __str__(self) -> str:
        return self.name


class Activity(TimestampMixin, db.Model):
    __tablename__ = "activities"
    __table_args__ = (
        enum_check("activity_type", ACTIVITY_TYPES),
        sa.CheckConstraint(
            "(CASE WHEN related_lead_id IS NULL THEN 0 ELSE 1 END + CASE WHEN related_contact_id IS NULL THEN 0 "
            "ELSE 1 END + CASE WHEN related_deal_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="at_most_one_related",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_type: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[str] = mapped_column(sa.String(255))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    activity_date: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    related_lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    related_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    related_deal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)

    related_lead: Mapped[Lead | None] = relationship(back_populates="activities")
    related_contact: Mapped[Contact | None] = relationship(back_populates="activities")
    related_deal: Mapped[Deal | None] = relationship(back_populates="activities")
    campaign: Mapped[Campaign | None] = relationship()

    def __str__(self) -> str:
        return f"{self.activity_type}: {self.subject}"


class CampaignInteraction(db.Model):
    __tablename__ = "campaign_interactions"
    __table_args__ = (enum_check("interaction_type", INTERACTION_TYPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id", ondelete="SET NULL"))
    interaction_type: Mapped[str] = mapped_column(sa.String(20))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    details: Mapped[dict | None] = mapped_column(sa.JSON)

    contact: Mapped[Contact] = relationship(back_populates="interactions")
    campaign: Mapped[Campaign] = relationship()
    activity: Mapped[Activity | None] = relationship()
