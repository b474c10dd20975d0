"""20 parallel redemptions of one gift card never overdraw it (spec booking.md §8.3).

The negative control switches the row lock off and must overdraw, proving the test can see a race."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Product
from app.clients.models import Client
from app.extensions import db
from app.sales import giftcard_services as giftcards
from app.sales.models import GiftCard, Order, Payment, ProductLine
from app.sales.payment_services import ensure_payment_methods, record_payment
from app.sales.services import recalculate_order
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 20
AMOUNT = 5000
CARD = 50000  # enough for 10 of the 20


def prepare(app) -> tuple[str, list[int]]:
    with app.app_context():
        ensure_payment_methods()
        client = Client(name="Cliente Gift", phone="+56987654321")
        product = Product(name="Espumante", base_price=AMOUNT, stock=0)
        db.session.add_all([client, product])
        db.session.flush()
        order_ids = []
        for _ in range(N):
            order = Order(client_id=client.id, origin="recepcion")
            db.session.add(order)
            db.session.flush()
            db.session.add(
                ProductLine(order_id=order.id, product_id=product.id, quantity=1, unit_price=AMOUNT, subtotal=AMOUNT)
            )
            recalculate_order(order)
            order_ids.append(order.id)
        card = giftcards.issue_gift_card(amount=CARD)
        db.session.commit()
        return card.code, order_ids


def race(app, code, order_ids, monkeypatch) -> list[str]:
    # between the card's read and its balance check: without the row lock every redemption has read the full
    # balance before any writes (certain); with it, the first waits 1 s once and the others follow one at a time
    rendezvous_in(monkeypatch, giftcards, "check_redeemable", N, all_arrive=not giftcards.LOCKING_ENABLED)

    def redeem(order_id, start):
        start()
        record_payment(db.session.get(Order, order_id), amount=AMOUNT, method="giftcard", gift_card_code=code)

    return run_concurrently(
        app,
        order_ids,
        redeem,
        lambda exc: "sin_saldo" if isinstance(exc, giftcards.InsufficientGiftCardBalance) else None,
    )


def card_state(app, code) -> tuple[int, int]:
    with app.app_context():
        card = db.session.scalar(sa.select(GiftCard).where(GiftCard.code == code))
        redeemed = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
                Payment.gift_card_id == card.id, Payment.status == "valido"
            )
        )
        return int(card.balance), int(redeemed)


def test_twenty_parallel_redemptions_never_overdraw(pg_app, monkeypatch):
    code, order_ids = prepare(pg_app)
    outcomes = race(pg_app, code, order_ids, monkeypatch)
    assert outcomes.count("ok") == CARD // AMOUNT and outcomes.count("sin_saldo") == N - CARD // AMOUNT, outcomes
    balance, redeemed = card_state(pg_app, code)
    assert (balance, redeemed) == (0, CARD)


def test_negative_control_without_the_lock_overdraws(pg_app, monkeypatch):
    monkeypatch.setattr(giftcards, "LOCKING_ENABLED", False)
    code, order_ids = prepare(pg_app)
    outcomes = race(pg_app, code, order_ids, monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    balance, redeemed = card_state(pg_app, code)
    assert balance < 0 and redeemed > CARD, "without the row lock the race should overdraw; no race seen"
