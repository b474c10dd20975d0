"""Booking read side: the availability context for one service and day, in a constant number of queries."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from app.catalog.models import Provider, ProviderAbsence, Service, ServiceBlock, SlotBlock, service_providers
from app.core import clock
from app.core.db import UTCDateTime
from app.extensions import db
from app.orders.models import CartHold, ServiceLine
from app.orders.policy import Busy, ServiceInfo, SlotContext, slot_start


def service_info(service: Service) -> ServiceInfo:
    return ServiceInfo(
        id=service.id, name=service.name, service_type=service.service_type, is_active=service.is_active,
        is_published=service.is_published, min_people=service.min_people, max_people=service.max_people,
        capacity=service.max_concurrent_bookings, duration_minutes=service.duration_minutes,
        grid=service.slot_grid or {},
    )


@functools.cache
def _facts_statement(ignore_line: bool, ignore_cart: bool) -> sa.CompoundSelect:
    """Blocks, slot blocks and occupancy of one service and day, as one UNION ALL (built once, bound per call)."""
    sid, day, now = sa.bindparam("sid"), sa.bindparam("day", type_=sa.Date), sa.bindparam("now", type_=UTCDateTime())
    block = sa.select(sa.literal("block"), sa.cast(sa.null(), sa.String), ServiceBlock.reason, sa.literal(0)).where(
        ServiceBlock.is_active.is_(True), ServiceBlock.start_date <= day, ServiceBlock.end_date >= day,
        sa.or_(ServiceBlock.service_id.is_(None), ServiceBlock.service_id == sid))
    slot_blocks = sa.select(sa.literal("slot"), SlotBlock.time, SlotBlock.reason, sa.literal(0)).where(
        SlotBlock.service_id == sid, SlotBlock.date == day)
    lines = sa.select(sa.literal("line"), ServiceLine.start_time, sa.cast(sa.null(), sa.String),
                      sa.func.count()).where(ServiceLine.service_id == sid, ServiceLine.service_date == day,
                                             ServiceLine.status != "cancelada")
    if ignore_line:
        lines = lines.where(ServiceLine.id != sa.bindparam("ignore_line_id"))
    holds = sa.select(sa.literal("hold"), CartHold.time, sa.cast(sa.null(), sa.String), sa.func.count()).where(
        CartHold.service_id == sid, CartHold.date == day, CartHold.expires_at > now, CartHold.released_at.is_(None))
    if ignore_cart:
        holds = holds.where(CartHold.cart_id != sa.bindparam("ignore_cart_id"))
    return sa.union_all(block, slot_blocks, lines.group_by(ServiceLine.start_time), holds.group_by(CartHold.time))


@functools.cache
def _qualified_statement() -> sa.Select:
    """Providers who may perform the service: listed on it, active, not absent that day."""
    sid, day = sa.bindparam("sid"), sa.bindparam("day", type_=sa.Date)
    absent = sa.exists().where(ProviderAbsence.provider_id == Provider.id, ProviderAbsence.start_date <= day,
                               ProviderAbsence.end_date >= day)
    return (sa.select(Provider.id, Provider.name)
            .join(service_providers, service_providers.c.provider_id == Provider.id)
            .where(service_providers.c.service_id == sid, Provider.is_active.is_(True), ~absent))


@functools.cache
def _busy_statement(ignore_line: bool, ignore_cart: bool) -> sa.CompoundSelect:
    """What the given providers are doing that day (lines and live holds of any service), as one UNION ALL."""
    ids, day, now = (sa.bindparam("ids", expanding=True), sa.bindparam("day", type_=sa.Date),
                     sa.bindparam("now", type_=UTCDateTime()))
    line_rows = sa.select(ServiceLine.provider_id, ServiceLine.start_time, Service.duration_minutes).join(
        Service, Service.id == ServiceLine.service_id).where(
        ServiceLine.provider_id.in_(ids), ServiceLine.service_date == day, ServiceLine.status != "cancelada")
    if ignore_line:
        line_rows = line_rows.where(ServiceLine.id != sa.bindparam("ignore_line_id"))
    hold_rows = sa.select(CartHold.provider_id, CartHold.time, Service.duration_minutes).join(
        Service, Service.id == CartHold.service_id).where(
        CartHold.provider_id.in_(ids), CartHold.date == day, CartHold.expires_at > now,
        CartHold.released_at.is_(None))
    if ignore_cart:
        hold_rows = hold_rows.where(CartHold.cart_id != sa.bindparam("ignore_cart_id"))
    return sa.union_all(line_rows, hold_rows)


def load_slot_context(
    service: Service,
    day: date,
    *,
    staff: bool = False,
    ignore_line_id: int | None = None,
    ignore_cart_id: int | None = None,
) -> SlotContext:
    """Blocks, occupancy (non-cancelled lines + live holds) and, for massages, provider availability.

    One statement for the slot facts and two more for massages' providers, whatever the number of orders.
    """
    now = clock.now()
    cfg = current_app.config
    ctx = SlotContext(
        service=service_info(service), day=day, now_local=clock.to_local(now), staff=staff,
        lead_minutes=int(cfg["BOOKING_MIN_LEAD_MINUTES"]), horizon_days=int(cfg["BOOKING_HORIZON_DAYS"]),
    )
    params = {"sid": service.id, "day": day, "now": now}
    if ignore_line_id is not None:
        params["ignore_line_id"] = ignore_line_id
    if ignore_cart_id is not None:
        params["ignore_cart_id"] = ignore_cart_id
    flags = (ignore_line_id is not None, ignore_cart_id is not None)
    occupied: Counter = Counter()
    for kind, hhmm, reason, count in db.session.execute(_facts_statement(*flags), params).all():
        if kind == "block":
            ctx.block_reason = ctx.block_reason or reason
        elif kind == "slot":
            ctx.slot_blocks[hhmm] = reason
        else:
            occupied[hhmm] += count
    ctx.occupied = dict(occupied)
    if service.service_type == "masaje":
        ctx.qualified = sorted(tuple(r) for r in db.session.execute(_qualified_statement(), params).all())
        busy: dict[int, list[Busy]] = {}
        load: Counter = Counter()
        if ctx.qualified:
            params["ids"] = [pid for pid, _ in ctx.qualified]
            for pid, hhmm, minutes in db.session.execute(_busy_statement(*flags), params).all():
                start = slot_start(day, hhmm)
                busy.setdefault(pid, []).append(Busy(start, start + timedelta(minutes=minutes)))
                load[pid] += 1
        ctx.busy, ctx.load = busy, dict(load)
    return ctx
