"""Payments, discounts, gift cards and refunds on the real database: spec booking.md §7, §8 and §12."""

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.catalog.models import Service
from app.clients.models import ClientEvent
from app.core.clock import LOCAL_TZ
from app.core.errors import ConflictError, ValidationError
from app.sales import cart_services, checkout_services, discount_services
from app.sales import giftcard_services as giftcards
from app.sales import services as sales_services
from app.sales.cash_queries import closed_close
from app.sales.models import CashClose, GiftCard, GiftCardEntry, Payment
from app.sales.payment_services import record_payment, refund, void_payment

MONDAY = date(2026, 3, 2)


def place(booking_setup, service="calipso", people=2, hhmm="14:00", by=None, phone="+56987654321"):
    svc = booking_setup[service]
    return checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=svc.id, day=MONDAY, hhmm=hhmm, people=people)],
        data=checkout_services.CheckoutData(telefono=phone, nombre="María Pérez", email="maria@example.com"),
        origin="recepcion",
        by=by,
        staff=True,
    )


def figures(order):
    return (
        order.services_total + order.products_total,
        order.discount_total,
        order.total,
        order.paid,
        order.balance_due,
        order.credit,
        order.payment_status,
    )


def test_worked_example_booking_md_12(booking_setup, make_user):
    recepcion, gerente = make_user("recepcion"), make_user("gerente")
    order = place(booking_setup, by=recepcion)
    assert figures(order) == (50000, 0, 50000, 0, 50000, 0, "pendiente")
    record_payment(order, amount=10000, method="efectivo", by=recepcion)
    assert figures(order) == (50000, 0, 50000, 10000, 40000, 0, "parcial")
    discount_services.apply_discount(order, amount=5000, reason="cliente frecuente", by=recepcion)
    assert figures(order) == (50000, 5000, 45000, 10000, 35000, 0, "parcial")
    card = giftcards.issue_gift_card(amount=50000, by=recepcion)
    gc_payment = record_payment(order, amount=35000, method="giftcard", gift_card_code=card.code, by=recepcion)
    assert figures(order) == (50000, 5000, 45000, 45000, 0, 0, "pagado")
    assert (card.balance, card.status) == (15000, "por_cobrar")
    void_payment(gc_payment, reason="error de cobro", by=recepcion)
    assert figures(order) == (50000, 5000, 45000, 10000, 35000, 0, "parcial")
    assert (card.balance, card.status) == (50000, "por_cobrar")
    assert gc_payment.status == "anulado" and gc_payment.void_reason == "error de cobro"
    with pytest.raises(ValidationError, match=r"El monto supera el saldo pendiente \(\$35\.000\)\."):
        record_payment(order, amount=100000, method="tarjeta", by=recepcion)
    record_payment(order, amount=100000, method="tarjeta", by=recepcion, allow_credit=True)
    assert figures(order) == (50000, 5000, 45000, 110000, 0, 65000, "pagado")
    refund(order, amount=65000, method="transferencia", reason="devolución saldo a favor", by=gerente)
    assert figures(order) == (50000, 5000, 45000, 45000, 0, 0, "pagado")
    kinds = [e.kind for e in card.entries]
    assert kinds == ["redencion", "reverso"] and sum(e.amount for e in card.entries) == 0
    events = set(ClientEvent.query.filter_by(order_id=order.id).with_entities(ClientEvent.event_type).all())
    assert {
        ("payment_recorded",),
        ("discount_applied",),
        ("giftcard_redeemed",),
        ("payment_voided",),
        ("giftcard_reversed",),
        ("refund_recorded",),
    } <= events


def test_cabin_is_flat_and_price_snapshot_survives_catalogue_change(booking_setup, db_session):
    cabin = place(booking_setup, service="arrayan", people=2, hhmm="16:00")
    assert cabin.total == 90000
    order = place(booking_setup, phone="+56911111111")
    db_session.get(Service, booking_setup["calipso"].id).base_price = 30000
    db_session.flush()
    sales_services.recalculate_order(order)
    assert order.service_lines[0].unit_price == 25000 and order.total == 50000


def test_percent_code_follows_the_subtotal(booking_setup):
    order = place(booking_setup, people=2)  # 50.000
    discount_services.apply_discount(order, code="aremko15", by=None)
    assert (order.discount_total, order.total) == (7500, 42500)
    with pytest.raises(ValidationError, match="La venta ya tiene un código de descuento."):
        discount_services.apply_discount(order, code="AREMKO15", by=None)


def test_discount_limits(booking_setup, make_user):
    recepcion, gerente = make_user("recepcion"), make_user("gerente")
    order = place(booking_setup)
    with pytest.raises(ValidationError, match="Descuentos mayores al 20 % requieren un gerente."):
        discount_services.apply_discount(order, amount=10001, reason="amigo", by=recepcion)
    discount_services.apply_discount(order, amount=10000, reason="amigo", by=recepcion)
    with pytest.raises(ValidationError, match="El descuento no puede superar el total de la venta."):
        discount_services.apply_discount(order, amount=40001, reason="cortesía", by=gerente)
    with pytest.raises(ValidationError, match="motivo"):
        discount_services.apply_discount(order, amount=1000, reason="x", by=gerente)
    d = discount_services.apply_discount(order, amount=40000, reason="cortesía", by=gerente)
    assert (order.total, order.payment_status) == (0, "pagado")  # fully discounted = pagado
    with pytest.raises(ValidationError, match="Solo un gerente"):
        discount_services.void_discount(d, by=recepcion)
    discount_services.void_discount(d, by=gerente)
    assert d.status == "anulado" and order.total == 40000


