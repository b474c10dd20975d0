"""Gift cards are money (spec booking.md §8.2, review D3 and M4): the desk sale takes the payment in the same
transaction, so it is in caja diaria and in the close's expected amounts; courtesy cards are gerente/admin with a
reason; every amount is bounded by GIFTCARD_MAX_AMOUNT."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.clients.models import ClientEvent
from app.core.errors import ValidationError
from app.reports import cash_queries
from app.reports.cash_views import load_summary
from app.sales import checkout_services
from app.sales import giftcard_sale_services as giftcard_sales
from app.sales import giftcard_services as giftcards
from app.sales import services as sales_services
from app.sales.cash_queries import expected_by_method
from app.sales.cash_services import close_day
from app.sales.models import CashClose, GiftCard, Order, Payment, ProductLine
from app.sales.payment_services import record_payment

MONDAY = date(2026, 3, 2)
HUGE = 9223372036854775808  # one past BIGINT: was a 500 (security review M4, L1)


def count(db_session, model) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def sell(buyer, by, amount=50000, method="efectivo", **kw):
    return giftcard_sales.sell_gift_card(amount=amount, method=method, by=by, buyer=buyer, **kw)


def expected(day=MONDAY) -> dict[str, int]:
    return {line.code: line.expected for line in expected_by_method(day)}


def test_desk_sale_takes_the_money_in_one_transaction(booking_setup, make_client, make_user, db_session):
    recepcion, buyer = make_user("recepcion"), make_client(name="Ana Compradora")
    card = sell(
        buyer,
        recepcion,
        recipient_name="Luis Regalado",
        recipient_email="luis@example.com",
        expires_on=date(2026, 12, 31),
        reference="boleta 77",
    )
    assert (card.origin, card.initial_amount, card.balance, card.status) == ("venta", 50000, 50000, "por_cobrar")
    assert card.expires_on == date(2026, 12, 31) and card.buyer_client_id == buyer.id
    line = db_session.get(ProductLine, card.order_line_id)
    order = line.order
    assert line.product.is_gift_card and line.unit_price == 50000 and line.recipient_name == "Luis Regalado"
    assert (order.origin, order.total, order.paid, order.payment_status) == ("recepcion", 50000, 50000, "pagado")
    [payment] = order.payments
    assert (payment.method, payment.amount, payment.recorded_by_id, payment.reference) == (
        "efectivo",
        50000,
        recepcion.id,
        "boleta 77",
    )
    assert count(db_session, GiftCard) == 1  # the paid order did not issue a second card for its line
    assert card.status_label(MONDAY) == "Saldo disponible $50.000"
    types = set(db_session.scalars(sa.select(ClientEvent.event_type).where(ClientEvent.order_id == order.id)))
    assert {"order_created", "giftcard_issued", "payment_recorded"} <= types


def test_sale_is_in_caja_diaria_and_the_close_and_redemption_is_not_cash(
    booking_setup, make_client, make_user, db_session
):
    recepcion, gerente = make_user("recepcion"), make_user("gerente")
    card = sell(make_client(), recepcion, amount=50000, method="efectivo")
    sell(make_client(), recepcion, amount=30000, method="tarjeta")
    assert expected()["efectivo"] == 50000 and expected()["tarjeta"] == 30000
    f = cash_queries.CashFilter.for_day(MONDAY)
    sales = {r.code: (r.transactions, r.net) for r in db_session.execute(cash_queries.giftcard_sales(f))}
    assert sales == {"efectivo": (1, 50000), "tarjeta": (1, 30000)}
    # the card pays a booking: that is a redemption (method giftcard), not money received
    order = checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="14:00", people=2)],
        data=checkout_services.CheckoutData(telefono="+56987654321", nombre="María Pérez"),
        origin="recepcion",
        by=recepcion,
        staff=True,
    )
    record_payment(order, amount=20000, method="giftcard", gift_card_code=card.code, by=recepcion)
    record_payment(order, amount=30000, method="efectivo", by=recepcion)
    summary = load_summary(f)
    assert {m.code: m.net for m in summary.methods} == {"efectivo": 80000, "tarjeta": 30000}
    assert summary.cash_total["net"] == 110000 and summary.giftcards.total == 20000
    sales = {r.code: r.net for r in db_session.execute(cash_queries.giftcard_sales(f))}
    assert sales == {"efectivo": 50000, "tarjeta": 30000}  # the booking's cash is not a gift-card sale
    lines = {ln.code: (ln.expected, ln.counts_as_cash) for ln in expected_by_method(MONDAY)}
    assert lines["efectivo"] == (80000, True) and lines["giftcard"] == (20000, False)
    counted = {code: value for code, (value, _) in lines.items()}
    close = close_day(MONDAY, counted, by=gerente)
    assert {ln.method_code: ln.expected for ln in close.lines}["efectivo"] == 80000
    assert all(ln.difference == 0 for ln in close.lines)


def test_sale_refused_on_a_closed_day_for_recepcion_writes_nothing(booking_setup, make_client, make_user, db_session):
    recepcion, gerente = make_user("recepcion"), make_user("gerente")
    buyer = make_client()
    db_session.add(CashClose(business_date=MONDAY, closed_by_id=gerente.id))
    db_session.flush()
    before = (count(db_session, GiftCard), count(db_session, Order), count(db_session, Payment))
    with db_session.begin_nested() as tx, pytest.raises(ValidationError, match="La caja del 02/03/2026 está cerrada."):
        try:
            sell(buyer, recepcion)
        finally:
            tx.rollback()
    assert (count(db_session, GiftCard), count(db_session, Order), count(db_session, Payment)) == before


@pytest.mark.parametrize("method", ["", "giftcard", "flow", "descuento"])
def test_sale_needs_a_real_money_desk_method(booking_setup, make_client, make_user, db_session, method):
    with pytest.raises(ValidationError, match="Elija cómo se paga la gift card.") as exc:
        sell(make_client(), make_user("recepcion"), method=method)
    assert exc.value.field == "metodo_pago" and count(db_session, GiftCard) == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (1_000_001, r"El monto máximo de una gift card es \$1\.000\.000\."),
        (10**18, r"El monto máximo de una gift card es \$1\.000\.000\."),
        (HUGE, r"El monto máximo de una gift card es \$1\.000\.000\."),
        (999, r"El monto mínimo de una gift card es \$1\.000\."),
        (0, "mayor que cero"),
        (-50000, "mayor que cero"),
    ],
)
def test_amount_bounds_on_sale_and_courtesy(booking_setup, make_client, make_user, db_session, amount, message):
    client, gerente = make_client(), make_user("gerente")
    with pytest.raises(ValidationError, match=message):
        sell(client, make_user("recepcion"), amount=amount)
    with pytest.raises(ValidationError, match=message):
        giftcard_sales.issue_courtesy_card(amount=amount, reason="compensación", by=gerente, client=client)
    with pytest.raises(ValidationError, match=r"máximo|mayor que cero"):
        giftcards.issue_gift_card(amount=amount if amount > 999 else -1, origin="manual")
    assert count(db_session, GiftCard) == 0 and count(db_session, Order) == 0
    assert sell(client, gerente, amount=1_000_000).initial_amount == 1_000_000  # the bound itself is allowed


def test_max_amount_is_configurable(booking_setup, make_client, make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "GIFTCARD_MAX_AMOUNT", 200000)
    with pytest.raises(ValidationError, match=r"El monto máximo de una gift card es \$200\.000\."):
        sell(make_client(), make_user("recepcion"), amount=200001)
    assert sell(make_client(), make_user("recepcion"), amount=200000).balance == 200000


def test_adjust_is_bounded(booking_setup, make_user, db_session):
    gerente = make_user("gerente")
    card = giftcards.issue_gift_card(amount=500000, by=gerente)
    for amount in (HUGE, -HUGE, 1_000_001):
        with pytest.raises(ValidationError, match=r"El monto máximo de una gift card es \$1\.000\.000\."):
            giftcards.adjust_gift_card(card, amount=amount, reason="error", by=gerente)
    with pytest.raises(ValidationError, match=r"no puede superar \$1\.000\.000 \(disponible \$500\.000\)"):
        giftcards.adjust_gift_card(card, amount=500001, reason="error", by=gerente)
    giftcards.adjust_gift_card(card, amount=500000, reason="compensación", by=gerente)
    assert card.balance == 1_000_000


def test_courtesy_card_is_for_managers_with_a_reason_and_audited(booking_setup, make_client, make_user, db_session):
    client = make_client(name="Cliente Molesto", email="molesto@example.com")
    for role in ("recepcion", "marketing"):
        with pytest.raises(ValidationError, match="Solo un gerente o administrador"):
            giftcard_sales.issue_courtesy_card(amount=20000, reason="compensación", by=make_user(role), client=client)
    gerente = make_user("gerente")
    for reason in ("", "  ", "ok"):
        with pytest.raises(ValidationError, match="Indique el motivo de la cortesía.") as exc:
            giftcard_sales.issue_courtesy_card(amount=20000, reason=reason, by=gerente, client=client)
        assert exc.value.field == "motivo"
    with pytest.raises(ValidationError, match="Indique el cliente"):
        giftcard_sales.issue_courtesy_card(amount=20000, reason="compensación", by=gerente, client=None)
    assert count(db_session, GiftCard) == 0
    card = giftcard_sales.issue_courtesy_card(amount=20000, reason="Tina fría el sábado", by=gerente, client=client)
    assert (card.origin, card.order_line_id, card.recipient_client_id) == ("manual", None, client.id)
    assert card.recipient_email == "molesto@example.com" and giftcard_sales.is_courtesy(card)
    assert count(db_session, Payment) == 0 and count(db_session, Order) == 0  # no money, no sale
    [event] = db_session.scalars(sa.select(ClientEvent).where(ClientEvent.event_type == "giftcard_issued"))
    assert event.client_id == client.id and event.user_id == gerente.id
    assert "cortesía: Tina fría el sábado" in event.description and card.code in event.description
    assert event.data["motivo"] == "Tina fría el sábado"


def test_a_paid_legacy_line_above_the_bound_still_issues_its_card(booking_setup, make_client, make_product, db_session):
    """Money already received (e.g. a Flow confirmation) never fails on the bound: it is checked where the amount
    enters, and a line written before the bound existed still gets its card."""
    from app.sales.services import recalculate_order

    product = make_product(name="Gift Card antigua", base_price=1_500_000, is_gift_card=True)
    client = make_client()
    order = Order(client=client, client_id=client.id, origin="web")
    db_session.add(order)
    db_session.flush()
    db_session.add(
        ProductLine(order_id=order.id, product_id=product.id, quantity=1, unit_price=1_500_000, subtotal=1_500_000)
    )
    db_session.flush()
    db_session.refresh(order, ["product_lines"])
    recalculate_order(order)
    record_payment(order, amount=1_500_000, method="flow")
    [card] = db_session.scalars(sa.select(GiftCard)).all()
    assert card.initial_amount == 1_500_000 and order.payment_status == "pagado"
