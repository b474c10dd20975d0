"""The booking panel's month calendar (D11): which days of a month can be booked, from the same availability
rules as get-available-hours (`slot_availability`), with the facts of the whole month read in one statement
(plus one per day for massages, whose therapists' agendas are read per day by the shared code)."""

from __future__ import annotations

import calendar as pycalendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from app.catalog.models import Service, ServiceBlock, SlotBlock
from app.core import clock
from app.core.db import UTCDateTime
from app.extensions import db
from app.sales.availability import slot_availability
from app.sales.models import CartHold, ServiceLine
from app.sales.queries import _SERVICE_COLUMNS, _context, service_info
from app.shop.texts import calendar_day_label, month_title


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # disponible | agotado | cerrado | pasado | fuera

    @property
    def bookable(self) -> bool:
        return self.state == "disponible"

    @property
    def label(self) -> str:
        return calendar_day_label(self.day, self.state)


@dataclass
class MonthView:
    first: date
    weeks: list[list[CalendarDay | None]]
    prev_month: date | None
    next_month: date | None

    @property
    def title(self) -> str:
        return month_title(self.first)

    def first_bookable(self) -> date | None:
        return next((d.day for week in self.weeks for d in week if d and d.bookable), None)


def _month_facts(service_id: int, start: date, end: date, now) -> sa.Select:
    """(kind, first day, last day, hhmm, reason, n) for blocks, slot blocks and occupancy of the month."""
    no_text, zero, no_date = sa.cast(sa.null(), sa.String), sa.literal(0), sa.cast(sa.null(), sa.Date)
    block = sa.select(
        sa.literal("block"), ServiceBlock.start_date, ServiceBlock.end_date, no_text, ServiceBlock.reason, zero
    ).where(
        ServiceBlock.is_active.is_(True),
        ServiceBlock.start_date <= end,
        ServiceBlock.end_date >= start,
        sa.or_(ServiceBlock.service_id.is_(None), ServiceBlock.service_id == service_id),
    )
    slots = sa.select(sa.literal("slot"), SlotBlock.date, no_date, SlotBlock.time, SlotBlock.reason, zero).where(
        SlotBlock.service_id == service_id, SlotBlock.date.between(start, end)
    )
    lines = (
        sa.select(
            sa.literal("line"), ServiceLine.service_date, no_date, ServiceLine.start_time, no_text, sa.func.count()
        )
        .where(
            ServiceLine.service_id == service_id,
            ServiceLine.service_date.between(start, end),
            ServiceLine.status != "cancelada",
        )
        .group_by(ServiceLine.service_date, ServiceLine.start_time)
    )
    holds = (
        sa.select(sa.literal("hold"), CartHold.date, no_date, CartHold.time, no_text, sa.func.count())
        .where(
            CartHold.service_id == service_id,
            CartHold.date.between(start, end),
            CartHold.expires_at > sa.bindparam("now", now, type_=UTCDateTime()),
            CartHold.released_at.is_(None),
        )
        .group_by(CartHold.date, CartHold.time)
    )
    return sa.union_all(block, slots, lines, holds)


def month_days(service: Service, first: date, people: int) -> dict[date, str]:
    """State of every day of `first`'s month for `people` people."""
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    now = clock.now()
    today = clock.to_local(now).date()
    info = service_info(service)
    pad = (None,) * len(_SERVICE_COLUMNS)
    per_day: dict[date, list] = defaultdict(list)
    for kind, d1, d2, hhmm, reason, n in db.session.execute(_month_facts(service.id, max(first, today), last, now)):
        if kind == "block":
            day = max(d1, first)
            while day <= min(d2, last):
                per_day[day].append((*pad, kind, hhmm, reason, n))
                day += timedelta(days=1)
        else:
            per_day[d1].append((*pad, kind, hhmm, reason, n))
    states = {}
    day = first
    while day <= last:
        if day < today:
            states[day] = "pasado"
        else:
            ctx = _context(info, day, now, per_day.get(day, [(*pad, None, None, None, None)]), staff=False)
            entries = slot_availability(ctx, people)
            if any(e.reservable for e in entries):
                states[day] = "disponible"
            elif not entries or all(e.motivo in ("dia_sin_horario", "bloqueado") for e in entries):
                states[day] = "cerrado"
            elif all(e.motivo in ("hora_pasada", "fecha_pasada") for e in entries):
                states[day] = "pasado"
            elif all(e.motivo == "fuera_de_plazo" for e in entries):
                states[day] = "fuera"
            else:
                states[day] = "agotado"
        day += timedelta(days=1)
    return states


def month_view(service: Service, month: date, people: int, horizon: date) -> MonthView:
    first = month.replace(day=1)
    states = month_days(service, first, people)
    weeks = [
        [CalendarDay(d, states[d]) if d.month == first.month else None for d in week]
        for week in pycalendar.Calendar().monthdatescalendar(first.year, first.month)
    ]
    today = clock.today()
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return MonthView(
        first=first,
        weeks=weeks,
        prev_month=prev_month if prev_month >= today.replace(day=1) else None,
        next_month=next_month if next_month <= horizon else None,
    )
