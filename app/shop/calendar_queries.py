"""The booking panel's month calendar (D11): which days of a month can be booked, from the same availability
rules as get-available-hours (`slot_availability`), with the facts of the whole month read in one statement (with
the request's settings on the service page) plus, for massages, one for their therapists' agendas of the month."""

from __future__ import annotations

import calendar as pycalendar
import functools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.catalog.models import Provider, ProviderAbsence, Service, ServiceBlock, SlotBlock, service_providers
from app.core import clock
from app.core.db import UTCDateTime
from app.core.settings import in_force, prime, primed, settings_select
from app.extensions import db
from app.sales.availability import Busy, SlotContext, slot_motives, slot_start
from app.sales.models import CartHold, ServiceLine
from app.sales.queries import service_info
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
    contexts: dict[date, SlotContext] = field(default_factory=dict)  # the month's days from today on

    @property
    def title(self) -> str:
        return month_title(self.first)

    @property
    def key(self) -> tuple:
        """What the rendered calendar shows of this month (with the service, the people and the chosen day)."""
        states = tuple(d.state for week in self.weeks for d in week if d)
        return (self.first, self.prev_month, self.next_month, states)

    def first_bookable(self) -> date | None:
        return next((d.day for week in self.weeks for d in week if d and d.bookable), None)


@functools.cache
def _month_facts() -> sa.CompoundSelect:
    """(kind, first day, last day, hhmm, reason, n) for blocks, slot blocks and occupancy of the days between
    :start and :end of service :sid (live holds at :now). Built once, bound per call."""
    sid, start, end = sa.bindparam("sid"), sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date)
    now = sa.bindparam("now", type_=UTCDateTime())
    no_text, zero, no_date = sa.cast(sa.null(), sa.String), sa.literal(0), sa.cast(sa.null(), sa.Date)
    block = sa.select(
        sa.literal("block"), ServiceBlock.start_date, ServiceBlock.end_date, no_text, ServiceBlock.reason, zero
    ).where(
        ServiceBlock.is_active.is_(True),
        ServiceBlock.start_date <= end,
        ServiceBlock.end_date >= start,
        sa.or_(ServiceBlock.service_id.is_(None), ServiceBlock.service_id == sid),
    )
    slots = sa.select(sa.literal("slot"), SlotBlock.date, no_date, SlotBlock.time, SlotBlock.reason, zero).where(
        SlotBlock.service_id == sid, SlotBlock.date.between(start, end)
    )
    lines = (
        sa.select(
            sa.literal("line"), ServiceLine.service_date, no_date, ServiceLine.start_time, no_text, sa.func.count()
        )
        .where(
            ServiceLine.service_id == sid,
            ServiceLine.service_date.between(start, end),
            ServiceLine.status != "cancelada",
        )
        .group_by(ServiceLine.service_date, ServiceLine.start_time)
    )
    holds = (
        sa.select(sa.literal("hold"), CartHold.date, no_date, CartHold.time, no_text, sa.func.count())
        .where(
            CartHold.service_id == sid,
            CartHold.date.between(start, end),
            CartHold.expires_at > now,
            CartHold.released_at.is_(None),
        )
        .group_by(CartHold.date, CartHold.time)
    )
    return sa.union_all(block, slots, lines, holds)


