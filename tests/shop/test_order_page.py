"""Pages after payment (D13, D25): retry after a rejected Flow payment, switch to transfer, deadline, bank details,
.ics and address; the fake Flow returns to the host the browser uses; one order per checkout submission key."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from app.core import clock
from app.core.signing import order_token
from app.sales.models import FlowTransaction, Order, Payment

HX = {"HX-Request": "true"}


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


def checkout(client, calipso, method="flow", base_url=None, **extra):
    kw = {"base_url": base_url} if base_url else {}
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "14:00", "cantidad_personas": 2},
        **kw,
    )
    data = {
        "telefono": "9 8765 4321",
        "nombre": "María Pérez",
        "email": "maria@example.com",
        "metodo_pago": method,
        "acepta_terminos": "y",
        **extra,
    }
    return client.post("/ventas/complete-checkout/", data=data, **kw)


def fake_flow(client, pay_url: str, action: str):
    """The customer on the fake Flow page presses `action`; returns the return page Flow's form posts to."""
    token = pay_url.split("token=")[1]
    back = client.post("/ventas/fake-flow/pay", data={"token": token, "accion": action})
    action_url = re.search(r'<form method="post" action="([^"]+)" data-autosubmit', back.text).group(1)
    return action_url, client.post(action_url, data={"token": token})


def test_rejected_flow_offers_retry_and_transfer_until_the_deadline_then_retry_pays(client, calipso, db_session):
    resp = checkout(client, calipso)
    assert resp.status_code == 303 and "/ventas/fake-flow/pay?token=" in resp.headers["Location"]
    order = db_session.scalars(sa.select(Order)).one()
    _, rejected = fake_flow(client, resp.headers["Location"], "rechazar")
    assert "Pago Rechazado" in rejected.text
    assert "Guardamos tu reserva hasta el <strong>02/03/2026 11:00</strong>" in rejected.text  # 10:00 + 60 min
    token = order_token(order.id)
    assert f'action="/ventas/reserva/{token}/pagar-flow/"' in rejected.text and "Reintentar pago" in rejected.text
    assert f'action="/ventas/reserva/{token}/pagar-transferencia/"' in rejected.text
    assert rejected.text.count('name="submission_key"') == 2
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', rejected.text).group(1)
    retry = client.post(f"/ventas/reserva/{token}/pagar-flow/", data={"submission_key": key})
    assert retry.status_code == 303 and "/ventas/fake-flow/pay?token=" in retry.headers["Location"]
    again = client.post(f"/ventas/reserva/{token}/pagar-flow/", data={"submission_key": key}, headers=HX)
    assert again.status_code == 204 and again.headers["HX-Redirect"] == f"/ventas/reserva/{token}/"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(FlowTransaction)) == 2  # one per key
    _, paid = fake_flow(client, retry.headers["Location"], "pagar")
    assert "¡Pago Exitoso!" in paid.text and "Reintentar pago" not in paid.text
    assert db_session.scalar(sa.select(sa.func.sum(Payment.amount))) == 50000


def test_switch_to_transfer_keeps_the_deadline_and_shows_bank_details(app, client, calipso, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "BANK_TRANSFER_INSTRUCTIONS", "Banco Ejemplo\nCuenta corriente 123-456")
    resp = checkout(client, calipso)
    order = db_session.scalars(sa.select(Order)).one()
    fake_flow(client, resp.headers["Location"], "cancelar")
    token = order_token(order.id)
    switched = client.post(f"/ventas/reserva/{token}/pagar-transferencia/", data={"submission_key": "tr-1"})
    assert switched.status_code == 303 and switched.headers["Location"].endswith("#transfer-instructions")
    db_session.expire_all()
    assert order.checkout_method == "transferencia" and order.payment_status_label == "Pendiente de pago"
    page = client.get(f"/ventas/reserva/{token}/").text
    assert "Paga antes del 02/03/2026 11:00" in page
    assert "Banco Ejemplo<br>Cuenta corriente 123-456" in page and "Monto: $50.000" in page


