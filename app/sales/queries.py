"""Booking read side: the availability context for one service and day in one statement whatever the number of
orders (service row, blocks, occupancy), plus one for massages (providers and what they are doing that day)."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from app.catalog.models import Provider, ProviderAbsence, Service, ServiceBlock, SlotBlock, service_providers
from app.core import clock
from app.core.db import UTCDateTime
from app.core.settings import in_force, prime, primed, settings_select
from app.extensions import db
from app.sales.availability import Busy, ServiceInfo, SlotContext, slot_start
from app.sales.models import Cart, CartHold, CartProductLine, ServiceLine

_SERVICE_COLUMNS = (
    Service.id,
    Service.name,
    Service.service_type,
    Service.is_active,
    Service.is_published,
    Service.min_people,
    Service.max_people,
    Service.max_concurrent_bookings,
    Service.duration_minutes,
    Service.slot_grid,
)


def service_info(service: Service) -> ServiceInfo:
    return _info_from_row([getattr(service, column.key) for column in _SERVICE_COLUMNS])


def _info_from_row(row) -> ServiceInfo:
    """ServiceInfo from the values of `_SERVICE_COLUMNS`, in that order (a row, or the loaded object's values)."""
    return ServiceInfo(
        id=row[0],
        name=row[1],
        service_type=row[2],
        is_active=row[3],
        is_published=row[4],
        min_people=row[5],
        max_people=row[6],
        capacity=row[7],
        duration_minutes=row[8],
        grid=row[9] or {},
    )


@functools.cache
def _context_statement(ignore_line: bool, ignore_cart: bool) -> sa.Select:
    """The service's columns LEFT JOINed to its facts of the day (kind, hhmm, reason, n): blocks, slot blocks and
    occupancy per start time (non-cancelled lines + live holds). Built once, bound per call; no row when the
    service does not exist."""
    sid, day, now = sa.bindparam("sid"), sa.bindparam("day", type_=sa.Date), sa.bindparam("now", type_=UTCDateTime())
    no_text, zero = sa.cast(sa.null(), sa.String), sa.literal(0)
    block = sa.select(sa.literal("block"), no_text, ServiceBlock.reason, zero).where(
        ServiceBlock.is_active.is_(True),
        ServiceBlock.start_date <= day,
        ServiceBlock.end_date >= day,
        sa.or_(ServiceBlock.service_id.is_(None), ServiceBlock.service_id == sid),
    )
    slot_blocks = sa.select(sa.literal("slot"), SlotBlock.time, SlotBlock.reason, zero).where(
        SlotBlock.service_id == sid, SlotBlock.date == day
    )
    lines = sa.select(sa.literal("line"), ServiceLine.start_time, no_text, sa.func.count()).where(
        ServiceLine.service_id == sid, ServiceLine.service_date == day, ServiceLine.status != "cancelada"
    )
    holds = sa.select(sa.literal("hold"), CartHold.time, no_text, sa.func.count()).where(
        CartHold.service_id == sid, CartHold.date == day, CartHold.expires_at > now, CartHold.released_at.is_(None)
    )
    if ignore_line:
        lines = lines.where(ServiceLine.id != sa.bindparam("ignore_line_id"))
    if ignore_cart:
        holds = holds.where(CartHold.cart_id != sa.bindparam("ignore_cart_id"))
    facts = sa.union_all(
        block, slot_blocks, lines.group_by(ServiceLine.start_time), holds.group_by(CartHold.time)
    ).subquery("facts")
    return (
        sa.select(*_SERVICE_COLUMNS, *facts.c)
        .select_from(Service.__table__)
        .outerjoin(facts, sa.true())
        .where(Service.id == sid)
    )


@functools.cache
def _providers_statement(ignore_line: bool, ignore_cart: bool) -> sa.CompoundSelect:
    """For massages: the qualified providers (listed on the service, active, not absent that day) as
    ("provider", id, name, NULL, 0) and what they are doing that day — lines and live holds of any service — as
    ("busy", provider id, NULL, start, duration). One UNION ALL, built once, bound per call."""
    sid, day, now = sa.bindparam("sid"), sa.bindparam("day", type_=sa.Date), sa.bindparam("now", type_=UTCDateTime())
    no_text = sa.cast(sa.null(), sa.String)
    absent = sa.exists().where(
        ProviderAbsence.provider_id == Provider.id, ProviderAbsence.start_date <= day, ProviderAbsence.end_date >= day
    )
    qualified = (service_providers.c.service_id == sid, Provider.is_active.is_(True), ~absent)
    providers = (
        sa.select(sa.literal("provider"), Provider.id, Provider.name, no_text, sa.literal(0))
        .join(service_providers, service_providers.c.provider_id == Provider.id)
        .where(*qualified)
    )
    qualified_ids = (
        sa.select(Provider.id).join(service_providers, service_providers.c.provider_id == Provider.id).where(*qualified)
    )
    busy_lines = (
        sa.select(
            sa.literal("busy"), ServiceLine.provider_id, no_text, ServiceLine.start_time, Service.duration_minutes
        )
        .join(Service, Service.id == ServiceLine.service_id)
        .where(
            ServiceLine.provider_id.in_(qualified_ids),
            ServiceLine.service_date == day,
            ServiceLine.status != "cancelada",
        )
    )
    busy_holds = (
        sa.select(sa.literal("busy"), CartHold.provider_id, no_text, CartHold.time, Service.duration_minutes)
        .join(Service, Service.id == CartHold.service_id)
        .where(
            CartHold.provider_id.in_(qualified_ids),
            CartHold.date == day,
            CartHold.expires_at > now,
            CartHold.released_at.is_(None),
        )
    )
    if ignore_line:
        busy_lines = busy_lines.where(ServiceLine.id != sa.bindparam("ignore_line_id"))
    if ignore_cart:
        busy_holds = busy_holds.where(CartHold.cart_id != sa.bindparam("ignore_cart_id"))
    return sa.union_all(providers, busy_lines, busy_holds)


def _context(
    info: ServiceInfo,
    day: date,
    now,
    rows,
    *,
    staff: bool,
    ignore_line_id: int | None = None,
    ignore_cart_id: int | None = None,
) -> SlotContext:
    """Build the context from the rows of `_context_statement` (and, for massages, one more statement)."""
    cfg = in_force()  # an admin's override wins (app/core/settings.py)
    ctx = SlotContext(
        service=info,
        day=day,
        now_local=clock.to_local(now),
        staff=staff,
        lead_minutes=int(cfg["BOOKING_MIN_LEAD_MINUTES"]),
        horizon_days=int(cfg["BOOKING_HORIZON_DAYS"]),
    )
    occupied: Counter = Counter()
    base = len(_SERVICE_COLUMNS)
    for row in rows:
        kind, hhmm, reason, count = row[base:]
        if kind == "block":
            ctx.block_reason = ctx.block_reason or reason
        elif kind == "slot":
            ctx.slot_blocks[hhmm] = reason
        elif kind is not None:
            occupied[hhmm] += count
    ctx.occupied = dict(occupied)
    if info.service_type == "masaje":
        params = _params(info.id, day, now, ignore_line_id, ignore_cart_id)
        statement = _providers_statement(ignore_line_id is not None, ignore_cart_id is not None)
        qualified: list[tuple[int, str]] = []
        busy: dict[int, list[Busy]] = {}
        load: Counter = Counter()
        for kind, pid, name, hhmm, minutes in db.session.execute(statement, params).all():
            if kind == "provider":
                qualified.append((pid, name))
            else:
                start = slot_start(day, hhmm)
                busy.setdefault(pid, []).append(Busy(start, start + timedelta(minutes=minutes)))
                load[pid] += 1
        ctx.qualified, ctx.busy, ctx.load = sorted(qualified), busy, dict(load)
    return ctx


def _params(service_id: int, day: date, now, ignore_line_id: int | None, ignore_cart_id: int | None) -> dict:
    params = {"sid": service_id, "day": day, "now": now}
    if ignore_line_id is not None:
        params["ignore_line_id"] = ignore_line_id
    if ignore_cart_id is not None:
        params["ignore_cart_id"] = ignore_cart_id
    return params


def _rows(service_id: int, day: date, ignore_line_id: int | None, ignore_cart_id: int | None):
    """(now, rows of `_context_statement`): the same instant bounds the live holds and the lead time."""
    now = clock.now()
    statement = _context_statement(ignore_line_id is not None, ignore_cart_id is not None)
    return now, db.session.execute(statement, _params(service_id, day, now, ignore_line_id, ignore_cart_id)).all()


def load_slot_context(
    service: Service,
    day: date,
    *,
    staff: bool = False,
    ignore_line_id: int | None = None,
    ignore_cart_id: int | None = None,
) -> SlotContext:
    """Blocks, occupancy (non-cancelled lines + live holds) and, for massages, provider availability: one
    statement (two for massages) whatever the number of orders. The service's own values come from the loaded
    object."""
    now, rows = _rows(service.id, day, ignore_line_id, ignore_cart_id)
    return _context(
        service_info(service), day, now, rows, staff=staff, ignore_line_id=ignore_line_id, ignore_cart_id=ignore_cart_id
    )


@functools.cache
def _context_and_settings_statement() -> sa.CompoundSelect:
    """`_context_statement` and the request's settings rows (NULL service columns, kind "setting", the key and the
    value in two last columns, NULL on the context's rows): the JSON availability endpoints read both in one round
    trip (issue 20)."""
    context = _context_statement(False, False)
    no_value = sa.cast(sa.null(), sa.JSON)
    pad = [sa.cast(sa.null(), column.type) for column in _SERVICE_COLUMNS]
    no_text = sa.cast(sa.null(), sa.String)
    # (service columns, kind, hhmm, reason, n, key, value)
    settings = sa.select(*pad, sa.literal("setting"), no_text, no_text, sa.literal(0)).add_columns(
        *settings_select().selected_columns
    )
    return sa.union_all(context.add_columns(no_text, no_value), settings)


def load_slot_context_by_id(service_id: int, day: date, *, staff: bool = False) -> SlotContext | None:
    """The same context from the service id alone (the JSON availability endpoints): one statement in all (two
    for massages) with the request's settings, None when the service does not exist. Read-only GET paths: executed
    on the session's connection (Core: no ORM result machinery for plain columns, issue 20), so nothing pending is
    flushed first."""
    now = clock.now()
    params = _params(service_id, day, now, None, None)
    if primed():
        rows = db.session.connection().execute(_context_statement(False, False), params).all()
    else:
        base = len(_SERVICE_COLUMNS)
        rows, settings = [], []
        for row in db.session.connection().execute(_context_and_settings_statement(), params).all():
            if row[base] == "setting":
                settings.append((row[-2], row[-1]))
            else:
                rows.append(row[:-2])
        prime(settings)
    if not rows:
        return None
    return _context(_info_from_row(rows[0]), day, now, rows, staff=staff)


def upcoming_blocks(today: date) -> tuple[list[ServiceBlock], list[SlotBlock]]:
    """Active service blocks not yet over and slot blocks from today on (the blocks screen), by date."""
    from sqlalchemy.orm import selectinload

    service_blocks = db.session.scalars(
        sa.select(ServiceBlock)
        .options(selectinload(ServiceBlock.service))
        .where(ServiceBlock.is_active.is_(True), ServiceBlock.end_date >= today)
        .order_by(ServiceBlock.start_date, ServiceBlock.id)
    ).all()
    slot_blocks = db.session.scalars(
        sa.select(SlotBlock)
        .options(selectinload(SlotBlock.service))
        .where(SlotBlock.date >= today)
        .order_by(SlotBlock.date, SlotBlock.time, SlotBlock.id)
    ).all()
    return list(service_blocks), list(slot_blocks)


def cart_line_count(token: str | None) -> int:
    """Lines (holds, expired ones included, and products) of the cart of a session token, in one statement: the cart
    badge every public page shows (issue 20)."""
    if not token:
        return 0
    holds = sa.select(sa.func.count()).where(CartHold.cart_id == Cart.id).scalar_subquery()
    products = sa.select(sa.func.count()).where(CartProductLine.cart_id == Cart.id).scalar_subquery()
    return db.session.scalar(sa.select(holds + products).where(Cart.token == token)) or 0
