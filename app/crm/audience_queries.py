"""Campaign audience against the gatekeeper (crm.md §9.2–9.3, api.md §6): preview by reason, eligible targets,
set-based queueing of PROMOTIONAL rows, cancel. The static checks and the cap clause come from comms.eligibility_queries
(one definition each)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.clients.models import Client, ClientPreferences
from app.comms import eligibility_queries as eligibility
from app.comms.models import CommunicationLog
from app.comms.policy import EMAIL, SMS, WHATSAPP
from app.core import clock
from app.crm.models import Campaign
from app.crm.queries import audience_select
from app.extensions import db

PROMOTIONAL = "PROMOTIONAL"
CHANNEL_CODES = {"sms": SMS, "email": EMAIL, "whatsapp": WHATSAPP}
# gatekeeper reason (comms §5) -> campaign preview reason (crm.md §9.2), per channel
PREVIEW_REASONS = {
    "sin_telefono_movil": "Sin teléfono móvil",
    "sin_email": "Sin correo electrónico",
    "sin_consentimiento_canal": "Sin consentimiento del canal",
    "sin_consentimiento_promociones": "Sin consentimiento para promociones",
    "suprimido": "Destino suprimido",
    "canal_desactivado": "Canal desactivado",
    "se_diferira_por_tope": "Se diferirá por tope (tope alcanzado hoy)",
}
EXCLUSION_REASONS = (
    "sin_telefono_movil",
    "sin_email",
    "sin_consentimiento_canal",
    "sin_consentimiento_promociones",
    "suprimido",
)
PROMO_DEFAULT_DAYS = 7


def preview_reason(channel: str, reason: str | None) -> str | None:
    if reason is None:
        return None
    if reason in ("no_destination", "not_mobile"):
        return "sin_telefono_movil" if channel in (SMS, WHATSAPP) else "sin_email"
    return {
        "no_channel_consent": "sin_consentimiento_canal",
        "no_type_consent": "sin_consentimiento_promociones",
        "suppressed": "suprimido",
        "channel_disabled": "canal_desactivado",
    }.get(reason, reason)


def _audience_clients(campaign: Campaign) -> sa.Select:
    """Client outer-joined to its preferences, restricted to the campaign's audience (add columns to it)."""
    audience = audience_select(campaign).subquery("audience")
    return (
        sa.select()
        .select_from(Client)
        .join(audience, audience.c.client_id == Client.id)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
    )


def _reason(channel: str):
    destination = eligibility.client_destination(channel)
    return eligibility.reason_expr(PROMOTIONAL, channel, destination=destination, has_client=sa.true())


# --- preview ---------------------------------------------------------------------------------------------------


def preview(campaign: Campaign) -> dict:
    """Audience size; per campaign channel: eligible, excluded per reason, and how many will wait for a cap."""
    now = clock.now()
    limits = eligibility.current_limits()
    size = db.session.execute(sa.select(sa.func.count()).select_from(audience_select(campaign).subquery())).scalar_one()
    channels = {}
    for key in campaign.channels or []:
        channel = CHANNEL_CODES[key]
        reason = _reason(channel)
        capped = eligibility.cap_reached(channel, Client.id, limits, now)
        stmt = (
            _audience_clients(campaign)
            .add_columns(
                reason.label("reason"),
                sa.case((sa.and_(reason.is_(None), capped), 1), else_=0).label("capped"),
                sa.func.count().label("n"),
            )
            .group_by(sa.text("1"), sa.text("2"))
        )
        excluded = dict.fromkeys(EXCLUSION_REASONS, 0)
        eligible = deferred = 0
        for r, is_capped, n in db.session.execute(stmt).all():
            code = preview_reason(channel, r)
            if code is None:
                eligible += n
                deferred += n if is_capped else 0
            else:
                excluded[code] = excluded.get(code, 0) + n
        excluded["se_diferira_por_tope"] = deferred
        channels[key] = {"eligible": eligible, "excluded": excluded}
    return {"size": size, "channels": channels}


