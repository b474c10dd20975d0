"""10 parallel desk sales of a product with 5 in stock: exactly 5 sold, stock 0, movements add up.

`change_stock` reads the stock under the product's row lock (`catalog.services.lock_products`, re-read with
populate_existing: the product the view loaded before is not trusted). The sales wait at a rendezvous between the
stock check and the write; the negative control switches the row lock off and must oversell."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.catalog import services as catalog
from app.catalog.models import Product, StockMovement
from app.clients.models import Client
from app.core.errors import InsufficientStock
from app.extensions import db
from app.sales import edit_services as edit
from app.sales.models import Order, ProductLine
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 10
STOCK = 5


def prepare(app) -> tuple[int, int, list[int]]:
    with app.app_context():
        desk = User(username="caja-stock", role="recepcion")
        client = Client(name="Cliente Stock", phone="+56990002222", origin="recepcion")
        product = Product(name="Aceite de masaje", base_price=8000, stock=STOCK)
        db.session.add_all([desk, client, product])
        db.session.flush()
        orders = [Order(client_id=client.id, origin="recepcion") for _ in range(N)]
        db.session.add_all(orders)
        db.session.commit()
        return desk.id, product.id, [o.id for o in orders]


def race(app, monkeypatch) -> tuple[list[str], int, int, int]:
    desk_id, product_id, order_ids = prepare(app)
    # after the check, before the stock is written
    rendezvous_in(monkeypatch, catalog, "StockMovement", N, all_arrive=not catalog.LOCKING_ENABLED)

    def sell(order_id, start):
        by = db.session.get(User, desk_id)
        order = db.session.get(Order, order_id)
        db.session.get(Product, product_id)  # what a view has loaded before the service runs
        start()
        edit.add_product_line(order, product_id=product_id, quantity=1, by=by)

    outcomes = run_concurrently(
        app, order_ids, sell, lambda exc: "sin_stock" if isinstance(exc, InsufficientStock) else None
    )
    with app.app_context():
        stock = db.session.get(Product, product_id).stock
        moved = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(StockMovement.delta), 0)).where(
                StockMovement.product_id == product_id
            )
        )
        sold = db.session.scalar(
            sa.select(sa.func.count()).select_from(ProductLine).where(ProductLine.product_id == product_id)
        )
    return outcomes, stock, int(moved), sold


def test_ten_parallel_sales_never_oversell(pg_app, monkeypatch):
    outcomes, stock, moved, sold = race(pg_app, monkeypatch)
    assert outcomes.count("ok") == STOCK and outcomes.count("sin_stock") == N - STOCK, outcomes
    assert (stock, moved, sold) == (0, -STOCK, STOCK)


def test_negative_control_without_the_row_lock_oversells(pg_app, monkeypatch):
    monkeypatch.setattr(catalog, "LOCKING_ENABLED", False)
    outcomes, stock, moved, sold = race(pg_app, monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    assert sold > STOCK and stock != STOCK + moved, "without the row lock the sales should oversell"