def test_transfer_order_page_deadline_calendar_and_address(app, client, calipso, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "TRANSFER_PAYMENT_TTL_HOURS", 24)
    resp = checkout(client, calipso, method="transferencia")
    page = client.get(resp.headers["Location"]).text
    assert 'id="payment-deadline"' in page and "Paga antes del 03/03/2026 10:00" in page
    assert "Solicita los datos bancarios" in page  # no BANK_TRANSFER_INSTRUCTIONS in the test config
    assert "Río Pescado Km 4, Puerto Varas" in page
    assert "https://www.google.com/maps/search/?api=1&amp;query=Aremko+Aguas+Calientes" in page
    order = db_session.scalars(sa.select(Order)).one()
    token = order_token(order.id)
    assert f'href="/ventas/reserva/{token}/calendario.ics"' in page
    ics = client.get(f"/ventas/reserva/{token}/calendario.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert ics.headers["Content-Disposition"] == f'attachment; filename="reserva-{order.id}.ics"'
    event = next(c for c in Calendar.from_ical(ics.data).walk("VEVENT"))
    assert "Tina Calipso" in str(event["SUMMARY"]) and event.decoded("DTSTART").hour == 14
    assert client.get("/ventas/reserva/nope/calendario.ics").status_code == 404
    clock.freeze(clock.now() + timedelta(days=2))  # past the deadline: no more pay buttons
    late = client.get(f"/ventas/reserva/{token}/").text
    assert "El plazo de pago venció el 03/03/2026 10:00" in late and "Pagar con Flow" not in late
    refused = client.post(f"/ventas/reserva/{token}/pagar-flow/")
    assert (
        refused.status_code == 303 and db_session.scalar(sa.select(sa.func.count()).select_from(FlowTransaction)) == 0
    )


def test_fake_flow_returns_to_the_port_the_browser_uses(app, client, calipso, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    resp = checkout(client, calipso, base_url="http://127.0.0.1:5141")
    action_url, back = fake_flow(client, resp.headers["Location"], "pagar")
    assert action_url == "http://127.0.0.1:5141/ventas/payment/return/"
    assert "¡Pago Exitoso!" in back.text


def test_production_flow_callbacks_use_the_public_base_url(app, monkeypatch):
    from app.sales.flow_services import callback_urls

    monkeypatch.setitem(app.config, "FLOW_MODE", "sandbox")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://reservas.aremko.cl")
    with app.test_request_context("/", base_url="http://10.0.0.5:8000"):
        assert callback_urls() == (
            "https://reservas.aremko.cl/ventas/payment/confirmation/",
            "https://reservas.aremko.cl/ventas/payment/return/",
        )


def test_same_checkout_submission_twice_places_one_order(client, calipso, db_session):
    first = checkout(client, calipso, method="transferencia", submission_key="checkout-key-1")
    second = client.post(
        "/ventas/complete-checkout/",
        headers=HX,
        data={
            "telefono": "9 8765 4321",
            "nombre": "María Pérez",
            "email": "maria@example.com",
            "metodo_pago": "transferencia",
            "acepta_terminos": "y",
            "submission_key": "checkout-key-1",
        },
    )
    assert first.status_code == 303 and second.status_code == 204
    assert second.headers["HX-Redirect"] == first.headers["Location"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_footer_links_the_gift_card_balance_and_demo_has_bank_details(client, booking_setup, monkeypatch):
    assert '<a href="/ventas/giftcard/saldo/">Consultar saldo de gift card</a>' in client.get("/").text
    from config import DevConfig

    monkeypatch.delenv("BANK_TRANSFER_INSTRUCTIONS", raising=False)
    assert "Cuenta corriente" in DevConfig().BANK_TRANSFER_INSTRUCTIONS
