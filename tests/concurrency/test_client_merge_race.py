"""Two merges of the same duplicate at once (two managers, or the normalize command and a manager): one merges,
the other is refused in Spanish; the duplicate's history ends with exactly one survivor (spec crm.md §8).

`merge_clients` locks the clients' orders, then the clients (ascending id), and re-reads them. Both merges wait
at a rendezvous just after the locks; the negative control switches them off: both move the same rows and the
second one crashes (a 500) deleting a client that is already gone."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.clients.models import Client, ClientMerge
from app.core.errors import ValidationError
from app.extensions import db
from app.sales import client_merge_services as merge
from app.sales.models import Order
from tests.concurrency.conftest import rendezvous_in, run_concurrently


def prepare(app) -> tuple[int, list[int], int]:
    """Survivors A and C, duplicate B with one order; committed."""
    with app.app_context():
        manager = User(username="gerente-merge", role="gerente")
        a, b, c = (
            Client(name=f"Cliente {x}", phone=f"+5699100000{i}", origin="recepcion") for i, x in enumerate("ABC")
        )
        db.session.add_all([manager, a, b, c])
        db.session.flush()
        db.session.add(Order(client_id=b.id, origin="recepcion"))
        db.session.commit()
        return manager.id, [a.id, b.id, c.id], b.id


def race(app, monkeypatch) -> tuple[list[str], dict]:
    manager_id, (a_id, b_id, c_id), _ = prepare(app)
    rendezvous_in(monkeypatch, merge, "lock_clients", 2, after=True, all_arrive=not merge.LOCKING_ENABLED)

    def merge_into(survivor_id, start):
        by = db.session.get(User, manager_id)
        survivor, duplicate = db.session.get(Client, survivor_id), db.session.get(Client, b_id)
        start()
        merge.merge_clients(survivor, [duplicate], by=by)

    outcomes = run_concurrently(
        app,
        [a_id, c_id],
        merge_into,
        lambda exc: "rechazado" if isinstance(exc, ValidationError) and "ya no existe" in exc.message else None,
    )
    with app.app_context():
        state = {
            "clients": sorted(db.session.scalars(sa.select(Client.id))),
            "order_owner": db.session.scalar(sa.select(Order.client_id)),
            "merges": db.session.scalar(sa.select(sa.func.count()).select_from(ClientMerge)),
            "survivors": {a_id, c_id},
        }
    return outcomes, state


def test_two_merges_of_one_duplicate_merge_it_once(pg_app, monkeypatch):
    outcomes, state = race(pg_app, monkeypatch)
    assert sorted(outcomes) == ["ok", "rechazado"], outcomes
    assert len(state["clients"]) == 2 and state["merges"] == 1
    assert state["order_owner"] in state["survivors"]


def test_negative_control_without_the_locks_the_second_merge_crashes(pg_app, monkeypatch):
    monkeypatch.setattr(merge, "LOCKING_ENABLED", False)
    outcomes, state = race(pg_app, monkeypatch)
    assert "rechazado" not in outcomes
    assert any(o.startswith("error") for o in outcomes), outcomes
