"""CRM state changes (crm.md §6.4, §9, §10). Services flush, never commit; they raise DomainError subclasses."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.clients.models import Client
from app.comms.providers import WHATSAPP_OFF_MESSAGE, whatsapp_configured
from app.core import clock
from app.core.errors import ValidationError
from app.core.identity import normalize_email
from app.core.phone import normalize_phone
from app.crm import policy
from app.crm.models import (
    ACTIVITY_TYPES,
    AUDIENCE_SOURCES,
    CAMPAIGN_CHANNELS,
    Activity,
    Campaign,
    CampaignTarget,
    Company,
    Contact,
    Deal,
    Lead,
)
from app.extensions import db
from app.sales.client_queries import SEGMENT_KEYS

TEMPLATE_FIELDS = ("email_subject_template", "email_body_template", "sms_template", "whatsapp_template")
CAMPAIGN_FIELDS = (
    "name",
    "description",
    "goal",
    "start_date",
    "end_date",
    "budget",
    "target_min_visits",
    "target_min_spend",
    "target_segments",
    "audience_source",
    "channels",
    *TEMPLATE_FIELDS,
    "automation_notes",
)


def _check_campaign(data: dict, campaign_id: int | None) -> None:
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError("El nombre es obligatorio.", field="name")
    taken = db.session.scalar(sa.select(Campaign.id).where(Campaign.name == name, Campaign.id != (campaign_id or 0)))
    if taken:
        raise ValidationError("Ya existe una campaña con ese nombre.", field="name")
    if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
        raise ValidationError("La fecha de término debe ser igual o posterior a la de inicio.", field="end_date")
    for key in ("budget", "target_min_visits", "target_min_spend"):
        if (data.get(key) or 0) < 0:
            raise ValidationError("El valor no puede ser negativo.", field=key)
    if data.get("audience_source") not in AUDIENCE_SOURCES:
        raise ValidationError("Origen de audiencia inválido.", field="audience_source")
    if any(ch not in CAMPAIGN_CHANNELS for ch in data.get("channels") or ()):
        raise ValidationError("Canal inválido.", field="channels")
    if "whatsapp" in (data.get("channels") or ()) and not whatsapp_configured():
        raise ValidationError(WHATSAPP_OFF_MESSAGE, field="channels")
    if any(seg not in SEGMENT_KEYS for seg in data.get("target_segments") or ()):
        raise ValidationError("Segmento desconocido.", field="target_segments")
    for key in TEMPLATE_FIELDS:
        error = policy.template_error(data.get(key))
        if error:
            raise ValidationError(error, field=key)


def save_campaign(campaign: Campaign | None, *, data: dict, by=None) -> Campaign:
    """Create or update a campaign after validating name, dates, audience and template placeholders; flushes.
    Raises ValidationError (with `field`) on the first problem."""
    _check_campaign(data, campaign.id if campaign else None)
    if campaign is None:
        campaign = Campaign(created_by_id=getattr(by, "id", None), status="Planning")
        db.session.add(campaign)
    for key in CAMPAIGN_FIELDS:
        if key in data:
            value = data[key]
            setattr(campaign, key, value.strip() if isinstance(value, str) else value)
    campaign.target_segments = list(data.get("target_segments") or []) or None
    campaign.channels = list(data.get("channels") or [])
    db.session.flush()
    return campaign


@dataclass(frozen=True)
class TargetsAdded:
    added: int
    existing: int


def add_targets(campaign: Campaign, client_ids: sa.Select, *, source: str, by=None) -> TargetsAdded:
    """Add every client of `client_ids` (a one-column Select) as a CampaignTarget in one INSERT … SELECT,
    skipping clients already targeted; flushes. Returns how many were added and how many already were."""
    candidates = client_ids.subquery("candidates")
    cid = candidates.c[0]
    total = db.session.execute(sa.select(sa.func.count(sa.distinct(cid)))).scalar_one()
    existing = db.session.execute(
        sa.select(sa.func.count(sa.distinct(cid))).where(
            sa.exists().where(CampaignTarget.campaign_id == campaign.id, CampaignTarget.client_id == cid)
        )
    ).scalar_one()
    new_ids = (
        sa.select(
            cid,
            sa.literal(campaign.id),
            sa.literal(source),
            sa.cast(sa.literal(getattr(by, "id", None), sa.Integer), sa.Integer),
            sa.literal(clock.now(), CampaignTarget.added_at.type),
        )
        .where(~sa.exists().where(CampaignTarget.campaign_id == campaign.id, CampaignTarget.client_id == cid))
        .distinct()
    )
    db.session.execute(
        sa.insert(CampaignTarget).from_select(
            ["client_id", "campaign_id", "source", "added_by_id", "added_at"], new_ids
        )
    )
    db.session.flush()
    return TargetsAdded(added=total - existing, existing=existing)


def client_ids_select(ids: list[int]) -> sa.Select:
    """Existing clients among `ids` (unknown ids are ignored)."""
    return sa.select(Client.id).where(Client.id.in_(ids))


# --- leads, contacts, activities ---------------------------------------------------------------------------


def log_activity(
    *,
    activity_type: str,
    subject: str,
    notes: str | None = None,
    lead: Lead | None = None,
    contact: Contact | None = None,
    deal: Deal | None = None,
    campaign_id: int | None = None,
    by=None,
    activity_date=None,
) -> Activity:
    """Record an activity on at most one of lead/contact/deal; a Call, Email Sent or Meeting on a New lead makes
    it Contacted; flushes. Raises ValidationError for an unknown type or more than one related record."""
    if activity_type not in ACTIVITY_TYPES:
        raise ValidationError("Tipo de actividad inválido.", field="activity_type")
    if sum(x is not None for x in (lead, contact, deal)) > 1:
        raise ValidationError("Una actividad se relaciona con un solo prospecto, contacto u oportunidad.")
    activity = Activity(
        activity_type=activity_type,
        subject=subject,
        notes=notes,
        related_lead=lead,
        related_contact=contact,
        related_deal=deal,
        campaign_id=campaign_id,
        created_by_id=getattr(by, "id", None),
        activity_date=activity_date or clock.now(),
    )
    db.session.add(activity)
    apply_activity_rules(activity)
    db.session.flush()
    return activity


def apply_activity_rules(activity: Activity) -> None:
    """The lead auto-status rule for an activity saved anywhere (service or back office)."""
    if activity.activity_type not in ACTIVITY_TYPES:
        raise ValidationError("Tipo de actividad inválido.", field="activity_type")
    lead = activity.related_lead or (
        db.session.get(Lead, activity.related_lead_id) if activity.related_lead_id else None
    )
    if lead is not None:
        lead.status = policy.status_after_activity(lead.status, activity.activity_type)


def clean_person(model) -> None:
    """Leads and contacts: trimmed names, e-mail lower-case, phone E.164 (raises ValidationError)."""
    model.first_name = " ".join((model.first_name or "").split())
    model.last_name = " ".join((model.last_name or "").split())
    if not model.first_name:
        raise ValidationError("El nombre es obligatorio.", field="first_name")
    model.email = normalize_email(model.email)
    model.phone = normalize_phone(model.phone) if (model.phone or "").strip() else None


def _client_for(phone: str | None, email: str | None) -> int | None:
    if phone:
        found = db.session.scalar(sa.select(Client.id).where(Client.phone == phone))
        if found:
            return found
    if email:
        ids = db.session.scalars(sa.select(Client.id).where(Client.email == email).limit(2)).all()
        if len(ids) == 1:
            return ids[0]
    return None


def convert_lead(lead: Lead, *, by=None) -> tuple[bool, str | None]:
    """Convert one Qualified lead (crm.md §10): company get-or-create, Contact linked to its Client, Deal in
    Qualification, lead Converted, Status Change activity; flushes. Returns (converted, skip message)."""
    if lead.status != "Qualified":
        return False, None
    email = normalize_email(lead.email)
    if email and db.session.scalar(sa.select(Contact.id).where(Contact.email == email)):
        return False, f"Contacto con email {email} ya existe. Conversión omitida para Lead ID {lead.id}."
    company = None
    if (lead.company_name or "").strip():
        name = lead.company_name.strip()
        company = db.session.scalar(sa.select(Company).where(Company.name == name))
        if company is None:
            company = Company(name=name)
            db.session.add(company)
    client_id = _client_for(lead.phone, email)
    if client_id and db.session.scalar(sa.select(Contact.id).where(Contact.client_id == client_id)):
        client_id = None  # that client already has its contact; a client links to one contact only
    contact = Contact(
        first_name=lead.first_name,
        last_name=lead.last_name or "",
        email=email,
        phone=lead.phone,
        company=company,
        client_id=client_id,
    )
    db.session.add(contact)
    db.session.add(
        Deal(
            name=f"Oportunidad Inicial para {lead.first_name} {lead.last_name}".strip(),
            contact=contact,
            stage="Qualification",
            campaign_id=lead.campaign_id,
        )
    )
    lead.status = "Converted"
    db.session.flush()
    db.session.add(
        Activity(
            activity_type="Status Change",
            subject=f"Lead Convertido a Contacto: {contact}",
            related_lead=lead,
            campaign_id=lead.campaign_id,
            created_by_id=getattr(by, "id", None),
            activity_date=clock.now(),
        )
    )
    db.session.flush()
    return True, None


def convert_leads(leads, *, by=None) -> list[tuple[str, str]]:
    """The bulk action: each lead in its own savepoint; returns (category, message) pairs to show."""
    messages: list[tuple[str, str]] = []
    converted = 0
    qualified = [lead for lead in leads if lead.status == "Qualified"]
    for lead in qualified:
        with db.session.begin_nested():
            ok, skipped = convert_lead(lead, by=by)
        if ok:
            converted += 1
        elif skipped:
            messages.append(("warning", skipped))
    if not qualified:
        messages.append(("warning", "No se seleccionaron leads calificados."))
    else:
        messages.append(("success", f"{converted} leads calificados convertidos exitosamente."))
    return messages


def ensure_contact_for_client(client: Client) -> Contact:
    """The Contact linked to `client`, or a new one (names from `nombre`, e-mail only if no other contact uses it,
    phone, client_id); flushes."""
    contact = db.session.scalar(sa.select(Contact).where(Contact.client_id == client.id))
    if contact is not None:
        return contact
    email = normalize_email(client.email)
    if email and db.session.scalar(sa.select(Contact.id).where(Contact.email == email)):
        email = None
    contact = Contact(
        first_name=client.first_name or client.name,
        last_name=client.last_name,
        email=email,
        phone=client.phone,
        client_id=client.id,
    )
    db.session.add(contact)
    db.session.flush()
    return contact
