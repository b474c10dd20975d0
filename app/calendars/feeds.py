"""iCalendar output (the `icalendar` package): service/provider feeds behind secret URLs and an order's .ics.

Feed token = HMAC-SHA256 of (kind, id, version) with SECRET_KEY; the version lives in `calendar_feed_keys` and an
admin bumps it to revoke a URL. Feeds hold non-cancelled lines from 30 days ago to 180 days ahead; the summary is
service + people + the client's first name (no phone or e-mail). Times carry TZID America/Santiago with its
VTIMEZONE; UIDs are stable per service line so calendar apps update events in place.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event

from app.calendars.models import CalendarFeedKey
from app.catalog.models import Provider, Service
from app.clients.models import Client
from app.core import clock
from app.extensions import db
from app.sales.models import Order, ServiceLine

PRODID = "-//Aremko//Reservas//ES"
PAST_DAYS = 30
AHEAD_DAYS = 180
UID_DOMAIN = "aremko.cl"
MODELS = {"servicio": Service, "proveedor": Provider}


def feed_token(kind: str, object_id: int, version: int) -> str:
    message = f"calendar-feed:{kind}:{object_id}:{version}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()[:40]


def feed_versions(kind: str, ids=None) -> dict[int, int]:
    """object id -> current version (missing = 0), in one statement."""
    stmt = sa.select(CalendarFeedKey.object_id, CalendarFeedKey.version).where(CalendarFeedKey.kind == kind)
    if ids is not None:
        stmt = stmt.where(CalendarFeedKey.object_id.in_(list(ids)))
    return dict(db.session.execute(stmt).all())


def token_matches(kind: str, object_id: int, token: str) -> bool:
    version = feed_versions(kind, [object_id]).get(object_id, 0)
    return hmac.compare_digest(feed_token(kind, object_id, version), token or "")


def line_start(service_date, start_time: str) -> datetime:
    hh, mm = (int(x) for x in start_time.split(":"))
    return clock.local_instant(service_date, time(hh, mm))


def _event(
    *,
    line_id: int,
    start: datetime,
    minutes: int,
    summary: str,
    stamp: datetime,
    description: str | None = None,
    location: str | None = None,
) -> Event:
    event = Event.new(
        uid=f"linea-{line_id}@{UID_DOMAIN}",
        start=start,
        end=start + timedelta(minutes=minutes),
        summary=summary,
        stamp=stamp,
        description=description,
        location=location,
    )
    event.add("status", "CONFIRMED")
    return event


def people_label(people: int) -> str:
    return f"{people} persona{'s' if people != 1 else ''}"


def _calendar(name: str, uid: str, events, *, method: str | None = None) -> bytes:
    cal = Calendar.new(prodid=PRODID, name=name, method=method, uid=f"{uid}@{UID_DOMAIN}")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})  # RFC 7986
    cal.add("x-wr-timezone", str(clock.LOCAL_TZ))
    cal.add("x-published-ttl", "PT1H")
    for event in events:
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def feed_rows_statement(kind: str, object_id: int) -> sa.Select:
    """The feed's lines with what the events show, in one statement (constant whatever the row count)."""
    today = clock.today()
    stmt = (
        sa.select(
            ServiceLine.id,
            ServiceLine.order_id,
            ServiceLine.service_date,
            ServiceLine.start_time,
            ServiceLine.people,
            Service.name,
            Service.duration_minutes,
            Client.name.label("client_name"),
            Provider.name.label("provider_name"),
        )
        .join(Service, Service.id == ServiceLine.service_id)
        .join(Order, Order.id == ServiceLine.order_id)
        .join(Client, Client.id == Order.client_id)
        .outerjoin(Provider, Provider.id == ServiceLine.provider_id)
        .where(
            ServiceLine.status != "cancelada",
            ServiceLine.service_date >= today - timedelta(days=PAST_DAYS),
            ServiceLine.service_date <= today + timedelta(days=AHEAD_DAYS),
        )
        .order_by(ServiceLine.service_date, ServiceLine.start_time, ServiceLine.id)
    )
    column = ServiceLine.service_id if kind == "servicio" else ServiceLine.provider_id
    return stmt.where(column == object_id)


def first_name(name: str | None) -> str:
    return (name or "").split(" ")[0]


_FEED_CACHE: dict[str, bytes] = {}
_FEED_CACHE_SIZE = 256


def feed_ics(kind: str, owner) -> tuple[bytes, str]:
    """The subscribable calendar of one service or provider and its ETag.

    Serialising iCalendar costs about 1 ms per event, and calendar apps poll feeds that rarely change: the rows are
    read every time (one statement) and the text is rebuilt only when they differ from the last build (per process).
    """
    rows = [tuple(r) for r in db.session.execute(feed_rows_statement(kind, owner.id))]
    etag = hashlib.sha256(repr((kind, owner.id, owner.name, rows)).encode()).hexdigest()[:32]
    body = _FEED_CACHE.get(etag)
    if body is None:
        body = _build_feed(kind, owner, rows)
        if len(_FEED_CACHE) >= _FEED_CACHE_SIZE:
            _FEED_CACHE.pop(next(iter(_FEED_CACHE)), None)
        _FEED_CACHE[etag] = body
    return body, etag


def _build_feed(kind: str, owner, rows) -> bytes:
    stamp = clock.now()
    events = []
    for line_id, order_id, day, hhmm, people, service_name, minutes, client_name, provider_name in rows:
        summary = f"{service_name} - {people_label(people)} - {first_name(client_name)}"
        description = f"Venta #{order_id}" + (f" · {provider_name}" if provider_name else "")
        events.append(
            _event(
                line_id=line_id,
                start=line_start(day, hhmm),
                minutes=minutes,
                summary=summary,
                stamp=stamp,
                description=description,
            )
        )
    return _calendar(f"Aremko - {owner.name}", f"calendario-{kind}-{owner.id}", events)


def order_ics(order: Order) -> bytes:
    """`reserva-<id>.ics` for the booking confirmation: one VEVENT per active service line (METHOD:PUBLISH)."""
    stamp = clock.now()
    location = f"{current_app.config['BUSINESS_NAME']}, {current_app.config['BUSINESS_ADDRESS']}"
    events = [
        _event(
            line_id=line.id,
            start=line_start(line.service_date, line.start_time),
            minutes=line.service.duration_minutes,
            summary=f"{line.service.name} - {people_label(line.people)}",
            stamp=stamp,
            description=f"Reserva #{order.id} en {current_app.config['BUSINESS_NAME']}",
            location=location,
        )
        for line in order.service_lines
        if line.status != "cancelada"
    ]
    return _calendar(f"Reserva #{order.id}", f"reserva-{order.id}", events, method="PUBLISH")


def order_ics_filename(order: Order) -> str:
    return f"reserva-{order.id}.ics"


def order_ics_attachment(order: Order) -> tuple[str, str, bytes]:
    """(filename, mime type, content) for the booking-confirmation e-mail."""
    return order_ics_filename(order), "text/calendar", order_ics(order)
