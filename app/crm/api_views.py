"""Automation endpoints for n8n (api.md §6): X-API-KEY, original error shapes, 120 requests/min per key."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request, url_for

from app.clients.models import Client
from app.core import clock
from app.core.errors import ValidationError
from app.core.identity import normalize_email
from app.core.phone import normalize_phone
from app.core.uow import unit_of_work
from app.crm import services
from app.crm.models import ACTIVITY_TYPES, INTERACTION_TYPES, Activity, Campaign, CampaignInteraction, Contact
from app.extensions import csrf, db, limiter
from app.web import credentials
from app.web.params import parse_id, parse_int

bp = Blueprint("crm_api", __name__, url_prefix="/ventas/api")
csrf.exempt(bp)

IDENTIFIER_TYPES = ("email", "phone", "cliente_id", "contact_id")
TARGET_CHANNELS = ("sms", "email", "whatsapp", "any")
SENT_ACTIVITY_CHANNEL = {"SMS Sent": "SMS", "Email Sent": "EMAIL", "WhatsApp Sent": "WHATSAPP"}
MAX_INT = 2**31 - 1
RATE_LIMITED = "Demasiadas solicitudes. Intente nuevamente en un minuto."


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify({"error": exc.message}), exc.status


def _key_identity() -> str:
    raw = request.headers.get("X-API-KEY", "")
    return "automation:" + hashlib.sha256(raw.encode()).hexdigest()[:16]


def automation_key_required(view):
    """503 when AUTOMATION_API_KEY is unset, 401 for a missing/wrong key (constant-time compare), then the
    per-key rate limit."""

    limited = limiter.limit("120/minute", key_func=_key_identity, error_message=RATE_LIMITED)(view)

    @wraps(view)
    def wrapped(*args, **kwargs):
        expected = current_app.config.get("AUTOMATION_API_KEY")
        if not expected:
            return jsonify({"error": "Automation API disabled."}), 503
        if credentials.blocked():
            return jsonify({"error": credentials.TOO_MANY}), 429
        given = request.headers.get("X-API-KEY", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            credentials.failed()
            return jsonify({"error": "Authentication required."}), 401
        return limited(*args, **kwargs)

    wrapped._automation_key = True  # read by the access-matrix test
    return wrapped


def _campaign(raw) -> Campaign:
    text = str(raw).strip() if raw is not None else ""
    campaign_id = parse_id(text)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None:
        raise ApiError(404, "Campaign not found.")
    return campaign


def _iso_date(value):
    return value.isoformat() if value else None


# --- campaigns ---------------------------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/details/")
@automation_key_required
def campaign_details(campaign_id: int):
    c = _campaign(campaign_id)
    return jsonify(
        {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "goal": c.goal,
            "start_date": _iso_date(c.start_date),
            "end_date": _iso_date(c.end_date),
            "email_subject_template": c.email_subject_template,
            "email_body_template": c.email_body_template,
            "sms_template": c.sms_template,
            "whatsapp_template": c.whatsapp_template,
        }
    )


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    value = parse_int(raw, minimum=1, maximum=10**18)
    if value is None:
        raise ApiError(400, f"Invalid {name}.")
    return min(value, maximum)


@bp.get("/campaigns/<int:campaign_id>/targets/")
@automation_key_required
def campaign_targets(campaign_id: int):
    from app.crm.audience_queries import eligible_targets_select

    campaign = _campaign(campaign_id)
    canal = (request.args.get("canal") or "any").strip().lower()
    if canal not in TARGET_CHANNELS:
        raise ApiError(400, "Invalid canal. Use sms, email, whatsapp or any.")
    page = _int_arg("page", 1, MAX_INT)
    page_size = _int_arg("page_size", 100, 1000)
    stmt = eligible_targets_select(campaign, canal)
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    rows = db.session.execute(stmt.order_by(Client.id).limit(page_size).offset((page - 1) * page_size)).all()
    targets = []
    for r in rows:
        parts = (r.name or "").split()
        targets.append(
            {
                "id": r.client_id,
                "nombre": parts[0] if parts else "",
                "apellido": " ".join(parts[1:]),
                "email": r.email if r.ok_email else None,
                "telefono": r.phone if (r.ok_sms or r.ok_whatsapp) else None,
                "acepta_sms": bool(r.ok_sms),
                "acepta_email": bool(r.ok_email),
                "acepta_whatsapp": bool(r.ok_whatsapp),
            }
        )
    has_next = page * page_size < total
    next_url = (
        url_for(
            "crm_api.campaign_targets",
            campaign_id=campaign.id,
            page=page + 1,
            page_size=page_size,
            canal=canal,
            _external=True,
        )
        if has_next
        else None
    )
    return jsonify(
        {
            "campaign_id": campaign.id,
            "count": total,
            "page": page,
            "page_size": page_size,
            "next": next_url,
            "targets": targets,
        }
    )


# --- activity / interaction log ----------------------------------------------------------------------------


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid JSON body.")
    return data


def _require(data: dict, fields: tuple[str, ...]) -> None:
    missing = [f for f in fields if data.get(f) in (None, "")]
    if missing:
        raise ApiError(400, "Missing required fields: " + ", ".join(missing))


def _one(stmt, what) -> object | None:
    found = db.session.scalars(stmt.limit(2)).all()
    if len(found) > 1:
        raise ApiError(400, "Multiple contacts found for identifier.")
    return found[0] if found else None


def resolve_contact(kind: str, identifier) -> Contact:
    """api.md §6: contact_id → that Contact; cliente_id → its contact (created if needed); email/phone → the
    Contact with it, else the single Client with it (→ its contact). Writes only when creating that contact."""
    text = str(identifier).strip()
    if kind == "contact_id":
        contact = db.session.get(Contact, parse_id(text)) if parse_id(text) else None
        if contact is None:
            raise ApiError(404, "Contact not found.")
        return contact
    if kind == "cliente_id":
        client = db.session.get(Client, parse_id(text)) if parse_id(text) else None
        if client is None:
            raise ApiError(404, "Contact not found.")
        return services.ensure_contact_for_client(client)
    if kind == "email":
        email = normalize_email(text)
        contact = _one(sa.select(Contact).where(Contact.email == email), "contact") if email else None
        client = None if contact or not email else _one(sa.select(Client).where(Client.email == email), "client")
    else:
        try:
            phone = normalize_phone(text)
        except ValidationError:
            raise ApiError(404, "Contact not found.") from None
        contact = _one(sa.select(Contact).where(Contact.phone == phone), "contact")
        client = None if contact else db.session.scalar(sa.select(Client).where(Client.phone == phone))
    if contact is not None:
        return contact
    if client is not None:
        return services.ensure_contact_for_client(client)
    raise ApiError(404, "Contact not found.")


def _identifier_type(data: dict) -> str:
    kind = str(data.get("contact_identifier_type")).strip()
    if kind not in IDENTIFIER_TYPES:
        raise ApiError(400, "Invalid contact_identifier_type. Use email, phone, cliente_id or contact_id.")
    return kind


def _log_n8n_message(activity: Activity, contact: Contact, channel: str) -> None:
    """A SENT PROMOTIONAL outbox row for a message n8n sent itself, so caps, ROI and the timeline see it."""
    from app.comms.models import CommunicationLog

    client = db.session.get(Client, contact.client_id)
    now = clock.now()
    db.session.add(
        CommunicationLog(
            client_id=client.id,
            campaign_id=activity.campaign_id,
            communication_type=channel,
            message_type="PROMOTIONAL",
            destination=client.email if channel == "EMAIL" else client.phone,
            subject=activity.subject,
            content=activity.notes,
            status="SENT",
            sent_at=now,
            not_before=now,
            idempotency_key=f"n8n:activity:{activity.id}",
            triggered_by="n8n",
            cost=0,
        )
    )


@bp.post("/activities/log/")
@automation_key_required
def activity_log():
    data = _body()
    _require(data, ("contact_identifier_type", "contact_identifier", "campaign_id", "activity_type", "subject"))
    kind = _identifier_type(data)
    activity_type = str(data["activity_type"]).strip()
    if activity_type not in ACTIVITY_TYPES:
        raise ApiError(400, "Invalid activity_type. Valid types are: " + ", ".join(ACTIVITY_TYPES))
    campaign = _campaign(data["campaign_id"])
    with unit_of_work():
        contact = resolve_contact(kind, data["contact_identifier"])
        notes = data.get("notes")
        activity = services.log_activity(
            activity_type=activity_type,
            subject=str(data["subject"])[:255],
            contact=contact,
            campaign_id=campaign.id,
            notes="(Logged via API) " + (str(notes) if notes is not None else ""),
        )
        channel = SENT_ACTIVITY_CHANNEL.get(activity_type)
        if channel and contact.client_id:
            _log_n8n_message(activity, contact, channel)
    return jsonify({"success": True, "activity_id": activity.id}), 201


def _timestamp(raw) -> datetime:
    if not isinstance(raw, str) or not raw.strip():
        return clock.now()
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return clock.now()
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.LOCAL_TZ)
    return value.astimezone(clock.UTC)


@bp.post("/interactions/log/")
@automation_key_required
def interaction_log():
    data = _body()
    _require(data, ("contact_identifier_type", "contact_identifier", "campaign_id", "interaction_type"))
    kind = _identifier_type(data)
    interaction_type = str(data["interaction_type"]).strip()
    if interaction_type not in INTERACTION_TYPES:
        raise ApiError(400, "Invalid interaction_type. Valid types are: " + ", ".join(INTERACTION_TYPES))
    details = data.get("details")
    if details is not None and not isinstance(details, dict):
        raise ApiError(400, "details must be a JSON object.")
    campaign = _campaign(data["campaign_id"])
    raw_activity = str(data.get("activity_id") or "").strip()
    activity_id = None
    if parse_id(raw_activity) and db.session.get(Activity, parse_id(raw_activity)):
        activity_id = parse_id(raw_activity)
    with unit_of_work():
        contact = resolve_contact(kind, data["contact_identifier"])
        interaction = CampaignInteraction(
            contact_id=contact.id,
            campaign_id=campaign.id,
            activity_id=activity_id,
            interaction_type=interaction_type,
            timestamp=_timestamp(data.get("timestamp")),
            details=details,
        )
        db.session.add(interaction)
        db.session.flush()
    return jsonify({"success": True, "interaction_id": interaction.id}), 201
