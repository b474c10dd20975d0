"""The manage-booking page (self-service.md §2–§3): a customer cancels or reschedules with the signed order link,
inside and outside the policy's window, with and without a deposit, for each service kind; tampered and past
links; a slot taken meanwhile; double clicks; the messages, webhooks, signals and audit of each change."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.clients.models import ClientEvent
from app.comms.models import CommunicationLog
from app.comms.render import render
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.core.signing import order_token
from app.sales import signals
from app.sales.models import GiftCard, Payment, ServiceLine

TODAY = date(2026, 3, 2)  # booking_setup: Monday 02/03/2026 10:00
NEXT_MONDAY = date(2026, 3, 9)
HX = {"HX-Request": "true"}


@pytest.fixture
def setup(booking_setup):
    return booking_setup


@pytest.fixture
def place(setup):
    """place([(service key, day, "HH:MM", people)], paid=0, pago="total") -> a web order placed like checkout."""
    from app.sales import checkout_services
    from app.sales import services as sales_services
    from app.sales.payment_services import record_payment

    def factory(lines, *, paid=0, pago="total", method="transferencia"):
        reqs = [
            sales_services.LineRequest(service_id=setup[key].id, day=day, hhmm=hhmm, people=people)
            for key, day, hhmm, people in lines
        ]
        data = checkout_services.CheckoutData(
            nombre="Camila Rojas", telefono="+56987654321", email="camila@example.com", metodo_pago=method, pago=pago
        )
        order = checkout_services.place_order(lines=reqs, data=data, origin="web")
        if paid:
            record_payment(order, amount=paid, method="transferencia", by=None)
        return order

    return factory


@pytest.fixture
def received():
    """Signals a customer change sends (the waitlist listens to line_cancelled / line_moved)."""
    got = []

    def on(name):
        def receiver(sender, **kw):
            got.append((name, sender.id, kw.get("order_cancelled")))

        return receiver

    receivers = [(signals.line_cancelled, on("line_cancelled")), (signals.line_moved, on("line_moved"))]
    for signal, receiver in receivers:
        signal.connect(receiver)
    yield got
    for signal, receiver in receivers:
        signal.disconnect(receiver)


@pytest.fixture
def hooks(db_session):
    from app.webhooks.models import EVENTS, WebhookDelivery, WebhookEndpoint

    db_session.add(WebhookEndpoint(url="https://n8n.example.com/hook", secret="x" * 64, events=list(EVENTS)))
    db_session.flush()

    def read(event):
        return db_session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.event == event)).all()

    return read


def url(order, suffix=""):
    return f"/ventas/reserva/{order_token(order.id)}/{suffix}"


def cancel(client, order, key="k-1", money=False, headers=None):
    data = {"submission_key": key}
    if money:
        data["devolucion_dinero"] = "y"
    return client.post(url(order, "cancelar/"), data=data, headers=headers or {})


def move(client, order, line, day, hhmm, key="m-1"):
    return client.post(
        url(order, f"lineas/{line.id}/cambiar/"), data={"submission_key": key, "fecha": day.isoformat(), "hora": hhmm}
    )


def fresh(db_session, obj):
    db_session.expire_all()
    return db_session.get(type(obj), obj.id)


def audit(db_session, order, event_type):
    return db_session.scalars(
        sa.select(ClientEvent).where(ClientEvent.order_id == order.id, ClientEvent.event_type == event_type)
    ).all()


# --- cancel ---------------------------------------------------------------------------------------------------


def test_tina_cancel_inside_window_returns_everything_as_a_12_month_gift_card(
    client, db_session, place, received, hooks
):
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)], paid=50000)
    page = client.get(url(order))
    assert "Puedes cancelar sin costo hasta el 08/03 a las 14:00" in page.text
    assert 'id="cancel-booking"' in page.text and "Cambiar fecha u hora" in page.text
    confirm = client.get(url(order, "cancelar/"))
    assert confirm.status_code == 200 and "Te devolvemos: $50.000" in confirm.text
    assert "Prefiero devolución del dinero" in confirm.text

    resp = cancel(client, order)
    assert resp.status_code == 303 and resp.headers["Location"] == url(order)
    order = fresh(db_session, order)
    assert order.is_cancelled and order.cancel_reason == "Cancelada por el cliente"
    assert order.credit == 0 and not order.requires_refund and order.cancellation_fee == 0
    card = db_session.scalars(sa.select(GiftCard)).one()
    assert (card.origin, card.initial_amount, card.expires_on) == ("reembolso", 50000, date(2027, 3, 2))
    refund = db_session.scalars(sa.select(Payment).where(Payment.is_refund)).one()
    assert (refund.amount, refund.method, refund.gift_card_id) == (-50000, "giftcard", card.id)
    (event,) = audit(db_session, order, "order_cancelled")
    assert event.data["origen"] == "cliente" and event.user_id is None
    assert received == [("line_cancelled", order.service_lines[0].id, True)]
    assert len(hooks("order.cancelled")) == 1
    page = client.get(url(order)).text
    assert "Tu reserva fue cancelada." in page
    assert f"Te devolvimos $50.000 en la gift card <strong>{card.code}</strong>, válida hasta el 02/03/2027" in page


def test_double_click_on_cancel_cancels_once(client, db_session, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)], paid=50000)
    assert cancel(client, order, key="same").status_code == 303
    again = cancel(client, order, key="same")
    assert again.status_code == 303  # the first click already did it: back to the page, nothing more
    assert db_session.scalar(sa.select(sa.func.count()).select_from(GiftCard)) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.is_refund)) == 1
    third = cancel(client, order, key="other")  # a new key on a cancelled order: refused, never twice
    assert third.status_code in (303, 409, 422)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(GiftCard)) == 1


def test_masaje_cancel_inside_window_money_back_marks_the_refund_for_the_desk(client, db_session, place):
    order = place([("relajacion", NEXT_MONDAY, "13:00", 1)], paid=45000)
    assert cancel(client, order, money=True).status_code == 303
    order = fresh(db_session, order)
    assert order.is_cancelled and order.requires_refund and order.credit == 45000
    assert db_session.scalars(sa.select(GiftCard)).all() == []
    assert "Te devolveremos $45.000: recepción te contactará" in client.get(url(order)).text


def test_masaje_cancel_after_cutoff_keeps_the_late_fee(client, db_session, place):
    order = place([("relajacion", TODAY, "14:15", 1)], paid=45000)  # 4 h before, cut-off 24 h, fee 100 %
    page = client.get(url(order))
    assert "Si cancelas ahora se cobra el 100 % ($45.000)" in page.text
    assert "Para cambios, escríbenos por WhatsApp al +56 9 5790 2525" in page.text  # reschedule cut-off passed
    assert "Te devolvemos: $0" in client.get(url(order, "cancelar/")).text
    assert cancel(client, order).status_code == 303
    order = fresh(db_session, order)
    assert order.is_cancelled and order.cancellation_fee == 45000
    assert order.credit == 0 and not order.requires_refund and order.payment_status == "cancelado"
    assert db_session.scalars(sa.select(GiftCard)).all() == []


def test_tina_cancel_after_cutoff_without_payment_frees_the_slot_and_costs_nothing(client, db_session, place):
    order = place([("calipso", TODAY, "17:00", 1)])
    assert cancel(client, order).status_code == 303
    order = fresh(db_session, order)
    assert order.is_cancelled and order.cancellation_fee == 0 and order.balance_due == 0 and order.credit == 0
    again = place([("calipso", TODAY, "17:00", 1)])  # capacity freed at once
    assert again.service_lines[0].status == "pendiente"


def test_cabana_with_deposit_inside_window_returns_the_deposit(client, db_session, place):
    order = place([("arrayan", NEXT_MONDAY, "16:00", 2)], pago="abono")
    assert order.policy_snapshot["deposit_percent"] == 50 and order.policy_snapshot["pago"] == "abono"
    page = client.get(url(order))
    assert "Monto: $45.000 (abono del 50 %" in page.text
    from app.sales.payment_services import record_payment

    record_payment(order, amount=45000, method="transferencia", by=None)
    assert order.payment_status == "parcial"
    page = client.get(url(order))
    assert "Abono pagado. Saldo a pagar al llegar: $45.000" in page.text
    assert "Puedes cancelar sin costo hasta el 06/03 a las 16:00" in page.text  # 72 h
    assert cancel(client, order).status_code == 303
    card = db_session.scalars(sa.select(GiftCard)).one()
    assert card.initial_amount == 45000


def test_cabana_with_deposit_after_cutoff_keeps_half_the_line(client, db_session, place):
    order = place([("arrayan", TODAY, "16:00", 2)], pago="abono")  # 6 h before: past the 72 h cut-off, fee 50 %
    from app.sales.payment_services import record_payment

    record_payment(order, amount=90000, method="transferencia", by=None)
    assert "Te devolvemos: $45.000" in client.get(url(order, "cancelar/")).text
    assert cancel(client, order).status_code == 303
    order = fresh(db_session, order)
    assert order.cancellation_fee == 45000 and order.credit == 0 and order.paid == 45000
    assert db_session.scalars(sa.select(GiftCard)).one().initial_amount == 45000


def test_cancel_sends_booking_cancelled_with_the_gift_card_code_when_confirmed(client, db_session, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)], paid=50000)
    for row in db_session.scalars(sa.select(CommunicationLog).where(CommunicationLog.order_id == order.id)):
        if row.message_type == "BOOKING_CONFIRMATION":
            row.status, row.sent_at = "SENT", clock.now()
    db_session.flush()
    cancel(client, order)
    logs = db_session.scalars(
        sa.select(CommunicationLog).where(CommunicationLog.message_type == "BOOKING_CANCELLED")
    ).all()
    assert {r.communication_type for r in logs} == {"SMS", "EMAIL"}
    email = next(r for r in logs if r.communication_type == "EMAIL")
    code = db_session.scalars(sa.select(GiftCard)).one().code
    assert code in render(email).text and "$50.000" in render(email).text


# --- reschedule -----------------------------------------------------------------------------------------------


def test_tina_reschedule_inside_window_rereads_the_price(client, db_session, place, setup, received, hooks):
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)], paid=50000)
    line = order.service_lines[0]
    page = client.get(url(order, f"lineas/{line.id}/cambiar/"))
    assert page.status_code == 200 and 'value="17:00"' in page.text and 'value="14:00"' not in page.text
    setup["calipso"].base_price = 30000
    db_session.flush()
    resp = move(client, order, line, NEXT_MONDAY, "17:00")
    assert resp.status_code == 303
    line, order = fresh(db_session, line), fresh(db_session, order)
    assert (line.service_date, line.start_time, line.reschedule_count) == (NEXT_MONDAY, "17:00", 1)
    assert line.subtotal == 60000 and order.balance_due == 10000
    (event,) = audit(db_session, order, "line_moved")
    assert event.data["origen"] == "cliente" and "09/03/2026 14:00 → 09/03/2026 17:00" in event.description
    assert received == [("line_moved", line.id, None)]
    (delivery,) = hooks("booking.rescheduled")
    assert delivery.payload["datos"]["antes"] == {"fecha": "2026-03-09", "hora": "14:00"}


def test_lower_price_after_reschedule_leaves_credit(client, db_session, place, setup):
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)], paid=50000)
    setup["calipso"].base_price = 20000
    db_session.flush()
    assert move(client, order, order.service_lines[0], NEXT_MONDAY, "17:00").status_code == 303
    assert fresh(db_session, order).credit == 10000


def test_masaje_reschedule_inside_window(client, db_session, place):
    order = place([("relajacion", NEXT_MONDAY, "13:00", 1)])
    line = order.service_lines[0]
    assert move(client, order, line, NEXT_MONDAY, "14:15").status_code == 303
    line = fresh(db_session, line)
    assert line.start_time == "14:15" and line.provider_id is not None


def test_cabana_reschedule_inside_window_with_deposit(client, db_session, place):
    from app.sales.payment_services import record_payment

    order = place([("arrayan", NEXT_MONDAY, "16:00", 2)], pago="abono")
    record_payment(order, amount=45000, method="transferencia", by=None)
    line = order.service_lines[0]
    assert move(client, order, line, date(2026, 3, 16), "16:00").status_code == 303
    assert fresh(db_session, line).service_date == date(2026, 3, 16)
    assert fresh(db_session, order).payment_status == "parcial"


@pytest.mark.parametrize(
    ("key", "day", "hhmm", "target"),
    [
        ("calipso", TODAY, "17:00", ("wed", "14:00")),  # 7 h before, cut-off 12 h
        ("relajacion", TODAY, "14:15", ("mon", "13:00")),
        ("arrayan", date(2026, 3, 3 + 1), "16:00", ("mon", "16:00")),  # 48 h cut-off; Wednesday has no cabin slot
    ],
)
def test_reschedule_after_cutoff_is_refused_with_the_whatsapp_text(client, db_session, place, key, day, hhmm, target):
    if key == "arrayan":
        order = place([(key, NEXT_MONDAY, "16:00", 2)])
        clock.freeze(datetime(2026, 3, 8, 10, 0, tzinfo=LOCAL_TZ))  # 30 h before
    else:
        order = place([(key, day, hhmm, 1)])
    line = order.service_lines[0]
    before = (line.service_date, line.start_time)
    new_day = date(2026, 3, 4) if target[0] == "wed" else NEXT_MONDAY if key != "arrayan" else date(2026, 3, 16)
    resp = move(client, order, line, new_day, target[1])
    assert resp.status_code == 422
    assert "Para cambios, escríbenos por WhatsApp al +56 9 5790 2525" in resp.text
    line = fresh(db_session, line)
    assert (line.service_date, line.start_time, line.reschedule_count) == (*before, 0)


def test_reschedule_into_a_slot_taken_meanwhile_is_409_and_the_old_booking_stays(client, db_session, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)])
    line = order.service_lines[0]
    page = client.get(url(order, f"lineas/{line.id}/cambiar/"))
    assert 'value="17:00"' in page.text  # free when the customer looked
    place([("calipso", NEXT_MONDAY, "17:00", 1)])  # someone else books it meanwhile
    resp = move(client, order, line, NEXT_MONDAY, "17:00")
    assert resp.status_code == 409
    assert "Tina Calipso 09/03/2026 17:00" in resp.text
    line = fresh(db_session, line)
    assert (line.service_date, line.start_time, line.status, line.reschedule_count) == (
        NEXT_MONDAY,
        "14:00",
        "pendiente",
        0,
    )


def test_reschedule_refusal_built_with_values_reads_in_english(client, db_session, place):
    """The refusal names the slot (data, as written) and its reason (from the catalogue): on an English page the
    reason reads in English, with the house date format (docs/I18N.md)."""
    order = place([("calipso", NEXT_MONDAY, "14:00", 2)])
    line = order.service_lines[0]
    assert client.get(url(order) + "?lang=en").status_code == 200  # the visitor switches to English
    place([("calipso", NEXT_MONDAY, "17:00", 1)])
    resp = move(client, order, line, NEXT_MONDAY, "17:00")
    assert resp.status_code == 409
    assert "Tina Calipso 09/03/2026 17:00: That time is sold out." in resp.text and "agotado" not in resp.text


def test_at_most_two_reschedules_per_line(client, db_session, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    line = order.service_lines[0]
    assert move(client, order, line, NEXT_MONDAY, "17:00", key="a").status_code == 303
    assert move(client, order, line, NEXT_MONDAY, "14:00", key="b").status_code == 303
    third = move(client, order, line, NEXT_MONDAY, "17:00", key="c")
    assert third.status_code == 422 and "ya se cambió dos veces" in third.text
    assert fresh(db_session, line).start_time == "14:00"


def test_double_click_on_reschedule_moves_once(client, db_session, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    line = order.service_lines[0]
    assert move(client, order, line, NEXT_MONDAY, "17:00", key="same").status_code == 303
    assert move(client, order, line, NEXT_MONDAY, "17:00", key="same").status_code == 303
    assert fresh(db_session, line).reschedule_count == 1
    assert len(audit(db_session, order, "line_moved")) == 1


def test_reschedule_sends_booking_rescheduled_after_a_sent_confirmation(client, db_session, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    for row in db_session.scalars(sa.select(CommunicationLog).where(CommunicationLog.order_id == order.id)):
        row.status, row.sent_at = "SENT", clock.now()
    db_session.flush()
    move(client, order, order.service_lines[0], NEXT_MONDAY, "17:00")
    db_session.expire_all()
    logs = db_session.scalars(
        sa.select(CommunicationLog).where(CommunicationLog.message_type == "BOOKING_RESCHEDULED")
    ).all()
    assert len(logs) == 2
    sms = next(r for r in logs if r.communication_type == "SMS")
    assert "Tina Calipso el 09/03/2026 a las 17:00" in render(sms).text


# --- links ------------------------------------------------------------------------------------------------------


def test_tampered_link_is_a_styled_404(client, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    token = order_token(order.id)
    for path in ("", "cancelar/", f"lineas/{order.service_lines[0].id}/cambiar/"):
        resp = client.get(f"/ventas/reserva/{token[:-2]}xx/{path}")
        assert resp.status_code == 404 and "<html" in resp.text and "Página no encontrada" in resp.text
    assert cancel(client, order, key="t").status_code == 303  # the real link works
    other = place([("calipso", NEXT_MONDAY, "17:00", 1)])
    wrong_line = client.get(url(other, f"lineas/{order.service_lines[0].id}/cambiar/"))
    assert wrong_line.status_code == 404  # a line of another order


def test_past_booking_link_is_read_only(client, db_session, place):
    order = place([("calipso", TODAY, "14:00", 1)], paid=25000)
    clock.freeze(datetime(2026, 3, 3, 9, 0, tzinfo=LOCAL_TZ))  # the day after the visit
    page = client.get(url(order))
    assert page.status_code == 200 and "Esta reserva ya no admite cambios en línea." in page.text
    assert 'id="cancel-booking"' not in page.text and "Cambiar fecha u hora" not in page.text
    assert client.get(url(order, "cancelar/")).status_code == 303
    resp = cancel(client, order)
    assert resp.status_code == 422 and "ya no se puede cancelar" in resp.text
    assert not fresh(db_session, order).is_cancelled


# --- fragments --------------------------------------------------------------------------------------------------


def test_fragments_answer_only_the_form(client, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    frag = client.get(url(order, "cancelar/"), headers=HX)
    assert frag.status_code == 200 and "<html" not in frag.text and 'id="cancel-form"' in frag.text
    line = order.service_lines[0]
    hours = client.get(url(order, f"lineas/{line.id}/cambiar/?fecha=2026-03-04"), headers=HX)
    assert hours.status_code == 200 and "<html" not in hours.text
    assert 'id="reschedule-hours"' in hours.text and 'value="14:00"' in hours.text
    full = client.get(url(order, f"lineas/{line.id}/cambiar/"))
    assert "<html" in full.text and 'id="reschedule-form"' in full.text
    refused = client.post(
        url(order, f"lineas/{line.id}/cambiar/"), data={"submission_key": "f", "fecha": "x"}, headers=HX
    )
    assert refused.status_code == 422 and "<html" not in refused.text and 'id="reschedule-form"' in refused.text


def test_order_lines_snapshot_keeps_terms_after_a_policy_change(client, db_session, place, setup, make_user):
    from app.sales.policy_services import update_policy

    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    values = {
        "cancel_cutoff_hours": 1,
        "reschedule_cutoff_hours": 1,
        "late_cancel_fee_percent": 0,
        "no_show_fee_percent": 0,
        "deposit_percent": 0,
    }
    update_policy(setup["calipso"].category, values, by=make_user("gerente"))
    assert "Puedes cancelar sin costo hasta el 08/03 a las 14:00" in client.get(url(order)).text
    newer = place([("calipso", NEXT_MONDAY, "17:00", 1)])
    assert "Puedes cancelar sin costo hasta el 09/03 a las 16:00" in client.get(url(newer)).text
    assert db_session.get(ServiceLine, order.service_lines[0].id).order.policy_snapshot["politicas"]


def test_unknown_order_id_is_404(client):
    assert client.get(f"/ventas/reserva/{order_token(999999)}/cancelar/").status_code == 404


def test_manage_page_in_english(client, place):
    order = place([("calipso", NEXT_MONDAY, "14:00", 1)])
    page = client.get(url(order) + "?lang=en")
    assert "You can cancel free of charge until 08/03 at 14:00." in page.text
    assert "Cancel booking" in page.text and "Change date or time" in page.text
    confirm = client.get(url(order, "cancelar/"))  # the cookie keeps the language
    assert "We refund: $0" in confirm.text and "Yes, cancel my booking" in confirm.text


def test_a_late_flow_payment_never_reinstates_a_customer_cancellation(app, client, db_session, setup, monkeypatch):
    from tests.shop.test_order_page import checkout, fake_flow

    monkeypatch.setitem(app.config, "FLOW_MODE", "fake")
    resp = checkout(client, setup["calipso"])  # Flow, 02/03 14:00 for 2: nothing paid yet
    from app.sales.models import Order

    order = db_session.scalars(sa.select(Order)).one()
    assert cancel(client, order).status_code == 303
    _, paid = fake_flow(client, resp.headers["Location"], "pagar")  # the customer had Flow open in another tab
    db_session.expire_all()
    order = db_session.get(Order, order.id)
    assert order.is_cancelled and order.requires_refund and order.credit == 50000
    assert all(ln.status == "cancelada" for ln in order.service_lines)


@pytest.mark.parametrize("key", ["calipso", "relajacion", "arrayan"])
@pytest.mark.parametrize("deposit", [0, 30])
def test_each_kind_with_and_without_deposit_cancel_and_reschedule_inside_the_window(
    client, db_session, place, setup, make_category, make_user, key, deposit
):
    from app.sales.payment_services import record_payment
    from app.sales.policy_queries import amount_due_now, service_policy
    from app.sales.policy_services import update_policy

    service = setup[key]
    if service.category is None:
        service.category = make_category(name=f"Categoría de {service.name}")
        db_session.flush()
    values = {**service_policy(service), "deposit_percent": deposit}
    update_policy(service.category, values, by=make_user("gerente"))
    people = 2 if key != "relajacion" else 1
    hhmm = {"calipso": "14:00", "relajacion": "13:00", "arrayan": "16:00"}[key]
    order = place([(key, NEXT_MONDAY, hhmm, people)], pago="abono")
    due = amount_due_now(order)
    assert due == (order.total * deposit // 100 if deposit else order.total)
    record_payment(order, amount=due, method="transferencia", by=None)
    assert order.payment_status == ("parcial" if deposit else "pagado")
    new_day = date(2026, 3, 16)
    assert move(client, order, order.service_lines[0], new_day, hhmm).status_code == 303
    assert cancel(client, order).status_code == 303
    order = fresh(db_session, order)
    assert order.is_cancelled and order.credit == 0 and not order.requires_refund
    assert db_session.scalars(sa.select(GiftCard)).one().initial_amount == due
