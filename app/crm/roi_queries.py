"""Campaign figures and ROI (crm.md §9.4) read from communication_logs and orders, set-based."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from app.comms.models import CommunicationLog
from app.core.settings import in_force
from app.crm import policy
from app.crm.models import Campaign, Deal, Lead
from app.extensions import db
from app.sales.models import Order

SENT = ("SENT", "DELIVERED")


def _within_days(later, earlier, days: int):
    """`earlier <= later < earlier + days` on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.and_(later >= earlier, later < earlier + sa.func.make_interval(0, 0, 0, days))
    return sa.and_(later >= earlier, sa.func.julianday(later) - sa.func.julianday(earlier) < days)


def _first_sent(ids) -> sa.Subquery:
    """Per campaign and client: the first sent message (the attribution window starts there)."""
    return (
        sa.select(
            CommunicationLog.campaign_id,
            CommunicationLog.client_id,
            sa.func.min(CommunicationLog.sent_at).label("first_sent"),
        )
        .where(
            CommunicationLog.campaign_id.in_(ids),
            CommunicationLog.client_id.is_not(None),
            CommunicationLog.sent_at.is_not(None),
            CommunicationLog.status.in_(SENT),
        )
        .group_by(CommunicationLog.campaign_id, CommunicationLog.client_id)
        .subquery("first_sent")
    )


def attributed_orders_select(ids) -> sa.Select:
    """(campaign_id, order_id, total): non-cancelled orders of recipients created within the attribution window."""
    days = int(in_force()["CAMPAIGN_ATTRIBUTION_DAYS"])
    first = _first_sent(ids)
    return (
        sa.select(first.c.campaign_id, Order.id.label("order_id"), Order.total)
        .join(Order, Order.client_id == first.c.client_id)
        .where(Order.cancelled_at.is_(None), _within_days(Order.created_at, first.c.first_sent, days))
    )


@dataclass
class RoiRow:
    campaign_id: int
    sent: int = 0
    orders: int = 0
    revenue: int = 0


def campaign_roi_rows(ids: list[int]) -> list[RoiRow]:
    """Sent messages, attributed orders and revenue for several campaigns in two statements."""
    rows = {cid: RoiRow(cid) for cid in ids}
    if not ids:
        return []
    sent = db.session.execute(
        sa.select(CommunicationLog.campaign_id, sa.func.count())
        .where(CommunicationLog.campaign_id.in_(ids), CommunicationLog.status.in_(SENT))
        .group_by(CommunicationLog.campaign_id)
    ).all()
    for cid, n in sent:
        rows[cid].sent = n
    attributed = attributed_orders_select(ids).subquery()
    for cid, n, revenue in db.session.execute(
        sa.select(
            attributed.c.campaign_id, sa.func.count(), sa.func.coalesce(sa.func.sum(attributed.c.total), 0)
        ).group_by(attributed.c.campaign_id)
    ).all():
        rows[cid].orders, rows[cid].revenue = n, int(revenue)
    return list(rows.values())


@dataclass
class CampaignRoi:
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    opened: int = 0  # sent messages the provider reported read (e-mail opens, SMS read receipts)
    blocked: int = 0
    failed: int = 0
    pending: int = 0
    sms_cost: int = 0
    orders: int = 0
    revenue: int = 0
    budget: int = 0
    leads: int = 0
    won_deals: int = 0
    won_value: int = 0

    @property
    def cost(self) -> int:
        return self.budget + self.sms_cost

    @property
    def roi(self) -> float | None:
        """None ("—") until a message has gone out: before that there is nothing to return on (UX review D16)."""
        if not self.sent:
            return None
        return policy.roi(self.revenue, self.cost)


def campaign_roi(campaign: Campaign) -> CampaignRoi:
    """Every §9.4 figure of one campaign."""
    out = CampaignRoi(budget=campaign.budget or 0)
    for channel, status, n, cost in db.session.execute(
        sa.select(
            CommunicationLog.communication_type,
            CommunicationLog.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(CommunicationLog.cost), 0),
        )
        .where(CommunicationLog.campaign_id == campaign.id)
        .group_by(CommunicationLog.communication_type, CommunicationLog.status)
    ).all():
        if status in SENT:
            out.sent_by_channel[channel] = out.sent_by_channel.get(channel, 0) + n
            out.sent += n
        elif status == "BLOCKED":
            out.blocked += n
        elif status == "FAILED":
            out.failed += n
        elif status == "PENDING":
            out.pending += n
        if channel == "SMS":
            out.sms_cost += int(cost)
    out.opened = db.session.scalar(
        sa.select(sa.func.count()).where(
            CommunicationLog.campaign_id == campaign.id,
            CommunicationLog.status.in_(SENT),
            CommunicationLog.read_at.is_not(None),
        )
    )
    (row,) = campaign_roi_rows([campaign.id])
    out.orders, out.revenue = row.orders, row.revenue
    out.leads = db.session.scalar(sa.select(sa.func.count()).where(Lead.campaign_id == campaign.id))
    won = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Deal.amount), 0)).where(
            Deal.campaign_id == campaign.id, Deal.stage == "Closed Won"
        )
    ).one()
    out.won_deals, out.won_value = won[0], int(won[1])
    return out
