"""One order, one writer at a time (security review H1): payments, discounts and line changes of one order take
the order's row lock (`sales.locks.lock_order`) before they read its balance or totals.

Every race below waits at a rendezvous inside `recalculate_order` (after the totals were read, before the order
row is written), so without the lock the race is certain; each negative control switches the lock off and must
show it: too many payments or discounts accepted, and an order row that disagrees with its own ledger."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.auth.services import create_api_token
from app.catalog.models import Product
from app.clients.models import Client
from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.sales import availability as policy
from app.sales import discount_services, locks
from app.sales import edit_services as edit
from app.sales import services as sales_services
from app.sales.models import Discount, Order, Payment, ProductLine
from app.sales.payment_services import ensure_payment_methods, record_payment
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 10
PRICE = 50000  # the order's only line; also its balance
ROLES = ("recepcion", "gerente", "admin")


class Refused(Exception):
    """A view answered with an error status (the expected refusal of the losers)."""


def prepare(app) -> dict:
    """An order of one $50.000 product line, one user (and API token) per role, an extra product; committed."""
    with app.app_context():
        ensure_payment_methods()
        users = {role: User(username=f"{role}-h1", role=role, password_hash="x") for role in ROLES}
        client = Client(name="Cliente Carrera", phone="+56990001111", origin="recepcion")
        product = Product(name="Masaje de regalo", base_price=PRICE, stock=100)
        extra = Product(name="Espumante", base_price=10000, stock=100)
        db.session.add_all([*users.values(), client, product, extra])
        db.session.flush()
        order = Order(client_id=client.id, origin="recepcion")
        db.session.add(order)
        db.session.flush()
        db.session.add(
            ProductLine(order_id=order.id, product_id=product.id, quantity=1, unit_price=PRICE, subtotal=PRICE)
        )
        sales_services.recalculate_order(order)
        tokens = {}
        for role, user in users.items():
            token, tokens[role] = create_api_token(user)
            # used just now: the requests do not write it again (a token's row write would serialise its
            # requests, so not every payment could reach the rendezvous of a negative control)
            token.last_used_at = clock.now()
        db.session.commit()
        return {"order": order.id, "extra": extra.id, "users": {r: u.id for r, u in users.items()}, "tokens": tokens}


def ledger(app, order_id: int) -> dict:
    """The order row's figures next to the same figures summed from its rows."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        paid = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
                Payment.order_id == order_id, Payment.status == "valido"
            )
        )
        products = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ProductLine.subtotal), 0)).where(
                ProductLine.order_id == order_id, ProductLine.status == "activa"
            )
        )
        discounts = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Discount.amount), 0)).where(
                Discount.order_id == order_id, Discount.status == "activo"
            )
        )
        products, discounts, paid = int(products), int(discounts), int(paid)
        total = products - discounts
        return {
            "row": (
                order.products_total,
                order.discount_total,
                order.paid,
                order.total,
                order.balance_due,
                order.credit,
            ),
            "rows": (products, discounts, paid, total, max(total - paid, 0), max(paid - total, 0)),
            "payments": db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Payment)
                .where(Payment.order_id == order_id, Payment.status == "valido")
            ),
            "discounts": discounts,
        }


def refused(exc):
    return "rechazado" if isinstance(exc, (ValidationError, Refused)) else None


def widen(monkeypatch, parties: int) -> None:
    rendezvous_in(monkeypatch, policy, "payment_status", parties, all_arrive=not locks.ORDER_LOCKING_ENABLED)


def unlocked(monkeypatch) -> None:
    monkeypatch.setattr(locks, "ORDER_LOCKING_ENABLED", False)


# --- full-balance payments -----------------------------------------------------------------------------------


def pay_through_service(app, setup, monkeypatch) -> list[str]:
    widen(monkeypatch, N)

    def pay(i, start):
        by = db.session.get(User, setup["users"][ROLES[i % 3]])
        order = db.session.get(Order, setup["order"])
        start()
        record_payment(order, amount=PRICE, method="efectivo", by=by)

    return run_concurrently(app, range(N), pay, refused)


def pay_through_api(app, setup, monkeypatch) -> list[str]:
    widen(monkeypatch, N)

    def pay(i, start):
        headers = {"Authorization": f"Bearer {setup['tokens'][ROLES[i % 3]]}"}
        http = app.test_client()
        start()
        answer = http.post(
            "/ventas/api/pagos/",
            headers=headers,
            json={"venta_reserva": setup["order"], "monto": PRICE, "metodo_pago": "efectivo"},
        )
        if answer.status_code != 201:
            raise Refused(f"{answer.status_code} {answer.get_data(as_text=True)[:200]}")

    return run_concurrently(
        app, range(N), pay, lambda exc: "rechazado" if isinstance(exc, Refused) and str(exc).startswith("422") else None
    )


