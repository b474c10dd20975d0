"""Every confirmation and reminder carries the manage-booking link (self-service.md §2): the signed order page where
the customer cancels or reschedules."""

from __future__ import annotations

from datetime import date

import pytest

from app.automations.jobs import run_automation
from app.comms.dispatch_services import dispatch_outbox
from app.core.signing import order_token
from tests.automations.conftest import local
from tests.comms.conftest import RecordingEmail, RecordingSms


@pytest.fixture
def sms():
    return RecordingSms()


@pytest.fixture
def email():
    return RecordingEmail()


def test_reminder_sms_and_email_carry_the_manage_link(db_session, freeze_clock, make_client, make_order, sms, email):
    freeze_clock(local(2026, 3, 2, 10, 0))
    order = make_order(
        client=make_client(name="Camila Rojas"), lines=[(date(2026, 3, 3), "09:00")], created_at=local(2026, 2, 1)
    )
    run_automation("reminders")
    dispatch_outbox(sms=sms, email=email)
    link = f"/ventas/reserva/{order_token(order.id)}/"
    assert [m for m in email.sent if link in m["text"] and link in m["html"]]
    assert [s for s in sms.sent if link in s["text"]]


def test_confirmation_sms_and_email_carry_the_manage_link(db_session, freeze_clock, booking_setup, sms, email):
    from app.sales import checkout_services
    from app.sales import services as sales_services

    order = checkout_services.place_order(
        lines=[
            sales_services.LineRequest(
                service_id=booking_setup["calipso"].id, day=date(2026, 3, 9), hhmm="14:00", people=1
            )
        ],
        data=checkout_services.CheckoutData(
            telefono="+56987654321", nombre="Camila Rojas", email="c@example.com", metodo_pago="transferencia"
        ),
        origin="web",
    )
    freeze_clock(local(2026, 3, 2, 10, 30))  # after the confirmation's debounce
    dispatch_outbox(sms=sms, email=email)
    link = f"/ventas/reserva/{order_token(order.id)}/"
    assert [m for m in email.sent if link in m["text"]]
    assert [s for s in sms.sent if link in s["text"]]
