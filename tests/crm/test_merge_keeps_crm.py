"""Merging clients (crm.md §8) keeps campaign targets and contacts: one target per campaign survives, nothing lost."""

from __future__ import annotations

import sqlalchemy as sa

from app.crm.models import Campaign, CampaignTarget
from app.sales.client_merge_services import merge_clients


def test_merge_moves_campaign_targets_without_duplicating_them(db_session, make_client):
    survivor, dup = make_client(), make_client()
    both, only_dup = Campaign(name="Invierno"), Campaign(name="Verano")
    db_session.add_all([both, only_dup])
    db_session.flush()
    db_session.add_all(
        [
            CampaignTarget(campaign_id=both.id, client_id=survivor.id, source="manual"),
            CampaignTarget(campaign_id=both.id, client_id=dup.id, source="segmento"),
            CampaignTarget(campaign_id=only_dup.id, client_id=dup.id, source="manual"),
        ]
    )
    db_session.flush()
    merge_clients(survivor, [dup])
    targets = db_session.execute(
        sa.select(CampaignTarget.campaign_id, CampaignTarget.client_id).order_by(CampaignTarget.campaign_id)
    ).all()
    assert targets == [(both.id, survivor.id), (only_dup.id, survivor.id)]
