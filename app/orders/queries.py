"""Booking read side: the availability context for one service and day, in a constant number of queries."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.catalog.models import Provider, ProviderAbsence, Service, ServiceBlock, SlotBlock, service_providers
from app.core import clock
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


def live_line_filter(day: date):
    return sa.and_(ServiceLine.service_date == day, ServiceLine.status != "cancelada")


def load_slot_context(
    service: Service,
    day: date,
    *,
    staff: bool = False,
    ignore_line_id: int | None = None,
    ignore_cart_id: int | None = None,
) -> SlotContext:
    """Blocks, occupancy (non-cancelled lines + live holds) and, for massages, provider availability."""
    now = clock.now()
    cfg = current_app.config
    ctx = SlotContext(
        service=service_info(service), day=day, now_local=clock.to_local(now), staff=staff,
        lead_minutes=int(cfg["BOOKING_MIN_LEAD_MINUTES"]), horizon_days=int(cfg["BOOKING_HORIZON_DAYS"]),
    )
    block = db.session.scalar(
        sa.select(ServiceBlock.reason).where(
            ServiceBlock.is_active.is_(True), ServiceBlock.start_date <= day, ServiceBlock.end_date >= day,
            sa.or_(ServiceBlock.service_id.is_(None), ServiceBlock.service_id == service.id),
        ).limit(1)
    )
    ctx.block_reason = block
    ctx.slot_blocks = dict(db.session.execute(
        sa.select(SlotBlock.time, SlotBlock.reason).where(SlotBlock.service_id == service.id, SlotBlock.date == day)
    ).all())
    lines = sa.select(ServiceLine.start_time.label("t"), sa.func.count().label("n")).where(
        ServiceLine.service_id == service.id, live_line_filter(day)
    )
    if ignore_line_id is not None:
        lines = lines.where(ServiceLine.id != ignore_line_id)
    holds = sa.select(CartHold.time.label("t"), sa.func.count().label("n")).where(
        CartHold.service_id == service.id, CartHold.date == day, CartHold.expires_at > now,
        CartHold.released_at.is_(None),
    )
    if ignore_cart_id is not None:
        holds = holds.where(CartHold.cart_id != ignore_cart_id)
    occupied: Counter = Counter()
    for t, n in db.session.execute(lines.group_by(ServiceLine.start_time)).all():
        occupied[t] += n
    for t, n in db.session.execute(holds.group_by(CartHold.time)).all():
        occupied[t] += n
    ctx.occupied = dict(occupied)
    if service.service_type == "masaje":
        _load_providers(ctx, service, day, now, ignore_line_id, ignore_cart_id)
    return ctx


def _load_providers(ctx: SlotContext, service: Service, day: date, now: datetime, ignore_line_id, ignore_cart_id):
    absent = sa.exists().where(
        ProviderAbsence.provider_id == Provider.id, ProviderAbsence.start_date <= day, ProviderAbsence.end_date >= day
    )
    ctx.qualified = [tuple(r) for r in db.session.execute(
        sa.select(Provider.id, Provider.name)
        .join(service_providers, service_providers.c.provider_id == Provider.id)
        .where(service_providers.c.service_id == service.id, Provider.is_active.is_(True), ~absent)
        .order_by(Provider.id)
    ).all()]
    ids = [pid for pid, _ in ctx.qualified]
    if not ids:
        return
    line_rows = sa.select(ServiceLine.provider_id, ServiceLine.start_time, Service.duration_minutes).join(
        Service, Service.id == ServiceLine.service_id
    ).where(ServiceLine.provider_id.in_(ids), live_line_filter(day))
    if ignore_line_id is not None:
        line_rows = line_rows.where(ServiceLine.id != ignore_line_id)
    hold_rows = sa.select(CartHold.provider_id, CartHold.time, Service.duration_minutes).join(
        Service, Service.id == CartHold.service_id
    ).where(CartHold.provider_id.in_(ids), CartHold.date == day, CartHold.expires_at > now,
              CartHold.released_at.is_(None))
    if ignore_cart_id is not None:
        hold_rows = hold_rows.where(CartHold.cart_id != ignore_cart_id)
    busy: dict[int, list[Busy]] = {}
    load: Counter = Counter()
    for pid, hhmm, minutes in [*db.session.execute(line_rows).all(), *db.session.execute(hold_rows).all()]:
        start = slot_start(day, hhmm)
        busy.setdefault(pid, []).append(Busy(start, start + timedelta(minutes=minutes)))
        load[pid] += 1
    ctx.busy = busy
    ctx.load = dict(load)
