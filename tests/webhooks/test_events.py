"""Events are queued in the changing transaction, with the payload shapes of spec api.md §8."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.core.clock import LOCAL_TZ
from app.sales import cart_services, checkout_services
from app.sales import flow_services as flow_service
from app.sales import giftcard_services as giftcards
from app.sales import services as sales_services
from app.sales.line_services import cancel_order_by_staff
from app.sales.payment_services import record_payment
from app.webhooks.event_services import emit_event, emit_message_failed, message_failed_from_log
from tests.sales.test_flow import flow_order, started  # noqa: F401  (fixture reused)

MONDAY = date(2026, 3, 2)
CLIENT_KEYS = {"id", "nombre", "telefono", "email", "documento_identidad", "ciudad", "pais", "fecha_nacimiento"}


def line(service, hhmm="14:00", people=2):
    return sales_services.LineRequest(service_id=service.id, day=MONDAY, hhmm=hhmm, people=people)


def checkout(phone="+56987654321", **kw):
    return checkout_services.CheckoutData(telefono=phone, nombre="María Pérez", email="maria@example.com", **kw)


def place(setup, **kw):
    return checkout_services.place_order(
        lines=[line(setup["calipso"])], data=checkout(**kw), origin="recepcion", staff=True
    )


def test_booking_created_and_client_created_bodies(booking_setup, make_endpoint, deliveries):
    make_endpoint()
    order = place(booking_setup)
    [created] = deliveries("client.created")
    [booked] = deliveries("booking.created")
    body = booked.payload
    assert set(body) == {"id", "evento", "fecha", "datos"} and body["evento"] == "booking.created"
    assert body["id"] == booked.event_id and body["fecha"] == "2026-03-02T10:00:00-03:00"
    rep = body["datos"]["venta_reserva"]
    assert rep["id"] == order.id and rep["total"] == 50000 and rep["estado_pago"] == "pendiente"
    assert [s["servicio"]["nombre"] for s in rep["servicios"]] == ["Tina Calipso"]
    assert set(created.payload["datos"]["cliente"]) == CLIENT_KEYS
    assert created.payload["datos"]["cliente"]["telefono"] == "+56987654321"
    assert booked.status == "PENDING" and booked.attempts == 0


def test_product_only_order_is_not_a_booking(booking_setup, make_endpoint, make_product, deliveries):
    make_endpoint(events=["booking.created"])
    cart = cart_services.create_cart()
    cart_services.add_product_to_cart(cart, product_id=make_product(is_published=True).id, quantity=1)
    checkout_services.place_order(lines=[], data=checkout(), origin="recepcion", cart=cart)
    assert deliveries() == []


def test_only_active_subscribed_endpoints_and_one_event_id(booking_setup, make_endpoint, deliveries):
    a = make_endpoint(events=["booking.created"])
    b = make_endpoint(events=["booking.created", "order.paid"], url="https://otro.example.com/hook")
    make_endpoint(events=["order.paid"])
    make_endpoint(events=["booking.created"], is_active=False)
    place(booking_setup)
    rows = deliveries()
    assert sorted(d.endpoint_id for d in rows) == [a.id, b.id]
    assert len({d.event_id for d in rows}) == 1


def test_rolled_back_change_leaves_no_delivery(booking_setup, make_endpoint, deliveries, db_session):
    make_endpoint()
    place(booking_setup, phone="+56911111111")  # 14:00 taken: the next order conflicts after creating its client
    before = len(deliveries())
    with pytest.raises(sales_services.SlotUnavailable), db_session.begin_nested():
        place(booking_setup, phone="+56922222222")
    assert len(deliveries()) == before
    savepoint = db_session.begin_nested()
    checkout_services.place_order(
        lines=[line(booking_setup["calipso"], "17:00")], data=checkout("+56944444444"), origin="recepcion", staff=True
    )
    assert len(deliveries()) == before + 2  # visible inside the transaction that made the change
    savepoint.rollback()
    assert len(deliveries()) == before


def test_nobody_listening_builds_no_payload(db_session):
    def boom():
        raise AssertionError("payload built without subscribers")

    assert emit_event("order.paid", boom) == []
    with pytest.raises(ValueError):
        emit_event("order.unknown", {})


def test_order_paid_only_on_the_transition(booking_setup, make_endpoint, deliveries):
    make_endpoint(events=["order.paid"])
    order = place(booking_setup)
    record_payment(order, amount=10000, method="efectivo")
    assert deliveries() == []
    record_payment(order, amount=40000, method="efectivo")
    [paid] = deliveries()
    rep = paid.payload["datos"]["venta_reserva"]
    assert rep["estado_pago"] == "pagado" and rep["pagado"] == 50000 and len(rep["pagos"]) == 2


def test_order_cancelled_by_staff(booking_setup, make_endpoint, deliveries, make_user):
    make_endpoint(events=["order.cancelled"])
    order = place(booking_setup)
    cancel_order_by_staff(order, reason="Cliente avisó", by=make_user("gerente"))
    cancel_order_by_staff(order, reason="otra vez", by=make_user("gerente"))  # already cancelled: nothing new
    [cancelled] = deliveries()
    assert cancelled.payload["datos"]["venta_reserva"]["estado_reserva"] == "cancelada"


def test_giftcard_redeemed(booking_setup, make_endpoint, deliveries):
    make_endpoint(events=["giftcard.redeemed"])
    order = place(booking_setup)
    card = giftcards.issue_gift_card(amount=30000)
    record_payment(order, amount=20000, method="giftcard", gift_card_code=card.code)
    [redeemed] = deliveries()
    assert redeemed.payload["datos"] == {
        "giftcard": {"codigo": card.code, "monto_redimido": 20000, "saldo": 10000, "venta_reserva": order.id}
    }


def test_flow_expiry_cancels_and_late_payment_is_paid_with_refund_flag(
    client,
    flow_order,  # noqa: F811
    db_session,
    freeze_clock,
    booking_setup,
    make_endpoint,
    deliveries,
):
    make_endpoint(events=["order.cancelled", "order.paid"])
    _, tx, fake = started(flow_order, db_session)
    freeze_clock(datetime(2026, 3, 2, 11, 1, tzinfo=LOCAL_TZ))
    assert flow_service.expire_unpaid_orders() == 1
    [cancelled] = deliveries("order.cancelled")
    assert cancelled.payload["datos"]["venta_reserva"]["id"] == flow_order.id
    place(booking_setup, phone="+56911111111")  # the slot is resold: the late payment cannot reinstate
    fake.status = 2
    db_session.flush()
    assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).text == "Payment Confirmed"
    [paid] = deliveries("order.paid")
    rep = paid.payload["datos"]["venta_reserva"]
    assert rep["id"] == flow_order.id and rep["requiere_reembolso"] is True and rep["saldo_a_favor"] == 50000


def test_message_failed_payload(make_endpoint, deliveries):
    make_endpoint(events=["message.failed"])
    emit_message_failed(
        message_id=7, message_type="BOOKING_CONFIRMATION", channel="sms", client_id=3, reason="Número inválido"
    )
    [failed] = deliveries()
    assert failed.payload["datos"] == {
        "comunicacion": {
            "id": 7,
            "tipo": "BOOKING_CONFIRMATION",
            "canal": "sms",
            "cliente": 3,
            "motivo": "Número inválido",
        }
    }


def test_message_failed_listener_reads_an_outbox_row(make_endpoint, deliveries):
    from types import SimpleNamespace

    make_endpoint(events=["message.failed"])
    log = SimpleNamespace(
        id=8,
        message_type="PAYMENT_REMINDER",
        communication_type="email",
        client_id=None,
        reason=None,
        last_error="550 mailbox unavailable",
    )
    message_failed_from_log(log)
    assert deliveries()[0].payload["datos"]["comunicacion"] == {
        "id": 8,
        "tipo": "PAYMENT_REMINDER",
        "canal": "email",
        "cliente": None,
        "motivo": "550 mailbox unavailable",
    }


def test_booking_created_when_a_service_line_is_added(booking_setup, make_endpoint, deliveries, make_user):
    from app.sales import edit_services as edit

    make_endpoint(events=["booking.created"])
    order = place(booking_setup)
    edit.add_service_line(order, line(booking_setup["calipso"], "17:00", 1), by=make_user("recepcion"))
    first, added = deliveries()
    assert first.event_id != added.event_id
    assert [s["hora_inicio"] for s in added.payload["datos"]["venta_reserva"]["servicios"]] == ["14:00", "17:00"]
    assert added.payload["datos"]["venta_reserva"]["total"] == 75000
