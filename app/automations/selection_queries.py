"""The set-based selections of the scheduled automations (communications.md §4.2, §4.4–§4.7).

Each selection is ONE `Select` per channel whose labelled columns are those the outbox's `enqueue_from_select`
takes (idempotency_key, client_id, order_id, not_before, expires_at); `jobs.py` turns each into one
`INSERT … SELECT … ON CONFLICT DO NOTHING`. No per-client loop and no clock read here: callers pass `now` (UTC)
and every day boundary is computed in local time (America/Santiago).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from app.automations.sqltime import start_expr
from app.clients.models import Client, ClientPreferences
from app.comms.eligibility_queries import client_destination, reason_expr
from app.comms.models import CommunicationLog
from app.core import clock
from app.core.clock import to_local
from app.core.settings import in_force
from app.sales.client_queries import NOT_A_VISIT, stats_select
from app.sales.models import Order, ServiceLine

SMS, EMAIL = "SMS", "EMAIL"
SUFFIX = {SMS: "sms", EMAIL: "email"}


def _key(*parts) -> sa.ColumnElement:
    """Concatenate literal strings and SQL expressions into an idempotency key."""
    out = None
    for part in parts:
        piece = sa.literal(part, sa.String) if isinstance(part, str) else sa.cast(part, sa.String)
        out = piece if out is None else out + piece
    return out


def _at(value: datetime, column) -> sa.ColumnElement:
    return sa.literal(value, column.type)


def quarter_key(day: date) -> str:
    return f"{day.year}-{(day.month - 1) // 3 + 1}"


def month_end(day: date) -> datetime:
    """The first local instant of the next month (the exclusive end of `day`'s month)."""
    return clock.local_midnight(clock.next_month(day))


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _booked_from(day: date):
    line, order = aliased(ServiceLine), aliased(Order)
    return (
        order,
        line,
        (
            line.order_id == order.id,
            order.cancelled_at.is_(None),
            line.service_date >= day,
            line.status.not_in(NOT_A_VISIT),
        ),
    )


def active_from(day: date, client_id_col, *, many: bool = False) -> sa.ColumnElement:
    """The client has an active line (not cancelled / no-show, order not cancelled) on `day` or later.

    `many=False`: a correlated EXISTS, for a few hundred candidates (surveys). `many=True`: `client_id IN (clients
    with such a line)`, the future lines read once and hashed — for tens of thousands of candidates (reactivation:
    the EXISTS walked every order of 50,000 lapsed clients, 11 s on the bench)."""
    order, line, where = _booked_from(day)
    if many:
        return client_id_col.in_(sa.select(order.client_id).join(line, where[0]).where(*where[1:]))
    return sa.exists().where(order.client_id == client_id_col, *where)


def channel_ok(channel: str, message_type: str, *, email=None) -> sa.ColumnElement:
    """The gatekeeper's static checks (rows 1–5) pass for the client on `channel`; `email` overrides the client's
    e-mail (orders: contacto_email first). The query must outer-join ClientPreferences on Client."""
    destination = email if (channel == EMAIL and email is not None) else client_destination(channel)
    return reason_expr(message_type, channel, destination=destination, has_client=sa.true()).is_(None)


def first_available(message_type: str, order: tuple[str, ...], channel: str, **kw) -> sa.ColumnElement:
    """ "X, else Y" (§3): true when `channel` is the first of `order` whose static checks pass."""
    earlier = order[: order.index(channel)]
    return sa.and_(channel_ok(channel, message_type, **kw), *[~channel_ok(ch, message_type, **kw) for ch in earlier])


def order_email(order=Order, client=Client) -> sa.ColumnElement:
    """E-mail of an order's messages: contacto_email, else the client's (§4.1)."""
    return sa.func.coalesce(sa.func.nullif(order.contact_email, ""), client.email)


# --- §4.2 reminder 24 h before ---------------------------------------------------------------------------------


def reminders(now: datetime, channel: str) -> sa.Select:
    """Active lines starting in (now, now + 24 h] grouped by (order, day); reference = the group's earliest line;
    orders created less than REMINDER_MIN_LEAD_HOURS before it are skipped. SMS + e-mail: one row per channel."""
    lead = int(current_app.config["REMINDER_MIN_LEAD_HOURS"])
    horizon = now + timedelta(hours=24)
    days = sorted({to_local(now).date(), to_local(horizon).date()})
    start = start_expr(ServiceLine.service_date, ServiceLine.start_time)
    groups = (
        sa.select(
            ServiceLine.order_id,
            ServiceLine.service_date.label("day"),
            sa.func.min(ServiceLine.start_time).label("first_time"),
        )
        .join(Order, Order.id == ServiceLine.order_id)
        .where(
            ServiceLine.service_date.in_(days),
            ServiceLine.status == "pendiente",
            Order.cancelled_at.is_(None),
            start > _at(now, CommunicationLog.not_before),
            start <= _at(horizon, CommunicationLog.not_before),
        )
        .group_by(ServiceLine.order_id, ServiceLine.service_date)
        .subquery("groups")
    )
    return (
        sa.select(
            _key("order:", Order.id, ":BOOKING_REMINDER:", groups.c.day, ":" + SUFFIX[channel]).label(
                "idempotency_key"
            ),
            Order.client_id.label("client_id"),
            Order.id.label("order_id"),
            _at(now, CommunicationLog.not_before).label("not_before"),
            start_expr(groups.c.day, groups.c.first_time).label("expires_at"),
        )
        .select_from(groups)
        .join(Order, Order.id == groups.c.order_id)
        .where(Order.created_at <= start_expr(groups.c.day, groups.c.first_time, lead))
    )


# --- §4.4 satisfaction survey (D+1) --------------------------------------------------------------------------


def surveys(now: datetime, channel: str) -> sa.Select | None:
    """Orders whose latest active line was yesterday and whose client has nothing active from today on; e-mail,
    else SMS; one per order. None when SURVEY_PUBLIC_BASE_URL is empty (nothing is queued)."""
    if not (current_app.config.get("SURVEY_PUBLIC_BASE_URL") or "").strip():
        return None
    today = to_local(now).date()
    yesterday = today - timedelta(days=1)
    later = aliased(ServiceLine)
    yesterday_orders = (
        sa.select(ServiceLine.order_id)
        .where(
            ServiceLine.service_date == yesterday,
            ServiceLine.status.not_in(NOT_A_VISIT),
            ~sa.exists().where(
                later.order_id == ServiceLine.order_id, later.service_date > yesterday, later.status.not_in(NOT_A_VISIT)
            ),
        )
        .distinct()
        .subquery("yesterday_orders")
    )
    return (
        sa.select(
            _key("order:", Order.id, ":SATISFACTION_SURVEY").label("idempotency_key"),
            Order.client_id.label("client_id"),
            Order.id.label("order_id"),
            _at(now, CommunicationLog.not_before).label("not_before"),
            _at(now + timedelta(days=3), CommunicationLog.expires_at).label("expires_at"),
        )
        .select_from(yesterday_orders)
        .join(Order, Order.id == yesterday_orders.c.order_id)
        .join(Client, Client.id == Order.client_id)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
        .where(
            Order.cancelled_at.is_(None),
            ~active_from(today, Order.client_id),
            first_available("SATISFACTION_SURVEY", (EMAIL, SMS), channel, email=order_email()),
        )
    )


# --- §4.5 birthday -------------------------------------------------------------------------------------------


def birthday_clause(today: date) -> sa.ColumnElement:
    """fecha_nacimiento's month/day is today's; 29 Feb birthdays are celebrated on 28 Feb in non-leap years."""
    month, day = sa.extract("month", Client.birth_date), sa.extract("day", Client.birth_date)
    clause = sa.and_(month == today.month, day == today.day)
    if today.month == 2 and today.day == 28 and not is_leap(today.year):
        clause = sa.or_(clause, sa.and_(month == 2, day == 29))
    return clause


def birthdays(now: datetime, channel: str) -> sa.Select:
    """Today's birthdays with accepts_birthday_messages; SMS, else e-mail; one per client and year."""
    today = to_local(now).date()
    return (
        sa.select(
            _key("client:", Client.id, f":BIRTHDAY:{today.year}").label("idempotency_key"),
            Client.id.label("client_id"),
            _at(now, CommunicationLog.not_before).label("not_before"),
            _at(clock.local_midnight(today + timedelta(days=2)), CommunicationLog.expires_at).label("expires_at"),
        )
        .select_from(Client)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
        .where(
            Client.birth_date.is_not(None), birthday_clause(today), first_available("BIRTHDAY", (SMS, EMAIL), channel)
        )
    )


# --- §4.6 reactivation ---------------------------------------------------------------------------------------


def reactivation_candidates(now: datetime) -> sa.Select:
    """Last visit ≥ REACTIVATION_DAYS ago, nothing active from today on, a channel available (e-mail, else SMS,
    which includes accepts_reactivation), no row yet for this quarter's key; most recent last visit first;
    ≤ REACTIVATION_MAX_PER_RUN. Columns: client_id, channel."""
    cfg = in_force()
    today = to_local(now).date()
    stats = stats_select(today).subquery("stats")
    key = _key("client:", Client.id, f":REACTIVATION:{quarter_key(today)}")
    channel = sa.case(
        (channel_ok(EMAIL, "REACTIVATION"), sa.literal(EMAIL, sa.String)),
        (channel_ok(SMS, "REACTIVATION"), sa.literal(SMS, sa.String)),
        else_=sa.null(),
    )
    return (
        sa.select(Client.id.label("client_id"), channel.label("channel"))
        .select_from(stats)
        .join(Client, Client.id == stats.c.client_id)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
        .where(
            stats.c.last_visit <= today - timedelta(days=int(cfg["REACTIVATION_DAYS"])),
            sa.or_(channel_ok(EMAIL, "REACTIVATION"), channel_ok(SMS, "REACTIVATION")),
            ~active_from(today, Client.id, many=True),
            ~sa.exists().where(CommunicationLog.idempotency_key == key),
        )
        .order_by(stats.c.last_visit.desc(), Client.id)
        .limit(int(cfg["REACTIVATION_MAX_PER_RUN"]))
    )


def reactivation(now: datetime, channel: str, client_ids: list[int]) -> sa.Select:
    """The rows of the chosen candidates (`reactivation_candidates`, read once per run) on one channel."""
    today = to_local(now).date()
    return sa.select(
        _key("client:", Client.id, f":REACTIVATION:{quarter_key(today)}").label("idempotency_key"),
        Client.id.label("client_id"),
        _at(now, CommunicationLog.not_before).label("not_before"),
        _at(now + timedelta(days=14), CommunicationLog.expires_at).label("expires_at"),
    ).where(Client.id.in_(client_ids))


# --- §4.7 VIP newsletter -------------------------------------------------------------------------------------


def vip_newsletter(now: datetime, channel: str = EMAIL) -> sa.Select:
    """Visit band vip + spend band high, with a sendable e-mail (consents, not suppressed); one per local month."""
    today = to_local(now).date()
    stats = stats_select(today).subquery("stats")
    return (
        sa.select(
            _key("client:", Client.id, f":NEWSLETTER:{today:%Y-%m}").label("idempotency_key"),
            Client.id.label("client_id"),
            _at(now, CommunicationLog.not_before).label("not_before"),
            _at(month_end(today), CommunicationLog.expires_at).label("expires_at"),
        )
        .select_from(stats)
        .join(Client, Client.id == stats.c.client_id)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
        .where(stats.c.visit_band == "vip", stats.c.spend_band == "high", channel_ok(EMAIL, "NEWSLETTER"))
    )


@dataclass(frozen=True)
class Automation:
    name: str  # the CLI --type value
    job_id: str
    message_type: str
    channels: tuple[str, ...]
    select: Callable


AUTOMATIONS = (
    Automation("reminders", "booking_reminders", "BOOKING_REMINDER", (SMS, EMAIL), reminders),
    Automation("surveys", "satisfaction_surveys", "SATISFACTION_SURVEY", (EMAIL, SMS), surveys),
    Automation("birthdays", "birthday_messages", "BIRTHDAY", (SMS, EMAIL), birthdays),
    Automation("reactivation", "reactivation", "REACTIVATION", (EMAIL, SMS), reactivation),
    Automation("vip", "vip_newsletter", "NEWSLETTER", (EMAIL,), vip_newsletter),
)
BY_NAME = {a.name: a for a in AUTOMATIONS}
