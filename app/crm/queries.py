"""Read side of the CRM (nouns returning Select objects): segment lists, campaign audiences, campaign lists."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.clients.models import Client, ClientPreferences
from app.clients.queries import search_condition
from app.crm.models import Campaign, CampaignTarget
from app.sales.client_queries import segment_stats, stats_select


def segment_clients_select(segment: str | None, q: str = "", today: date | None = None) -> sa.Select:
    """One row per client of `segment` (None = every client): id, name, phone, email, visits, spend, last visit,
    segment and the marketing-consent switches; ordered by spend, then name. Streams for the export."""
    stats = segment_stats(segment, today).subquery("stats")
    stmt = (
        sa.select(
            Client.id,
            Client.name,
            Client.phone,
            Client.email,
            stats.c.visits,
            stats.c.spend,
            stats.c.last_visit,
            stats.c.segment,
            sa.func.coalesce(ClientPreferences.accepts_sms, False).label("accepts_sms"),
            sa.func.coalesce(ClientPreferences.accepts_email, False).label("accepts_email"),
            sa.func.coalesce(ClientPreferences.accepts_promotional, False).label("accepts_promotional"),
        )
        .join(stats, stats.c.client_id == Client.id)
        .outerjoin(ClientPreferences, ClientPreferences.client_id == Client.id)
        .order_by(stats.c.spend.desc(), Client.name, Client.id)
    )
    condition = search_condition(q)
    if condition is not None:
        stmt = stmt.where(condition)
    return stmt


def segment_client_ids_select(segment: str, today: date | None = None) -> sa.Select:
    stats = segment_stats(segment, today).subquery("stats")
    return sa.select(stats.c.client_id)


def rules_clause(campaign: Campaign, stats) -> sa.ColumnElement[bool]:
    """The `reglas` filter over a stats_select() subquery: visits ≥ min (if > 0), spend ≥ min (if > 0), segments
    (if any); all empty = true (every client)."""
    clauses = []
    if campaign.target_min_visits:
        clauses.append(stats.c.visits >= campaign.target_min_visits)
    if campaign.target_min_spend:
        clauses.append(stats.c.spend >= campaign.target_min_spend)
    if campaign.target_segments:
        clauses.append(stats.c.segment.in_(list(campaign.target_segments)))
    return sa.and_(sa.true(), *clauses)


def audience_select(campaign: Campaign, today: date | None = None) -> sa.Select:
    """The campaign's audience as a Select of `client_id` (crm.md §9.2): its targets for `lista`; else
    stats_select() filtered by the rules."""
    if campaign.audience_source == "lista":
        return sa.select(CampaignTarget.client_id.label("client_id")).where(CampaignTarget.campaign_id == campaign.id)
    stats = stats_select(today).subquery("stats")
    return sa.select(stats.c.client_id.label("client_id")).where(rules_clause(campaign, stats))


def audience_sizes(session, campaigns: list[Campaign]) -> dict[int, int]:
    """Audience size of several campaigns in at most two statements: targets counted per `lista` campaign, and
    one pass over stats_select() with a conditional count per `reglas` campaign."""
    sizes = {c.id: 0 for c in campaigns}
    lista = [c.id for c in campaigns if c.audience_source == "lista"]
    if lista:
        sizes.update(
            session.execute(
                sa.select(CampaignTarget.campaign_id, sa.func.count())
                .where(CampaignTarget.campaign_id.in_(lista))
                .group_by(CampaignTarget.campaign_id)
            ).all()
        )
    reglas = [c for c in campaigns if c.audience_source != "lista"]
    if reglas:
        stats = stats_select().subquery("stats")
        row = session.execute(
            sa.select(
                *[sa.func.coalesce(sa.func.sum(sa.case((rules_clause(c, stats), 1), else_=0)), 0) for c in reglas]
            )
        ).one()
        sizes.update({c.id: int(n) for c, n in zip(reglas, row, strict=True)})
    return sizes


def audience_size(session, campaign: Campaign) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(audience_select(campaign).subquery())).scalar_one()


def open_campaigns_select() -> sa.Select:
    """Campaigns clients can be added to from the segmentation board (Planning or Active)."""
    return (
        sa.select(Campaign.id, Campaign.name).where(Campaign.status.in_(("Planning", "Active"))).order_by(Campaign.name)
    )


def campaigns_select() -> sa.Select:
    return sa.select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())


def targets_select(campaign_id: int) -> sa.Select:
    return (
        sa.select(
            CampaignTarget.id,
            CampaignTarget.source,
            CampaignTarget.added_at,
            Client.id.label("client_id"),
            Client.name,
            Client.phone,
            Client.email,
        )
        .join(Client, Client.id == CampaignTarget.client_id)
        .where(CampaignTarget.campaign_id == campaign_id)
        .order_by(CampaignTarget.added_at.desc(), CampaignTarget.id.desc())
    )