@functools.cache
def _month_agendas() -> sa.CompoundSelect:
    """For a massage's month: (kind, provider id, name, first day, last day, hhmm, minutes) — the providers listed
    on service :sid and active ("provider"), their absences overlapping :start–:end ("absent"), and what they are
    doing those days, lines and live holds at :now of any service ("busy"). One statement for the month instead of
    one per day (`sales.queries._providers_statement`, whose rules these are)."""
    sid, start, end = sa.bindparam("sid"), sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date)
    now = sa.bindparam("now", type_=UTCDateTime())
    no_text, no_date, zero = sa.cast(sa.null(), sa.String), sa.cast(sa.null(), sa.Date), sa.literal(0)
    listed = (service_providers.c.service_id == sid, Provider.is_active.is_(True))
    joined = (service_providers, service_providers.c.provider_id == Provider.id)
    listed_ids = sa.select(Provider.id).join(*joined).where(*listed)
    providers = (
        sa.select(sa.literal("provider"), Provider.id, Provider.name, no_date, no_date, no_text, zero)
        .join(*joined)
        .where(*listed)
    )
    absences = sa.select(
        sa.literal("absent"),
        ProviderAbsence.provider_id,
        no_text,
        ProviderAbsence.start_date,
        ProviderAbsence.end_date,
        no_text,
        zero,
    ).where(
        ProviderAbsence.provider_id.in_(listed_ids),
        ProviderAbsence.start_date <= end,
        ProviderAbsence.end_date >= start,
    )

    def busy(model, day, hhmm, *live):  # what the listed providers are doing those days, on any service
        return (
            sa.select(sa.literal("busy"), model.provider_id, no_text, day, no_date, hhmm, Service.duration_minutes)
            .join(Service, Service.id == model.service_id)
            .where(model.provider_id.in_(listed_ids), day.between(start, end), *live)
        )

    lines = busy(ServiceLine, ServiceLine.service_date, ServiceLine.start_time, ServiceLine.status != "cancelada")
    holds = busy(CartHold, CartHold.date, CartHold.time, CartHold.expires_at > now, CartHold.released_at.is_(None))
    return sa.union_all(providers, absences, lines, holds)


def _agendas(service_id: int, start: date, last: date, now) -> Callable[[date], tuple[list, dict, dict]]:
    """(qualified, busy, load) of a day, as `sales.queries._context` builds them, from the month's one read."""
    params = {"sid": service_id, "start": start, "end": last, "now": now}
    listed, absences, busy_rows = [], [], defaultdict(list)
    for kind, pid, name, d1, d2, hhmm, minutes in db.session.connection().execute(_month_agendas(), params).all():
        if kind == "provider":
            listed.append((pid, name))
        elif kind == "absent":
            absences.append((pid, d1, d2))
        else:
            busy_rows[d1].append((pid, hhmm, minutes))

    def day_agenda(day: date) -> tuple[list, dict, dict]:
        away = {pid for pid, d1, d2 in absences if d1 <= day <= d2}
        qualified = sorted((pid, name) for pid, name in listed if pid not in away)
        ids = {pid for pid, _ in qualified}
        busy: dict[int, list[Busy]] = {}
        load: Counter = Counter()
        for pid, hhmm, minutes in busy_rows.get(day, ()):
            if pid in ids:
                begin = slot_start(day, hhmm)
                busy.setdefault(pid, []).append(Busy(begin, begin + timedelta(minutes=minutes)))
                load[pid] += 1
        return qualified, busy, dict(load)

    return day_agenda


def day_state(motives) -> str:
    """The calendar state of a day from the `motivo` of each of its times (`slot_motives`)."""
    seen = []
    for motivo in motives:
        if motivo is None:
            return "disponible"
        seen.append(motivo)
    if not seen or all(m in ("dia_sin_horario", "bloqueado") for m in seen):
        return "cerrado"
    if all(m in ("hora_pasada", "fecha_pasada") for m in seen):
        return "pasado"
    if all(m == "fuera_de_plazo" for m in seen):
        return "fuera"
    return "agotado"


@functools.cache
def _month_facts_and_settings() -> sa.CompoundSelect:
    """`_month_facts` and the request's settings rows (kind "setting", the key as hhmm, the value in a last column,
    NULL on the facts' rows): the service page's first statement (issue 20)."""
    no_date, no_text = sa.cast(sa.null(), sa.Date), sa.cast(sa.null(), sa.String)
    key, value = settings_select().selected_columns
    settings = sa.select(sa.literal("setting"), no_date, no_date, key, no_text, sa.literal(0), value)
    facts = _month_facts().subquery("facts")
    return sa.union_all(sa.select(*facts.c, sa.cast(sa.null(), sa.JSON)), settings)


