"""Waitlist reads: the full hours a customer may wait for, the desk's entries of a day, the API's list."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm

from app.catalog.models import Service
from app.core.phone import format_phone
from app.extensions import db
from app.sales import availability
from app.sales.queries import load_slot_context
from app.waitlist.models import WAITLIST_STATUSES, WaitlistEntry

FULL_REASONS = ("sin_cupo", "sin_terapeuta")
OFFER_SESSION_KEY = "waitlist_entry"  # set by the offer link (waitlist.offer): the entry whose hold the cart has


def full_hours(service: Service, day: date, people: int) -> list[str]:
    """The grid times of that day that are full for `people` (what the waitlist offers to wait for)."""
    entries = availability.slot_availability(load_slot_context(service, day), people)
    return [e.hora for e in entries if not e.reservable and e.motivo in FULL_REASONS]


def day_entries(day: date) -> sa.Select:
    """The desk panel: every entry of the day, active ones first, then by creation."""
    active_first = sa.case((WaitlistEntry.status.in_(("ofrecida", "esperando")), 0), else_=1)
    return (
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.date == day)
        .options(orm.joinedload(WaitlistEntry.service))
        .order_by(active_first, WaitlistEntry.created_at, WaitlistEntry.id)
    )


def api_entries(*, day: date | None = None, status: str | None = None, service_id: int | None = None) -> sa.Select:
    stmt = sa.select(WaitlistEntry).options(orm.joinedload(WaitlistEntry.service))
    if day is not None:
        stmt = stmt.where(WaitlistEntry.date == day)
    if status in WAITLIST_STATUSES:
        stmt = stmt.where(WaitlistEntry.status == status)
    if service_id is not None:
        stmt = stmt.where(WaitlistEntry.service_id == service_id)
    return stmt.order_by(WaitlistEntry.date, WaitlistEntry.created_at, WaitlistEntry.id)


def offer_contact(entry_id, cart) -> dict[str, str]:
    """The checkout fields an offer link fills in (self-service.md §4: the hold is made, the customer only confirms):
    the entry's name, phone and e-mail, when `entry_id` (from the session) is the entry whose offer opened `cart`.
    The people are the hold's own. Empty otherwise (no query unless an offer link was opened)."""
    if not isinstance(entry_id, int) or cart is None:
        return {}
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or entry.cart_id != cart.id:
        return {}
    return {"nombre": entry.name, "telefono": format_phone(entry.phone), "email": entry.email or ""}
