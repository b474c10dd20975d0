"""The last use of a discount code taken by 5 orders at once: exactly one gets it (spec booking.md §7.3, max_uses).

`apply_code` locks the code's row before it counts the uses. The orders wait at a rendezvous after the count;
the negative control switches the row lock off and must overuse the code."""

from __future__ import annotations

import sqlalchemy as sa

from app.clients.models import Client
from app.core.errors import ValidationError
from app.extensions import db
from app.sales import discount_services, locks
from app.sales.models import Discount, DiscountCode, Order
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 5


def prepare(app) -> list[int]:
    with app.app_context():
        client = Client(name="Cliente Código", phone="+56990003333", origin="recepcion")
        db.session.add_all([client, DiscountCode(code="ULTIMO", kind="monto", value=5000, max_uses=1)])
        db.session.flush()
        orders = [Order(client_id=client.id, origin="recepcion", total=50000) for _ in range(N)]
        db.session.add_all(orders)
        db.session.commit()
        return [o.id for o in orders]


def race(app, monkeypatch) -> tuple[list[str], int]:
    order_ids = prepare(app)
    rendezvous_in(monkeypatch, discount_services, "code_uses", N, after=True, all_arrive=not locks.CODE_LOCKING_ENABLED)

    def apply(order_id, start):
        order = db.session.get(Order, order_id)
        start()
        discount_services.apply_code(order, "ultimo")

    outcomes = run_concurrently(
        app,
        order_ids,
        apply,
        lambda exc: "agotado"
        if isinstance(exc, ValidationError) and exc.message == discount_services.INVALID_CODE
        else None,
    )
    with app.app_context():
        uses = db.session.scalar(sa.select(sa.func.count()).select_from(Discount).where(Discount.status == "activo"))
    return outcomes, uses


def test_the_last_use_of_a_code_goes_to_one_order(pg_app, monkeypatch):
    outcomes, uses = race(pg_app, monkeypatch)
    assert outcomes.count("ok") == 1 and outcomes.count("agotado") == N - 1, outcomes
    assert uses == 1


def test_negative_control_without_the_row_lock_the_code_is_overused(pg_app, monkeypatch):
    monkeypatch.setattr(locks, "CODE_LOCKING_ENABLED", False)
    outcomes, uses = race(pg_app, monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    assert uses > 1, "without the row lock the code's last use should be taken more than once"