def test_cancel_with_payment_requires_refund_then_reembolsado(booking_setup, make_user):
    gerente = make_user("gerente")
    order = place(booking_setup)
    record_payment(order, amount=20000, method="efectivo", by=gerente)
    sales_services.cancel_order(order, reason="cliente no puede asistir", by=gerente)
    assert (order.payment_status, order.credit, order.requires_refund) == ("cancelado", 20000, True)
    refund(order, amount=20000, method="efectivo", reason="devolución", by=gerente)
    assert (order.payment_status, order.credit, order.requires_refund) == ("reembolsado", 0, False)
    with pytest.raises(ValidationError, match="Solo un gerente"):
        refund(order, amount=1, method="efectivo", reason="x", by=make_user("recepcion"))


def test_gift_card_checks_and_partial_use(booking_setup, freeze_clock):
    order = place(booking_setup)
    card = giftcards.issue_gift_card(amount=30000, expires_on=date(2026, 3, 31))
    assert len(card.code) == 12 and card.code.isalnum() and card.code.upper() == card.code
    with pytest.raises(ValidationError, match="Gift card no encontrada."):
        record_payment(order, amount=1000, method="giftcard", gift_card_code="NOEXISTE0000")
    with pytest.raises(ConflictError, match=r"Saldo insuficiente: disponible \$30\.000\."):
        record_payment(order, amount=30001, method="giftcard", gift_card_code=card.code)
    record_payment(order, amount=20000, method="giftcard", gift_card_code=card.code.lower())
    assert card.balance == 10000 and order.balance_due == 30000
    freeze_clock(datetime(2026, 3, 31, 23, 0, tzinfo=LOCAL_TZ))  # valid through its expiry day
    record_payment(order, amount=5000, method="giftcard", gift_card_code=card.code)
    freeze_clock(datetime(2026, 4, 1, 9, 0, tzinfo=LOCAL_TZ))
    with pytest.raises(ValidationError, match="Gift card vencida el 31/03/2026."):
        record_payment(order, amount=1000, method="giftcard", gift_card_code=card.code)


def test_void_card_and_adjust_are_for_managers(booking_setup, make_user):
    recepcion, gerente = make_user("recepcion"), make_user("gerente")
    card = giftcards.issue_gift_card(amount=10000, by=recepcion)
    with pytest.raises(ValidationError, match="Solo un gerente"):
        giftcards.void_gift_card(card, reason="robada", by=recepcion)
    giftcards.adjust_gift_card(card, amount=-4000, reason="corrección", by=gerente)
    assert card.balance == 6000
    giftcards.void_gift_card(card, reason="robada", by=gerente)
    order = place(booking_setup)
    with pytest.raises(ValidationError, match="Gift card anulada."):
        record_payment(order, amount=1000, method="giftcard", gift_card_code=card.code)


def test_sold_gift_card_issues_on_paid_once_and_cannot_pay_itself(booking_setup, make_product, db_session):
    product = make_product(name="Gift Card Aremko", base_price=50000, is_gift_card=True, is_published=True)
    cart = cart_services.create_cart()
    cart_services.add_product_to_cart(cart, product_id=product.id, quantity=2)
    order = checkout_services.place_order(
        lines=[],
        cart=cart,
        data=checkout_services.CheckoutData(telefono="+56987654321", nombre="Ana Compradora", email="ana@example.com"),
        origin="recepcion",
        staff=True,
    )
    assert order.total == 100000
    other = giftcards.issue_gift_card(amount=50000)
    with pytest.raises(ValidationError, match="gift card"):
        record_payment(order, amount=1000, method="giftcard", gift_card_code=other.code)
    record_payment(order, amount=60000, method="efectivo")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(GiftCard).where(GiftCard.origin == "venta")) == 0
    record_payment(order, amount=40000, method="tarjeta")
    cards = db_session.scalars(sa.select(GiftCard).where(GiftCard.origin == "venta")).all()
    assert len(cards) == 2 and {c.initial_amount for c in cards} == {50000}
    assert {c.buyer_client_id for c in cards} == {order.client_id}
    assert len(giftcards.issue_cards_for_paid_order(order)) == 0  # idempotent


def test_closed_day_refuses_recepcion_and_flags_managers(booking_setup, make_user, db_session):
    recepcion, gerente = make_user("recepcion"), make_user("gerente")
    order = place(booking_setup)
    early = record_payment(order, amount=1000, method="efectivo", by=recepcion)
    db_session.add(CashClose(business_date=MONDAY, closed_by_id=gerente.id))
    db_session.flush()
    assert closed_close(MONDAY) is not None
    with pytest.raises(ValidationError, match="La caja del 02/03/2026 está cerrada."):
        record_payment(order, amount=1000, method="efectivo", by=recepcion)
    late = record_payment(order, amount=1000, method="efectivo", by=gerente)
    assert late.after_close and not early.after_close
    with pytest.raises(ValidationError, match="debe reabrirse"):
        void_payment(early, reason="error", by=gerente)


def test_void_rules_for_recepcion(booking_setup, make_user, freeze_clock, db_session):
    a, b = make_user("recepcion"), make_user("recepcion")
    order = place(booking_setup)
    p = record_payment(order, amount=1000, method="efectivo", by=a)
    with pytest.raises(ValidationError, match="Solo puede anular pagos registrados por usted."):
        void_payment(p, reason="error", by=b)
    with pytest.raises(ValidationError, match="motivo"):
        void_payment(p, reason=" ", by=a)
    freeze_clock(datetime(2026, 3, 3, 10, 0, tzinfo=LOCAL_TZ))
    with pytest.raises(ValidationError, match="Solo puede anular pagos del día."):
        void_payment(p, reason="error", by=a)
    void_payment(p, reason="error", by=make_user("gerente"))
    assert db_session.get(Payment, p.id).status == "anulado" and order.paid == 0
    assert GiftCardEntry.query.count() == 0