def reason_clients_select(campaign: Campaign, key: str, code: str) -> sa.Select:
    """The audience's clients behind one preview figure (a reason code, `elegibles` or `se_diferira_por_tope`)."""
    channel = CHANNEL_CODES[key]
    reason = _reason(channel)
    stmt = (
        _audience_clients(campaign)
        .add_columns(Client.id, Client.name, Client.phone, Client.email)
        .order_by(Client.name, Client.id)
    )
    if code == "elegibles":
        return stmt.where(reason.is_(None))
    if code == "se_diferira_por_tope":
        return stmt.where(
            reason.is_(None), eligibility.cap_reached(channel, Client.id, eligibility.current_limits(), clock.now())
        )
    raw = {
        "sin_consentimiento_canal": ["no_channel_consent"],
        "sin_consentimiento_promociones": ["no_type_consent"],
        "suprimido": ["suppressed"],
        "canal_desactivado": ["channel_disabled"],
        "sin_telefono_movil": ["no_destination", "not_mobile"],
        "sin_email": ["no_destination"],
    }[code]
    return stmt.where(reason.in_(raw))


# --- automation targets API ------------------------------------------------------------------------------------


def eligible_targets_select(campaign: Campaign, canal: str) -> sa.Select:
    """Audience clients with ok_sms/ok_email/ok_whatsapp flags (eligible now: static checks and no cap reached);
    only clients eligible on the requested channel (`any`: on at least one)."""
    now = clock.now()
    limits = eligibility.current_limits()
    ok = {}
    for key, channel in CHANNEL_CODES.items():
        ok[key] = sa.and_(_reason(channel).is_(None), sa.not_(eligibility.cap_reached(channel, Client.id, limits, now)))
    # WhatsApp is sent by n8n: a phone, WhatsApp and promotional consent, phone not suppressed.
    sms_reason = _reason(SMS)
    ok["whatsapp"] = sa.and_(
        sa.func.coalesce(ClientPreferences.accepts_whatsapp, sa.false()),
        sa.func.coalesce(ClientPreferences.accepts_promotional, sa.false()),
        sa.or_(sms_reason.is_(None), sms_reason.not_in(("suppressed", "no_destination"))),
    )
    flags = {k: sa.case((cond, True), else_=False) for k, cond in ok.items()}
    stmt = _audience_clients(campaign).add_columns(
        Client.id.label("client_id"),
        Client.name,
        Client.email,
        Client.phone,
        flags["sms"].label("ok_sms"),
        flags["email"].label("ok_email"),
        flags["whatsapp"].label("ok_whatsapp"),
    )
    if canal == "any":
        return stmt.where(sa.or_(*ok.values()))
    return stmt.where(ok[canal])


# --- sending ---------------------------------------------------------------------------------------------------


def _expires_at(campaign: Campaign) -> datetime:
    if campaign.end_date:
        return clock.local_instant(campaign.end_date + timedelta(days=1), time(0, 0))
    return clock.now() + timedelta(days=PROMO_DEFAULT_DAYS)


def _queue_select(campaign: Campaign, key: str) -> sa.Select:
    """client_id, destination, campaign_id, idempotency_key, expires_at for every eligible client of a channel."""
    channel = CHANNEL_CODES[key]
    destination = eligibility.client_destination(channel)
    idem = sa.literal(f"campaign:{campaign.id}:client:") + sa.cast(Client.id, sa.String) + sa.literal(f":{key}")
    return (
        _audience_clients(campaign)
        .add_columns(
            Client.id.label("client_id"),
            destination.label("destination"),
            sa.literal(campaign.id, sa.Integer).label("campaign_id"),
            idem.label("idempotency_key"),
            sa.literal(_expires_at(campaign), CommunicationLog.expires_at.type).label("expires_at"),
        )
        .where(_reason(channel).is_(None))
    )


def messages_to_queue(campaign: Campaign) -> int:
    """How many rows a send would insert now ("Se encolarán N mensajes"): eligible and not queued yet."""
    total = 0
    for key in campaign.channels or []:
        sub = _queue_select(campaign, key).subquery()
        total += db.session.execute(
            sa.select(sa.func.count())
            .select_from(sub)
            .where(~sa.exists().where(CommunicationLog.idempotency_key == sub.c.idempotency_key))
        ).scalar_one()
    return total
