"""Reads of the AI module: today's spend against the caps, history, usage figures."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.ai.models import AIQueryLog
from app.auth.models import User
from app.core import clock
from app.extensions import db


def _today_start():
    return clock.local_midnight(clock.today())


def spent_today_milli(user_id: int | None = None) -> int:
    stmt = sa.select(sa.func.coalesce(sa.func.sum(AIQueryLog.cost_milli_clp), 0)).where(
        AIQueryLog.created_at >= _today_start()
    )
    if user_id is not None:
        stmt = stmt.where(AIQueryLog.user_id == user_id)
    return int(db.session.execute(stmt).scalar_one())


def history_select(user) -> sa.Select:
    stmt = sa.select(AIQueryLog).where(AIQueryLog.kind == "chat").order_by(AIQueryLog.id.desc())
    if user.role != "admin":
        stmt = stmt.where(AIQueryLog.user_id == user.id)
    return stmt


def usage_by_day(days: int = 30) -> list:
    since = clock.local_midnight(clock.today() - timedelta(days=days - 1))
    rows = db.session.execute(
        sa.select(
            AIQueryLog.created_at,
            AIQueryLog.input_tokens,
            AIQueryLog.output_tokens,
            AIQueryLog.cost_milli_clp,
            AIQueryLog.status,
        ).where(AIQueryLog.created_at >= since)
    ).all()
    out: dict = {}
    for created, tin, tout, cost, status in rows:
        day = clock.to_local(created).date()
        d = out.setdefault(day, {"dia": day, "llamadas": 0, "bloqueadas": 0, "tokens": 0, "costo_milli": 0})
        d["llamadas"] += 1
        d["bloqueadas"] += status == "blocked"
        d["tokens"] += tin + tout
        d["costo_milli"] += cost
    return [out[k] for k in sorted(out, reverse=True)]


def usage_by_user(days: int = 30) -> list:
    since = clock.local_midnight(clock.today() - timedelta(days=days - 1))
    today = _today_start()
    tokens = sa.func.sum(AIQueryLog.input_tokens + AIQueryLog.output_tokens)
    cost = sa.func.sum(AIQueryLog.cost_milli_clp)
    cost_today = sa.func.sum(sa.case((AIQueryLog.created_at >= today, AIQueryLog.cost_milli_clp), else_=0))
    return db.session.execute(
        sa.select(
            sa.func.coalesce(User.username, "(eliminado)").label("usuario"),
            sa.func.count(AIQueryLog.id).label("llamadas"),
            tokens.label("tokens"),
            cost.label("costo_milli"),
            cost_today.label("costo_hoy_milli"),
        )
        .select_from(AIQueryLog)
        .outerjoin(User, User.id == AIQueryLog.user_id)
        .where(AIQueryLog.created_at >= since)
        .group_by(User.username)
        .order_by(cost.desc())
    ).all()
