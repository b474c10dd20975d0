"""Scheduled automations (communications.md §4, §9): thin functions the scheduler calls in a unit of work.

Each run = one SELECT + one `INSERT … SELECT … ON CONFLICT DO NOTHING` per channel (reactivation reads its ≤ 50
candidates once, then inserts per channel), idempotent through the keys: running a job twice queues once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.automations import selection_queries as sel
from app.automations.sqltime import ensure_sqlite_functions
from app.comms.outbox_services import enqueue_from_select
from app.core import clock
from app.extensions import db


@dataclass
class RunResult:
    name: str
    queued: int = 0
    existing: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None  # why nothing was selected at all (e.g. no survey URL)


def _selects(auto: sel.Automation, now: datetime) -> list[tuple[str, sa.Select]]:
    if auto.name == "reactivation":
        candidates = db.session.execute(sel.reactivation_candidates(now)).all()
        out = []
        for channel in auto.channels:
            ids = [c.client_id for c in candidates if c.channel == channel]
            if ids:
                out.append((channel, sel.reactivation(now, channel, ids)))
        return out
    out = []
    for channel in auto.channels:
        select = auto.select(now, channel)
        if select is not None:
            out.append((channel, select))
    return out


def run_automation(name: str, *, now: datetime | None = None, count_existing: bool = False) -> RunResult:
    """Select and queue one automation (`reminders`, `surveys`, `birthdays`, `reactivation`, `vip`); flushes,
    never commits. `count_existing` also counts selected rows whose key already existed (one COUNT each)."""
    auto = sel.BY_NAME[name]
    now = now or clock.now()
    ensure_sqlite_functions(db.session)
    result = RunResult(name)
    selects = _selects(auto, now)
    if not selects and name == "surveys":
        result.skipped = "SURVEY_PUBLIC_BASE_URL vacío: no se encolan encuestas"
    for channel, select in selects:
        selected = (
            db.session.scalar(sa.select(sa.func.count()).select_from(select.subquery())) if count_existing else None
        )
        n = enqueue_from_select(select, message_type=auto.message_type, channel=channel, triggered_by=auto.job_id)
        result.queued += n
        result.by_channel[channel] = n
        if selected is not None:
            result.existing += selected - n
    return result


def _summary(result: RunResult, noun: str) -> str:
    if result.skipped:
        return result.skipped
    return f"{result.queued} {noun} en cola"


def booking_reminders() -> str:
    return _summary(run_automation("reminders"), "recordatorios")


def satisfaction_surveys() -> str:
    return _summary(run_automation("surveys"), "encuestas")


def birthday_messages() -> str:
    return _summary(run_automation("birthdays"), "saludos de cumpleaños")


def reactivation() -> str:
    return _summary(run_automation("reactivation"), "mensajes de reactivación")


def vip_newsletter() -> str:
    return _summary(run_automation("vip"), "newsletters VIP")
