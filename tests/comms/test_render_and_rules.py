"""Renderer registry and SMS templates at send time, built-in relevance (§5 row 0), unsubscribe rate limit,
constant statement counts of the log pages."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.comms.dispatch_services import dispatch_outbox
from app.comms.models import CommunicationLog, InboundSms, SmsTemplate
from app.comms.outbox_services import enqueue
from app.comms.render import NoRenderer, render, render_sms_template, unsubscribe_token
from app.comms.sms_template_services import DEFAULT_TEXT
from app.core.clock import LOCAL_TZ
from app.sales.models import Order

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL_TZ)


def row_for(db_session, key, **kw):
    enqueue(idempotency_key=key, triggered_by="test", **kw)
    return db_session.scalar(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key))


def test_sms_template_active_then_default(db_session, make_client, freeze_clock):
    freeze_clock(NOON)
    c = make_client(name="Camila Rojas Pérez")
    row = row_for(db_session, "k", message_type="BOOKING_CANCELLED", channel="SMS", client_id=c.id)
    text = render_sms_template(row, {"reserva": "77"})
    assert text.startswith(DEFAULT_TEXT["BOOKING_CANCELLED"].replace("{nombre}", "Camila").replace("{reserva}", "77"))
    assert " Baja: http://127.0.0.1:5000/ventas/baja/" in text and not text.endswith("STOP")
    db_session.add(
        SmsTemplate(
            name="Corta",
            message_type="BOOKING_CANCELLED",
            is_active=True,
            content="{apellido}: #{reserva} cancelada {desconocida}",
        )
    )
    db_session.flush()
    assert render_sms_template(row, {"reserva": "77"}).startswith("Rojas Pérez: #77 cancelada  Baja:")


def test_unknown_renderer_raises_and_is_retried(db_session, make_client, freeze_clock):
    freeze_clock(NOON)
    row = row_for(db_session, "k2", message_type="GIFT_CARD", channel="EMAIL", client_id=make_client().id)
    with pytest.raises(NoRenderer):
        render(row)
    dispatch_outbox(sms=object(), email=object())
    db_session.refresh(row)
    assert row.status == "PENDING" and "NoRenderer" in row.last_error


@pytest.mark.parametrize(
    ("message_type", "booking", "payment", "reason"),
    [
        ("BOOKING_REMINDER", "cancelada", "pendiente", "order_cancelled"),
        ("OTHER", "pendiente", "cancelado", "order_cancelled"),
        ("BOOKING_CANCELLED", "cancelada", "cancelado", None),
        ("PAYMENT_CONFIRMATION", "pendiente", "parcial", "stale"),
        ("PAYMENT_CONFIRMATION", "pendiente", "pagado", None),
    ],
)
def test_builtin_relevance(db_session, make_client, freeze_clock, message_type, booking, payment, reason):
    from tests.comms.conftest import RecordingSms

    freeze_clock(NOON)
    c = make_client()
    order = Order(client_id=c.id, origin="recepcion", booking_status=booking, payment_status=payment)
    db_session.add(order)
    db_session.flush()
    row = row_for(
        db_session,
        "k3",
        message_type=message_type,
        channel="SMS",
        client_id=c.id,
        order_id=order.id,
        payload={"text": "x"},
    )
    from app.comms.render import Rendered, _renderers

    saved = dict(_renderers)
    _renderers.setdefault(message_type, lambda log: Rendered(text="ok"))
    try:
        dispatch_outbox(sms=RecordingSms())
    finally:
        _renderers.clear()
        _renderers.update(saved)
    db_session.refresh(row)
    assert (row.status, row.reason) == (("BLOCKED", reason) if reason else ("SENT", None))


def test_unsubscribe_pages_are_rate_limited(limited_app, db_session, make_client, freeze_clock):
    freeze_clock(NOON)
    row = row_for(db_session, "k4", message_type="OTHER", channel="SMS", client_id=make_client().id)
    db_session.commit()
    c = limited_app.test_client()
    url = f"/ventas/baja/{unsubscribe_token(row.id)}/"
    codes = [c.get(url).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    assert "Demasiadas solicitudes. Intente nuevamente en un minuto." in c.get(url).text


def test_log_pages_statement_count_is_constant(login, db_session, make_client, freeze_clock, count_statements):
    freeze_clock(NOON)
    c = login("admin")

    def add(n, start):
        for i in range(start, start + n):
            client = make_client()
            row_for(db_session, f"s{i}", message_type="OTHER", channel="SMS", client_id=client.id)
            db_session.add(
                InboundSms(phone=client.phone, text="hola", dedupe_key=f"d{i}", client_id=client.id, received_at=NOON)
            )
        db_session.commit()

    add(2, 0)
    few = [
        count_statements(lambda u=u: c.get(u))
        for u in ("/ventas/comunicaciones/", "/ventas/comunicaciones/respuestas/")
    ]
    add(20, 2)
    many = [
        count_statements(lambda u=u: c.get(u))
        for u in ("/ventas/comunicaciones/", "/ventas/comunicaciones/respuestas/")
    ]
    assert few == many


@pytest.mark.parametrize("token", ["².abc", "١٢.abc", "-1.abc", "1234567890123.abc", ""])
def test_malformed_unsubscribe_tokens_are_refused_not_crashing(token):
    from app.comms.render import log_id_from_token

    assert log_id_from_token(token) is None  # "²".isdigit() is True but int("²") raises
