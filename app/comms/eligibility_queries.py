"""Static checks of the gatekeeper (communications.md §5 rows 1–5), one definition in two forms.

- `check(...)`: the pure predicate the dispatcher runs on one row (wraps `policy.static_reason`).
- `reason_expr(...)` / `clients_with_reason(...)`: the same rules as SQL, for set-based selections, campaign
  previews and the automation targets API. Both return the reason codes of §5 (`REASONS` holds the labels).
The order of the checks is the same in both; tests compare them over a matrix of clients.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.clients.models import Client, ClientPreferences, Suppression
from app.comms.models import CommunicationLog
from app.comms.policy import (
    CHANNEL_CONSENT,
    MARKETING_TYPES,
    REASONS,
    SENT_STATUSES,
    SMS,
    SUPPRESSION_CHANNEL,
    WHATSAPP,
    Limits,
    consent_switch,
    reason_label,
    static_reason,
)
from app.core import clock
from app.core.phone import is_mobile
from app.core.settings import in_force

__all__ = [
    "REASONS",
    "cap_reached",
    "check",
    "clients_with_reason",
    "client_destination",
    "current_limits",
    "reason_expr",
    "reason_label",
    "eligible",
]


def current_limits() -> Limits:
    cfg = in_force()  # the admin's overrides win (app/core/settings.py)
    return Limits(
        sms_enabled=cfg.get("COMMUNICATION_SMS_ENABLED", True),
        email_enabled=cfg.get("COMMUNICATION_EMAIL_ENABLED", True),
        quiet_start=cfg.get("QUIET_HOURS_START", "09:00"),
        quiet_end=cfg.get("QUIET_HOURS_END", "20:00"),
        sms_daily=cfg.get("SMS_DAILY_LIMIT_PER_CLIENT", 2),
        sms_monthly=cfg.get("SMS_MONTHLY_LIMIT_PER_CLIENT", 8),
        email_weekly=cfg.get("EMAIL_WEEKLY_LIMIT_PER_CLIENT", 1),
        email_monthly=cfg.get("EMAIL_MONTHLY_LIMIT_PER_CLIENT", 4),
        whatsapp_enabled=cfg.get("COMMUNICATION_WHATSAPP_ENABLED", True),
    )


def prefs_dict(prefs: ClientPreferences | None) -> dict | None:
    if prefs is None:
        return None
    from app.clients.models import CONSENT_FIELDS

    out = {f: getattr(prefs, f) for f in CONSENT_FIELDS}
    out["preferred_contact_hour_start"] = prefs.preferred_contact_hour_start
    out["preferred_contact_hour_end"] = prefs.preferred_contact_hour_end
    return out


def check(
    *,
    message_type: str,
    channel: str,
    destination: str | None,
    has_client: bool,
    prefs: dict | None,
    suppressed: bool,
    limits: Limits | None = None,
) -> str | None:
    """The reason code that blocks this message (rows 1–5), or None when it may go."""
    mobile = bool(destination) and channel == SMS and is_mobile(destination)
    return static_reason(
        message_type=message_type,
        channel=channel,
        destination=destination,
        has_client=has_client,
        prefs=prefs,
        suppressed=suppressed,
        is_mobile=mobile,
        limits=limits or current_limits(),
    )


def client_destination(channel: str, client=Client):
    """The client's own destination for a channel (SMS and WhatsApp → phone, e-mail → e-mail). A WhatsApp phone is
    turned into the ManyChat subscriber by the adapter when the row is sent."""
    return client.phone if channel in (SMS, WHATSAPP) else client.email


def _mobile_sql(destination):
    """`^\\+569\\d{8}$`; numbers abroad are assumed SMS-able here (the dispatcher re-checks with phonenumbers)."""
    chilean_mobile = sa.and_(destination.like("+569%"), sa.func.length(destination) == 12)
    return sa.or_(chilean_mobile, sa.not_(destination.like("+56%")))


def reason_expr(
    message_type: str, channel: str, *, destination, has_client, prefs=ClientPreferences, limits: Limits | None = None
):
    """SQL CASE giving the §5 reason (rows 1–5) or NULL. The caller outer-joins `prefs` on the client."""
    limits = limits or current_limits()
    enabled = {SMS: limits.sms_enabled, WHATSAPP: limits.whatsapp_enabled}.get(channel, limits.email_enabled)
    whens = []
    if not enabled:
        return sa.literal("channel_disabled", sa.String)
    whens.append((sa.or_(destination.is_(None), destination == ""), "no_destination"))
    if channel == SMS:
        whens.append((sa.not_(_mobile_sql(destination)), "not_mobile"))
    channel_ok = getattr(prefs, CHANNEL_CONSENT[channel])
    whens.append((sa.and_(has_client, sa.func.coalesce(channel_ok, sa.false()) == sa.false()), "no_channel_consent"))
    switch = consent_switch(message_type)
    if switch:
        type_ok = getattr(prefs, switch)
        whens.append((sa.and_(has_client, sa.func.coalesce(type_ok, sa.false()) == sa.false()), "no_type_consent"))
    suppressed = sa.exists().where(
        Suppression.channel == SUPPRESSION_CHANNEL[channel], Suppression.destination == destination
    )
    whens.append((suppressed, "suppressed"))
    return sa.case(*whens, else_=sa.null())


def clients_with_reason(message_type: str, channel: str, *, limits: Limits | None = None) -> sa.Select:
    """Select (client_id, destination, reason) over every client: filter `reason IS NULL` to keep the eligible,
    group by reason for a preview. Add your own WHERE/joins on `Client`."""
    destination = client_destination(channel)
    reason = reason_expr(message_type, channel, destination=destination, has_client=sa.true(), limits=limits)
    return (
        sa.select(Client.id.label("client_id"), destination.label("destination"), reason.label("reason"))
        .select_from(Client)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
    )


def eligible(message_type: str, channel: str, *, limits: Limits | None = None):
    """WHERE clause for a selection over Client outer-joined to ClientPreferences: passes rows 1–5."""
    destination = client_destination(channel)
    return reason_expr(message_type, channel, destination=destination, has_client=sa.true(), limits=limits).is_(None)


# --- caps (§5 row 7) in SQL ------------------------------------------------------------------------------------


def _windows(now: datetime) -> dict[str, datetime]:
    """Start instants (UTC) of the local day, week (Monday) and month containing `now`."""
    today = clock.to_local(now).date()
    monday = today - timedelta(days=today.weekday())
    return {
        name: clock.local_instant(day, time(0, 0))
        for name, day in (("day", today), ("week", monday), ("month", today.replace(day=1)))
    }


def cap_reached(channel: str, client_id, limits: Limits, now: datetime):
    """SQL form of policy.cap_deferral (§5 row 7): true when the client's marketing rows sent on `channel` already
    reach a cap of the current local day/month (SMS) or week/month (e-mail); such a message would be deferred, not
    dropped. Used by set-based previews and the automation targets API."""
    w = _windows(now)

    def sent_since(start):
        return (
            sa.select(sa.func.count())
            .where(
                CommunicationLog.client_id == client_id,
                CommunicationLog.communication_type == channel,
                CommunicationLog.message_type.in_(MARKETING_TYPES),
                CommunicationLog.status.in_(SENT_STATUSES),
                CommunicationLog.sent_at >= start,
            )
            .scalar_subquery()
        )

    if channel in (SMS, WHATSAPP):  # WhatsApp marketing: the SMS caps, counted on its own rows (policy.cap_deferral)
        return sa.or_(sent_since(w["day"]) >= limits.sms_daily, sent_since(w["month"]) >= limits.sms_monthly)
    return sa.or_(sent_since(w["week"]) >= limits.email_weekly, sent_since(w["month"]) >= limits.email_monthly)