def pay_through_desk(app, setup, monkeypatch) -> list[str]:
    widen(monkeypatch, N)

    def pay(i, start):
        http = app.test_client()
        with http.session_transaction() as session:
            session["_user_id"] = str(setup["users"][ROLES[i % 3]])
            session["_fresh"] = True
        start()
        answer = http.post(
            f"/ventas/venta_reservas/{setup['order']}/pagos/",
            headers={"HX-Request": "true"},
            data={"monto": str(PRICE), "metodo_pago": "efectivo"},
        )
        if answer.status_code >= 400:
            raise Refused(f"{answer.status_code}")

    return run_concurrently(
        app, range(N), pay, lambda exc: "rechazado" if isinstance(exc, Refused) and str(exc) == "422" else None
    )


def check_one_payment(app, setup, outcomes):
    assert outcomes.count("ok") == 1 and outcomes.count("rechazado") == N - 1, outcomes
    state = ledger(app, setup["order"])
    assert state["payments"] == 1 and state["row"] == state["rows"] == (PRICE, 0, PRICE, PRICE, 0, 0)


def check_race_seen(app, setup, outcomes):
    assert not any(o.startswith("error") for o in outcomes), outcomes
    state = ledger(app, setup["order"])
    assert outcomes.count("ok") > 1 and state["payments"] > 1, "without the order lock no race was seen"
    assert state["row"] != state["rows"], "without the order lock the order row should lose updates"


def test_ten_parallel_full_payments_through_the_service_accept_one(pg_app, monkeypatch):
    setup = prepare(pg_app)
    check_one_payment(pg_app, setup, pay_through_service(pg_app, setup, monkeypatch))


def test_negative_control_payments_through_the_service_without_the_order_lock(pg_app, monkeypatch):
    unlocked(monkeypatch)
    setup = prepare(pg_app)
    check_race_seen(pg_app, setup, pay_through_service(pg_app, setup, monkeypatch))


def test_ten_parallel_full_payments_through_the_api_accept_one(pg_app, monkeypatch):
    setup = prepare(pg_app)
    check_one_payment(pg_app, setup, pay_through_api(pg_app, setup, monkeypatch))


def test_negative_control_payments_through_the_api_without_the_order_lock(pg_app, monkeypatch):
    unlocked(monkeypatch)
    setup = prepare(pg_app)
    check_race_seen(pg_app, setup, pay_through_api(pg_app, setup, monkeypatch))


def test_ten_parallel_full_payments_at_the_front_desk_accept_one(pg_app, monkeypatch):
    setup = prepare(pg_app)
    check_one_payment(pg_app, setup, pay_through_desk(pg_app, setup, monkeypatch))


def test_negative_control_payments_at_the_front_desk_without_the_order_lock(pg_app, monkeypatch):
    unlocked(monkeypatch)
    setup = prepare(pg_app)
    check_race_seen(pg_app, setup, pay_through_desk(pg_app, setup, monkeypatch))


# --- recepcion's discount cap --------------------------------------------------------------------------------

DISCOUNT = PRICE * 18 // 100  # 18 %: one fits under recepcion's 20 % cap, two do not


def discount_race(app, setup, monkeypatch) -> list[str]:
    widen(monkeypatch, N)

    def give(i, start):
        by = db.session.get(User, setup["users"]["recepcion"])
        order = db.session.get(Order, setup["order"])
        start()
        discount_services.apply_discount(order, amount=DISCOUNT, reason="Cliente frecuente", by=by)

    return run_concurrently(app, range(N), give, refused)


def test_ten_parallel_discounts_by_recepcion_keep_the_cap(pg_app, monkeypatch):
    setup = prepare(pg_app)
    outcomes = discount_race(pg_app, setup, monkeypatch)
    assert outcomes.count("ok") == 1 and outcomes.count("rechazado") == N - 1, outcomes
    state = ledger(pg_app, setup["order"])
    assert state["discounts"] * 100 <= PRICE * pg_app.config["RECEPTION_MAX_DISCOUNT_PERCENT"]
    assert state["row"] == state["rows"] == (PRICE, DISCOUNT, 0, PRICE - DISCOUNT, PRICE - DISCOUNT, 0)


