"""Sending a campaign while someone cancels it (spec crm.md §9.3): whichever goes first, the campaign ends
cancelled with no message left pending, or the send is refused.

`send_campaign`, `cancel_campaign_send` and the scheduler take the campaign's row lock and re-read its status.
Both writers wait at a rendezvous just after the lock; the negative control switches the lock off: the send
queues messages the cancel never saw (or writes "Active" over "Cancelled")."""

from __future__ import annotations

import sqlalchemy as sa

from app.clients.models import Client
from app.clients.services import create_client
from app.comms.models import CommunicationLog
from app.core.errors import ConflictError
from app.crm import sending_services as sending
from app.crm.models import Campaign
from app.crm.services import add_targets, client_ids_select, save_campaign
from app.extensions import db
from tests.concurrency.conftest import rendezvous_in, run_concurrently


def prepare(app) -> int:
    with app.app_context():
        clients = [
            create_client(
                data={"name": f"Cliente {i}", "phone": f"+5699000{i:04d}", "email": f"c{i}@example.com"},
                origin="recepcion",
                marketing_consent=True,
                consent_source="recepcion",
            )
            for i in range(3)
        ]
        campaign = save_campaign(
            None,
            data={
                "name": "Otoño",
                "audience_source": "lista",
                "channels": ["sms"],
                "sms_template": "Hola {nombre_cliente}, promo en {link}",
            },
        )
        db.session.flush()
        add_targets(campaign, client_ids_select([c.id for c in clients]), source="manual")
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 3
        return campaign.id


def race(app, monkeypatch) -> tuple[list[str], str, int]:
    campaign_id = prepare(app)
    rendezvous_in(monkeypatch, sending, "lock_campaign", 2, after=True, all_arrive=not sending.LOCKING_ENABLED)

    def act(action, start):
        campaign = db.session.get(Campaign, campaign_id)
        start()
        if action == "send":
            sending.send_campaign(campaign)
        else:
            sending.cancel_campaign_send(campaign)

    outcomes = run_concurrently(
        app, ["send", "cancel"], act, lambda exc: "rechazado" if isinstance(exc, ConflictError) else None
    )
    with app.app_context():
        status = db.session.get(Campaign, campaign_id).status
        pending = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CommunicationLog)
            .where(CommunicationLog.campaign_id == campaign_id, CommunicationLog.status == "PENDING")
        )
    return outcomes, status, pending


def test_a_send_racing_a_cancel_leaves_the_campaign_cancelled_with_nothing_pending(pg_app, monkeypatch):
    outcomes, status, pending = race(pg_app, monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    assert (status, pending) == ("Cancelled", 0), outcomes


def test_negative_control_without_the_row_lock_the_cancel_is_lost(pg_app, monkeypatch):
    monkeypatch.setattr(sending, "LOCKING_ENABLED", False)
    outcomes, status, pending = race(pg_app, monkeypatch)
    assert outcomes == ["ok", "ok"], outcomes
    assert pending > 0, "without the row lock the send's messages should escape the cancel"
