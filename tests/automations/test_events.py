"""Event messages (§4.1, §4.3, §4.8) queued by the business services in the same transaction, and their texts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.comms.models import CommunicationLog
from app.comms.render import render
from app.core import clock
from app.core.clock import LOCAL_TZ, UTC

MONDAY = date(2026, 3, 2)


@pytest.fixture
def desk(make_user):
    return make_user("recepcion", username="ana")


@pytest.fixture
def place(booking_setup, desk):
    """place(method="transferencia", lines=[(service key, "HH:MM")]) -> order placed by the desk (staff)."""
    from app.sales import checkout_services
    from app.sales import services as sales_services

    def factory(
        method="transferencia",
        lines=(("calipso", "14:00"), ("relajacion", "13:00")),
        origin="telefono",
        email="camila@example.com",
    ):
        reqs = [
            sales_services.LineRequest(service_id=booking_setup[key].id, day=MONDAY, hhmm=hhmm, people=1)
            for key, hhmm in lines
        ]
        data = checkout_services.CheckoutData(
            nombre="Camila Rojas", telefono="+56987654321", email=email, metodo_pago=method
        )
        return checkout_services.place_order(lines=reqs, data=data, origin=origin, by=desk, staff=origin != "web")

    return factory


def rows(db_session, message_type=None, order_id=None):
    stmt = sa.select(CommunicationLog).order_by(CommunicationLog.idempotency_key)
    if message_type:
        stmt = stmt.where(CommunicationLog.message_type == message_type)
    if order_id:
        stmt = stmt.where(CommunicationLog.order_id == order_id)
    return db_session.scalars(stmt).all()


def mark_sent(db_session, order_id, channels=("SMS", "EMAIL")):
    for row in rows(db_session, "BOOKING_CONFIRMATION", order_id):
        if row.communication_type in channels:
            row.status, row.sent_at = "SENT", clock.now()
    db_session.flush()


def test_one_confirmation_per_channel_for_a_multi_line_order_debounced(db_session, place, freeze_clock):
    from app.automations.services import queue_booking_confirmation

    order = place()
    found = rows(db_session, "BOOKING_CONFIRMATION")
    assert [(r.communication_type, r.idempotency_key) for r in found] == [
        ("EMAIL", f"order:{order.id}:BOOKING_CONFIRMATION:email"),
        ("SMS", f"order:{order.id}:BOOKING_CONFIRMATION:sms"),
    ]
    now = clock.now()
    assert all(r.not_before == now + timedelta(seconds=60) and r.triggered_by == "staff:ana" for r in found)
    assert found[0].expires_at == datetime(2026, 3, 2, 13, 0, tzinfo=LOCAL_TZ).astimezone(UTC)  # first start
    freeze_clock(datetime(2026, 3, 2, 10, 0, 40, tzinfo=LOCAL_TZ))  # another line 40 s later: pushed, not doubled
    queue_booking_confirmation(order)
    db_session.expire_all()
    again = rows(db_session, "BOOKING_CONFIRMATION")
    assert len(again) == 2 and all(r.not_before == clock.now() + timedelta(seconds=60) for r in again)


def test_confirmation_texts_while_due_and_when_paid(db_session, place, app, monkeypatch):
    from app.sales.payment_services import record_payment

    # the app is session-wide: restored afterwards (the order page shows "Solicita los datos bancarios" without it)
    monkeypatch.setitem(app.config, "BANK_TRANSFER_INSTRUCTIONS", "Banco Estado, cuenta 123")
    order = place()
    email, sms = rows(db_session, "BOOKING_CONFIRMATION")
    mail = render(email)
    assert mail.subject == "Reserva por confirmar - Masaje Relajación + 1 más"
    assert "Hola Camila" in mail.html and f"#{order.id}" in mail.html
    assert mail.html.index("Masaje Relajación") < mail.html.index("Tina Calipso")  # by date/time
    assert "02/03/2026" in mail.html and "13:00" in mail.html and "$70.000" in mail.text
    assert "Pago pendiente" in mail.html and "Banco Estado, cuenta 123" in mail.html
    assert "ventas@aremko.cl" in mail.text and "Llega 10 minutos antes" in mail.text
    assert "/ventas/reserva/" in mail.text
    [(filename, mime, ics)] = mail.attachments  # the bookings as a calendar file (integrations.md §3)
    assert filename.endswith(".ics") and mime == "text/calendar"
    assert ics.count(b"BEGIN:VEVENT") == 2 and b"Tina Calipso" in ics
    text = render(sms).text
    assert text.startswith(
        f"Hola Camila, recibimos tu reserva #{order.id}: Masaje Relajación y 1 más el "
        "02/03/2026 a las 13:00. Detalle y pago: http"
    )
    assert " Baja: http" in text
    record_payment(order, amount=order.balance_due, method="efectivo", by=None)
    db_session.expire_all()
    paid = render(rows(db_session, "BOOKING_CONFIRMATION")[0])
    assert paid.subject == "Reserva confirmada - Masaje Relajación + 1 más" and "Pago pendiente" not in paid.html


def test_payment_in_full_queues_a_receipt_only_where_the_confirmation_went_out(db_session, place):
    from app.sales.payment_services import record_payment

    order = place()
    mark_sent(db_session, order.id, channels=("SMS",))
    record_payment(order, amount=order.balance_due, method="efectivo", by=None)
    receipts = rows(db_session, "PAYMENT_CONFIRMATION")
    assert [(r.communication_type, r.idempotency_key) for r in receipts] == [
        ("SMS", f"order:{order.id}:PAYMENT_CONFIRMATION:sms")
    ]
    assert receipts[0].expires_at == clock.now() + timedelta(days=7)
    pending_email = [r for r in rows(db_session, "BOOKING_CONFIRMATION") if r.communication_type == "EMAIL"]
    assert len(pending_email) == 1 and pending_email[0].status == "PENDING"  # renders as paid: one message
    assert render(receipts[0]).text.startswith(
        f"Pago recibido: tu reserva #{order.id} quedó pagada al 100%. ¡Gracias, Camila! - Aremko"
    )
    mark_sent(db_session, order.id)
    receipt_mail = CommunicationLog(
        **{c: getattr(receipts[0], c) for c in ("client_id", "order_id", "message_type", "triggered_by")},
        communication_type="EMAIL",
        idempotency_key="x",
    )
    db_session.add(receipt_mail)
    db_session.flush()
    out = render(receipt_mail)
    assert out.subject == f"Pago recibido - Reserva #{order.id} pagada 100%" and "$70.000" in out.html


def test_partial_payment_queues_nothing_more(db_session, place):
    from app.sales.payment_services import record_payment

    order = place()
    mark_sent(db_session, order.id)
    record_payment(order, amount=10000, method="efectivo", by=None)
    assert rows(db_session, "PAYMENT_CONFIRMATION") == []


def test_flow_web_order_is_confirmed_when_paid_not_when_placed(db_session, place):
    from app.sales.payment_services import record_payment

    order = place(method="flow", origin="web")
    assert rows(db_session) == []
    record_payment(order, amount=order.balance_due, method="flow", by=None, allow_credit=True)
    found = rows(db_session)
    assert {(r.message_type, r.communication_type) for r in found} == {
        ("BOOKING_CONFIRMATION", "SMS"),
        ("BOOKING_CONFIRMATION", "EMAIL"),
    }
    assert render(found[0]).subject.startswith("Reserva confirmada - ")


def test_moved_line_queues_rescheduled_message_once_confirmed(db_session, place, booking_setup, desk):
    from app.sales.line_services import move_service_line

    order = place(lines=(("calipso", "14:00"),))
    mark_sent(db_session, order.id)
    line = order.service_lines[0]
    move_service_line(line, day=MONDAY, hhmm="17:00", by=desk)
    moved = rows(db_session, "BOOKING_RESCHEDULED")
    assert len(moved) == 2 and moved[0].idempotency_key.startswith(f"line:{line.id}:BOOKING_RESCHEDULED:")
    assert moved[0].expires_at == datetime(2026, 3, 2, 17, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    sms = next(r for r in moved if r.communication_type == "SMS")
    assert render(sms).text.startswith(
        f"Camila, tu reserva #{order.id} cambió: Tina Calipso el 02/03/2026 a las 17:00. - Aremko"
    )
    mail = render(next(r for r in moved if r.communication_type == "EMAIL"))
    assert mail.subject == f"Tu reserva #{order.id} cambió"
    assert (
        f"Tu reserva <strong>#{order.id}</strong> cambió: <strong>Tina Calipso 02/03/2026 17:00</strong>" in mail.html
    )


def test_moved_line_before_the_confirmation_went_out_just_pushes_it(db_session, place, desk):
    from app.sales.line_services import move_service_line

    order = place(lines=(("calipso", "14:00"),))
    move_service_line(order.service_lines[0], day=MONDAY, hhmm="17:00", by=desk)
    assert rows(db_session, "BOOKING_RESCHEDULED") == []
    assert len(rows(db_session, "BOOKING_CONFIRMATION")) == 2


def test_staff_cancellation_after_confirmation_queues_cancelled_text(db_session, place, desk):
    from app.sales.line_services import cancel_order_by_staff

    order = place()
    mark_sent(db_session, order.id, channels=("SMS",))
    cancel_order_by_staff(order, reason="Cliente llamó", by=desk)
    cancelled = rows(db_session, "BOOKING_CANCELLED")
    assert [(r.communication_type, r.idempotency_key) for r in cancelled] == [
        ("SMS", f"order:{order.id}:BOOKING_CANCELLED:sms")
    ]
    assert render(cancelled[0]).text.startswith(
        f"Camila, tu reserva #{order.id} fue cancelada. Consultas por WhatsApp al +56 9 5790 2525. - Aremko"
    )


def test_cancelling_the_last_line_counts_as_an_order_cancellation(db_session, place, desk):
    from app.sales.line_services import cancel_line

    order = place(lines=(("calipso", "14:00"),))
    mark_sent(db_session, order.id)
    cancel_line(order.service_lines[0], reason="No viene", by=desk)
    assert len(rows(db_session, "BOOKING_CANCELLED")) == 2


def test_cancellation_without_sent_confirmation_and_flow_expiry_send_nothing(db_session, place, desk, freeze_clock):
    from app.sales.flow_services import expire_unpaid_orders
    from app.sales.line_services import cancel_order_by_staff

    order = place()
    cancel_order_by_staff(order, reason="Error", by=desk)
    assert rows(db_session, "BOOKING_CANCELLED") == []
    flow_order = place(method="flow", origin="web", lines=(("calipso", "17:00"),))
    freeze_clock(datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ))
    assert expire_unpaid_orders() == 1
    db_session.refresh(flow_order)
    assert flow_order.is_cancelled and rows(db_session, "BOOKING_CANCELLED") == []


def test_gift_card_with_recipient_email_is_mailed(db_session, booking_setup, desk, make_client):
    from app.sales.giftcard_services import issue_gift_card

    buyer = make_client()
    card = issue_gift_card(
        amount=50000,
        by=desk,
        buyer_client_id=buyer.id,
        recipient_name="Pedro Soto",
        recipient_email="Pedro@Example.com",
        message="¡Feliz aniversario!",
    )
    issue_gift_card(amount=20000, by=desk, buyer_client_id=buyer.id)  # no recipient e-mail: nothing
    found = rows(db_session, "GIFT_CARD")
    assert [(r.idempotency_key, r.destination, r.client_id) for r in found] == [
        (f"giftcard:{card.id}:GIFT_CARD", "pedro@example.com", None)
    ]
    mail = render(found[0])
    assert mail.subject == "Recibiste una Gift Card de Aremko"
    assert card.code in mail.html and "$50.000" in mail.html and f"{card.expires_on:%d/%m/%Y}" in mail.html
    assert "¡Feliz aniversario!" in mail.html and "Hola Pedro" in mail.text
    assert "/ventas/giftcard/" in mail.text


def test_resend_confirmation_queues_new_rows_each_time(db_session, place, desk):
    from app.automations.services import resend_confirmation

    order = place()
    mark_sent(db_session, order.id)
    assert resend_confirmation(order, by=desk) == 2
    assert resend_confirmation(order, by=desk) == 2
    keys = [r.idempotency_key for r in rows(db_session, "BOOKING_CONFIRMATION")]
    assert f"order:{order.id}:BOOKING_CONFIRMATION:sms:resend:2" in keys and len(keys) == 6


def test_resend_view_full_page_fragment_and_roles(db_session, place, login, client):
    order = place()
    db_session.flush()
    url = f"/ventas/venta_reservas/{order.id}/reenviar-confirmacion/"
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]
    marketing = login("marketing").post(url)
    assert marketing.status_code == 403
    desk_client = login("recepcion")
    full = desk_client.post(url)
    assert full.status_code == 303 and full.headers["Location"].endswith(f"/venta_reservas/{order.id}/")
    fragment = desk_client.post(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="order-actions"' in fragment.text
    assert "Confirmación en cola de envío" in fragment.text and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    resent = [r for r in rows(db_session, "BOOKING_CONFIRMATION") if ":resend:" in r.idempotency_key]
    assert len(resent) == 4
    assert desk_client.post("/ventas/venta_reservas/999999/reenviar-confirmacion/").status_code == 404


def test_resend_refused_on_a_cancelled_order(db_session, place, login, desk):
    from app.sales.line_services import cancel_order_by_staff

    order = place()
    cancel_order_by_staff(order, reason="Error", by=desk)
    db_session.flush()
    resp = login("recepcion").post(
        f"/ventas/venta_reservas/{order.id}/reenviar-confirmacion/", headers={"HX-Request": "true"}
    )
    assert resp.status_code == 409 and "La venta está cancelada" in resp.text


def test_a_service_line_added_at_the_desk_queues_the_confirmation_once(db_session, place, booking_setup, desk):
    from app.sales.edit_services import add_service_line
    from app.sales.services import LineRequest

    order = place(lines=(("calipso", "14:00"),))
    mark_sent(db_session, order.id)  # the first confirmation already went out: staff resend it by hand
    add_service_line(
        order, LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="17:00", people=1), by=desk
    )
    assert {r.status for r in rows(db_session, "BOOKING_CONFIRMATION", order.id)} == {"SENT"}
    other = place(lines=(("arrayan", "16:00"),))
    add_service_line(
        other, LineRequest(service_id=booking_setup["relajacion"].id, day=MONDAY, hhmm="14:15", people=1), by=desk
    )
    pending = rows(db_session, "BOOKING_CONFIRMATION", other.id)
    assert len(pending) == 2 and {r.status for r in pending} == {"PENDING"}  # debounced: still one per channel