def test_negative_control_discounts_without_the_order_lock_break_the_cap(pg_app, monkeypatch):
    unlocked(monkeypatch)
    setup = prepare(pg_app)
    outcomes = discount_race(pg_app, setup, monkeypatch)
    assert not any(o.startswith("error") for o in outcomes), outcomes
    state = ledger(pg_app, setup["order"])
    assert state["discounts"] * 100 > PRICE * pg_app.config["RECEPTION_MAX_DISCOUNT_PERCENT"], outcomes
    assert state["row"] != state["rows"]


# --- a line added while a payment is recorded ----------------------------------------------------------------


def line_and_payment(app, setup, monkeypatch) -> list[str]:
    widen(monkeypatch, 2)

    def act(i, start):
        by = db.session.get(User, setup["users"]["recepcion"])
        order = db.session.get(Order, setup["order"])
        start()
        if i == 0:
            edit.add_product_line(order, product_id=setup["extra"], quantity=1, by=by)
        else:
            record_payment(order, amount=PRICE, method="efectivo", by=by)

    return run_concurrently(app, range(2), act)


def test_a_line_added_during_a_payment_keeps_the_totals_equal_to_the_rows(pg_app, monkeypatch):
    setup = prepare(pg_app)
    assert line_and_payment(pg_app, setup, monkeypatch) == ["ok", "ok"]
    state = ledger(pg_app, setup["order"])
    assert state["row"] == state["rows"] == (PRICE + 10000, 0, PRICE, PRICE + 10000, 10000, 0)
    with pg_app.app_context():
        order = db.session.get(Order, setup["order"])
        assert (order.balance_due, order.payment_status) == (10000, "parcial")


def test_negative_control_a_line_added_during_a_payment_without_the_order_lock(pg_app, monkeypatch):
    unlocked(monkeypatch)
    setup = prepare(pg_app)
    assert line_and_payment(pg_app, setup, monkeypatch) == ["ok", "ok"]
    state = ledger(pg_app, setup["order"])
    assert state["rows"] == (PRICE + 10000, 0, PRICE, PRICE + 10000, 10000, 0)
    # SQLAlchemy writes only the columns each transaction changed, so the row mixes both writers' figures; the
    # balance is the one both wrote, and the last writer's never saw the other's row
    assert state["row"] != state["rows"], "without the order lock one of the two updates should be lost"


# --- two payments completing an order that sells a gift card -------------------------------------------------


def gift_card_order(app) -> tuple[int, int]:
    """An order whose only line is a $50.000 gift card; committed. Returns (order id, recepcion user id)."""
    with app.app_context():
        ensure_payment_methods()
        desk = User(username="caja-gc", role="recepcion")
        client = Client(name="Cliente Regalo", phone="+56990004444", origin="recepcion")
        card = Product(name="Gift card", base_price=PRICE, is_gift_card=True, stock=0)
        db.session.add_all([desk, client, card])
        db.session.flush()
        order = Order(client_id=client.id, origin="recepcion")
        db.session.add(order)
        db.session.flush()
        db.session.add(
            ProductLine(
                order_id=order.id,
                product_id=card.id,
                quantity=1,
                unit_price=PRICE,
                subtotal=PRICE,
                recipient_name="Ana",
            )
        )
        sales_services.recalculate_order(order)
        db.session.commit()
        return order.id, desk.id


def two_halves(app, monkeypatch) -> tuple[list[str], dict, int]:
    from app.sales.models import GiftCard

    order_id, desk_id = gift_card_order(app)
    widen(monkeypatch, 2)

    def pay(_, start):
        by = db.session.get(User, desk_id)
        order = db.session.get(Order, order_id)
        start()
        record_payment(order, amount=PRICE // 2, method="efectivo", by=by)

    outcomes = run_concurrently(app, range(2), pay)
    with app.app_context():
        cards = db.session.scalar(sa.select(sa.func.count()).select_from(GiftCard))
    return outcomes, ledger(app, order_id), cards


def test_two_payments_completing_an_order_issue_its_gift_card_once(pg_app, monkeypatch):
    outcomes, state, cards = two_halves(pg_app, monkeypatch)
    assert outcomes == ["ok", "ok"]
    assert state["row"] == state["rows"] == (PRICE, 0, PRICE, PRICE, 0, 0)
    assert cards == 1


def test_negative_control_two_payments_without_the_order_lock_issue_no_card(pg_app, monkeypatch):
    unlocked(monkeypatch)
    outcomes, state, cards = two_halves(pg_app, monkeypatch)
    assert outcomes == ["ok", "ok"]
    assert state["row"] != state["rows"] and cards == 0, "without the order lock neither payment sees the order paid"