@dataclass
class MonthFacts:
    """The facts of a month of a service read at `now` (rows of `_month_facts`, from `start` to `last`)."""

    service_id: int
    first: date
    start: date
    last: date
    now: datetime
    rows: list


def read_month_facts(service_id: int, first: date) -> MonthFacts:
    """The facts of `first`'s month from today on in one statement, with the request's settings when they were not
    read yet (then primed: the service page reads both in one round trip, issue 20)."""
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    now = clock.now()
    start = max(first, clock.to_local(now).date())
    rows: list = []
    if start <= last:
        params = {"sid": service_id, "start": start, "end": last, "now": now}
        # on the session's connection (Core): plain columns need no ORM result machinery
        connection = db.session.connection()
        if primed():
            rows = connection.execute(_month_facts(), params).all()
        else:
            settings = []
            for row in connection.execute(_month_facts_and_settings(), params).all():
                if row[0] == "setting":
                    settings.append((row[3], row[-1]))
                else:
                    rows.append(row[:-1])
            prime(settings)
    return MonthFacts(service_id, first, start, last, now, rows)


def month_contexts(service: Service, first: date, facts: MonthFacts | None = None) -> dict[date, SlotContext]:
    """The availability context of every day of `first`'s month from today on, from one statement (plus one for a
    massage's therapists' agendas): what `load_slot_context` would return for each of those days. `facts`: the
    month's facts, when read already."""
    if facts is None or facts.service_id != service.id or facts.first != first:
        facts = read_month_facts(service.id, first)
    start, last, now = facts.start, facts.last, facts.now
    if start > last:
        return {}
    info = service_info(service)
    blocks: dict[date, str | None] = {}
    slot_blocks: dict[date, dict] = defaultdict(dict)
    occupied: dict[date, Counter] = defaultdict(Counter)
    for kind, d1, d2, hhmm, reason, n in facts.rows:
        if kind == "block":
            day = max(d1, start)
            while day <= min(d2, last):
                blocks[day] = blocks.get(day) or reason
                day += timedelta(days=1)
        elif kind == "slot":
            slot_blocks[d1][hhmm] = reason
        else:
            occupied[d1][hhmm] += n
    contexts = {}
    # a massage's therapists and their agendas: one more statement for the whole month
    agenda = _agendas(service.id, start, last, now) if info.service_type == "masaje" else None
    cfg = in_force()
    now_local = clock.to_local(now)
    lead, horizon = int(cfg["BOOKING_MIN_LEAD_MINUTES"]), int(cfg["BOOKING_HORIZON_DAYS"])
    for ordinal in range(start.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        contexts[day] = SlotContext(
            service=info,
            day=day,
            now_local=now_local,
            staff=False,
            lead_minutes=lead,
            horizon_days=horizon,
            block_reason=blocks.get(day),
            slot_blocks=dict(slot_blocks.get(day, {})),
            occupied=dict(occupied.get(day, {})),
        )
        if agenda is not None:
            contexts[day].qualified, contexts[day].busy, contexts[day].load = agenda(day)
    return contexts


def month_days(service: Service, first: date, people: int, contexts: dict | None = None) -> dict[date, str]:
    """State of every day of `first`'s month for `people` people (`contexts`: this month's, when already read)."""
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    if contexts is None:
        contexts = month_contexts(service, first)
    states = {}
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        ctx = contexts.get(day)
        states[day] = "pasado" if ctx is None else day_state(slot_motives(ctx, people))
    return states


def month_view(service: Service, month: date, people: int, horizon: date, facts: MonthFacts | None = None) -> MonthView:
    first = month.replace(day=1)
    contexts = month_contexts(service, first, facts)
    states = month_days(service, first, people, contexts)
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
        contexts=contexts,
    )
