"""Read side of communications: the staff log, stats, a client's messages, suppressions, replies (Selects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.clients.models import Client, Suppression
from app.comms.models import CommunicationLog, FakeMessage, InboundSms, SmsTemplate
from app.comms.policy import SENT_STATUSES, SMS
from app.core import clock


@dataclass
class LogFilters:
    start: date
    end: date
    notice: str | None = None
    canal: str | None = None
    tipo: str | None = None
    estado: str | None = None
    motivo: str | None = None
    cliente: int | None = None
    campana: int | None = None
    q: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def dates(self):
        return self

    def as_args(self) -> dict[str, str]:
        out = {"fecha_inicio": self.start.isoformat(), "fecha_fin": self.end.isoformat()}
        for key in ("canal", "tipo", "estado", "motivo", "cliente", "campana", "q"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = str(value)
        return out


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return clock.local_instant(start, time(0, 0)), clock.local_instant(end + timedelta(days=1), time(0, 0))


def log_list(f: LogFilters) -> sa.Select:
    lo, hi = _local_bounds(f.start, f.end)
    stmt = (
        sa.select(CommunicationLog)
        .options(selectinload(CommunicationLog.client))
        .where(CommunicationLog.created_at >= lo, CommunicationLog.created_at < hi)
        .order_by(CommunicationLog.created_at.desc(), CommunicationLog.id.desc())
    )
    if f.canal:
        stmt = stmt.where(CommunicationLog.communication_type == f.canal)
    if f.tipo:
        stmt = stmt.where(CommunicationLog.message_type == f.tipo)
    if f.estado:
        stmt = stmt.where(CommunicationLog.status == f.estado)
    if f.motivo:
        stmt = stmt.where(CommunicationLog.reason == f.motivo)
    if f.cliente:
        stmt = stmt.where(CommunicationLog.client_id == f.cliente)
    if f.campana:
        stmt = stmt.where(CommunicationLog.campaign_id == f.campana)
    if f.q:
        like = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                CommunicationLog.destination.ilike(like, escape="\\"),
                CommunicationLog.client_id.in_(sa.select(Client.id).where(Client.name.ilike(like, escape="\\"))),
            )
        )
    return stmt


def stats_30_days() -> list[tuple[str, str, str, int]]:
    """(channel, message_type, status, count) of rows created in the last 30 days."""
    since = clock.now() - timedelta(days=30)
    stmt = (
        sa.select(
            CommunicationLog.communication_type, CommunicationLog.message_type, CommunicationLog.status, sa.func.count()
        )
        .where(CommunicationLog.created_at >= since)
        .group_by(CommunicationLog.communication_type, CommunicationLog.message_type, CommunicationLog.status)
    )
    from app.extensions import db

    return [tuple(r) for r in db.session.execute(stmt)]


def sms_cost_this_month() -> int:
    from app.extensions import db

    today = clock.today()
    lo = clock.local_instant(today.replace(day=1), time(0, 0))
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(CommunicationLog.cost), 0)).where(
                CommunicationLog.communication_type == SMS,
                CommunicationLog.status.in_(SENT_STATUSES),
                CommunicationLog.sent_at >= lo,
            )
        )
        or 0
    )


def client_messages(client_id: int) -> sa.Select:
    return (
        sa.select(CommunicationLog)
        .where(CommunicationLog.client_id == client_id)
        .order_by(CommunicationLog.created_at.desc(), CommunicationLog.id.desc())
    )


def order_messages(order_id: int) -> sa.Select:
    return (
        sa.select(CommunicationLog)
        .where(CommunicationLog.order_id == order_id)
        .order_by(CommunicationLog.created_at.desc(), CommunicationLog.id.desc())
    )


def suppressions(q: str = "") -> sa.Select:
    stmt = sa.select(Suppression).order_by(Suppression.created_at.desc(), Suppression.id.desc())
    if q:
        stmt = stmt.where(Suppression.destination.ilike(f"%{q.replace('%', '')}%"))
    return stmt


def replies() -> sa.Select:
    return (
        sa.select(InboundSms)
        .options(selectinload(InboundSms.client))
        .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
    )


def templates() -> sa.Select:
    return sa.select(SmsTemplate).order_by(SmsTemplate.message_type, SmsTemplate.name)


def fake_messages() -> sa.Select:
    return sa.select(FakeMessage).order_by(FakeMessage.created_at.desc(), FakeMessage.id.desc())
