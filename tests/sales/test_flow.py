"""Flow.cl: signature vector, the fake's round trip, idempotent confirmations, errors, late payments."""

import hashlib
import hmac
from datetime import datetime
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.core.clock import LOCAL_TZ
from app.core.signing import order_token
from app.sales import cart_services, checkout_services
from app.sales import flow_services as flow_service
from app.sales import services as sales_services
from app.sales.fake_flow import FAKE_API_KEY, FAKE_SECRET
from app.sales.flow import FlowClient, FlowError, FlowSettings, FlowUnavailable, sign, verify
from app.sales.models import FakeFlowPayment, FlowTransaction, Payment

MONDAY = datetime(2026, 3, 2).date()


def test_signature_vector():
    params = {"apiKey": "XXXX-TEST-KEY", "commerceOrder": "A123-1", "currency": "CLP", "amount": 5000}
    expected = hmac.new(
        b"test-secret", b"amount5000apiKeyXXXX-TEST-KEYcommerceOrderA123-1currencyCLP", hashlib.sha256
    ).hexdigest()
    assert sign(params, "test-secret") == expected
    assert sign({**params, "s": "ignored"}, "test-secret") == expected
    assert verify({**params, "s": expected}, "test-secret")
    assert not verify({**params, "amount": 5001, "s": expected}, "test-secret")


@pytest.fixture
def flow_order(booking_setup):
    cart = cart_services.create_cart()
    cart_services.hold_slot(
        cart, sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="14:00", people=2)
    )
    return checkout_services.checkout_cart(
        cart,
        checkout_services.CheckoutData(
            telefono="+56987654321", nombre="María Pérez", email="maria@example.com", metodo_pago="flow"
        ),
    )


def started(order, db_session):
    url = flow_service.start_flow_payment(order)
    tx = db_session.scalars(
        sa.select(FlowTransaction).where(FlowTransaction.order_id == order.id).order_by(FlowTransaction.id.desc())
    ).first()
    fake = db_session.scalars(sa.select(FakeFlowPayment).where(FakeFlowPayment.token == tx.token)).one()
    return url, tx, fake


def test_start_charges_the_balance_with_a_unique_reference(flow_order, db_session):
    url, tx, fake = started(flow_order, db_session)
    assert url.startswith("/ventas/fake-flow/pay?token=") and tx.token in url
    assert (tx.commerce_order, tx.amount, tx.status) == (f"A{flow_order.id}-1", 50000, "creada")
    assert fake.subject == f"Reserva Aremko #{flow_order.id}" and fake.amount == 50000
    _, tx2, _ = started(flow_order, db_session)
    assert tx2.commerce_order == f"A{flow_order.id}-2"


def test_replayed_confirmation_records_one_payment(client, flow_order, db_session):
    _, tx, fake = started(flow_order, db_session)
    fake.status = 2
    db_session.flush()
    answers = [client.post("/ventas/payment/confirmation/", data={"token": tx.token}) for _ in range(10)]
    assert {(a.status_code, a.text) for a in answers} == {(200, "Payment Confirmed")}
    payments = db_session.scalars(sa.select(Payment).where(Payment.order_id == flow_order.id)).all()
    assert len(payments) == 1 and payments[0].amount == 50000 and payments[0].method == "flow"
    db_session.refresh(flow_order)
    assert flow_order.payment_status == "pagado" and flow_order.balance_due == 0
    assert payments[0].recorded_by.username == "sistema"


def test_wrong_amount_records_nothing(client, flow_order, db_session):
    _, tx, fake = started(flow_order, db_session)
    fake.status, fake.amount = 2, 100
    db_session.flush()
    resp = client.post("/ventas/payment/confirmation/", data={"token": tx.token})
    assert (resp.status_code, resp.text) == (200, "Amount mismatch")
    db_session.refresh(tx)
    assert tx.status == "monto_incorrecto"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_unknown_and_missing_token(client, booking_setup):
    assert (client.post("/ventas/payment/confirmation/", data={"token": "nope"}).status_code) == 404
    missing = client.post("/ventas/payment/confirmation/", data={})
    assert (missing.status_code, missing.text) == (400, "Missing token")


def test_rejected_and_pending_states(client, flow_order, db_session):
    _, tx, fake = started(flow_order, db_session)
    assert (
        client.post("/ventas/payment/confirmation/", data={"token": tx.token}).text == "Payment Status Pending/Unknown"
    )
    fake.status = 3
    db_session.flush()
    assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).text == "Payment Rejected/Cancelled"
    db_session.refresh(tx)
    assert tx.status == "rechazada"


def test_provider_timeout_is_502_and_a_retry_succeeds(client, flow_order, db_session, monkeypatch):
    _, tx, fake = started(flow_order, db_session)
    fake.status = 2
    db_session.flush()

    class Down:
        def get_status(self, token):
            raise FlowUnavailable("timeout")

    with monkeypatch.context() as m:
        m.setattr(flow_service, "flow_gateway", lambda: Down())
        resp = client.post("/ventas/payment/confirmation/", data={"token": tx.token})
    assert (resp.status_code, resp.text) == (502, "Flow API request failed")
    assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).text == "Payment Confirmed"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_expiry_cancels_unpaid_and_late_payment_reinstates(client, flow_order, db_session, freeze_clock):
    _, tx, fake = started(flow_order, db_session)
    freeze_clock(datetime(2026, 3, 2, 11, 1, tzinfo=LOCAL_TZ))
    assert flow_service.expire_unpaid_orders() == 1
    db_session.refresh(flow_order)
    assert flow_order.payment_status == "cancelado" and flow_order.cancel_reason == "Pago Flow no completado"
    fake.status = 2  # the customer paid after all; 14:00 is still free
    db_session.flush()
    assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).text == "Payment Confirmed"
    db_session.refresh(flow_order)
    assert not flow_order.is_cancelled and flow_order.payment_status == "pagado"
    assert [ln.status for ln in flow_order.service_lines] == ["pendiente"]


def test_late_payment_when_slot_was_resold_requires_refund(client, flow_order, db_session, freeze_clock, booking_setup):
    _, tx, fake = started(flow_order, db_session)
    freeze_clock(datetime(2026, 3, 2, 11, 1, tzinfo=LOCAL_TZ))
    flow_service.expire_unpaid_orders()
    checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="14:00", people=1)],
        data=checkout_services.CheckoutData(telefono="+56911111111", nombre="Otra Persona"),
        origin="recepcion",
    )
    fake.status = 2
    db_session.flush()
    assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).text == "Payment Confirmed"
    db_session.refresh(flow_order)
    assert flow_order.is_cancelled and flow_order.requires_refund and flow_order.credit == 50000


def test_expiry_records_a_payment_flow_already_took(flow_order, db_session, freeze_clock):
    _, tx, fake = started(flow_order, db_session)
    fake.status = 2
    db_session.flush()
    freeze_clock(datetime(2026, 3, 2, 11, 1, tzinfo=LOCAL_TZ))
    assert flow_service.expire_unpaid_orders() == 0
    db_session.refresh(flow_order)
    assert flow_order.payment_status == "pagado"


def test_fake_pay_page_round_trip_and_return_page(client, flow_order, db_session):
    url, tx, _ = started(flow_order, db_session)
    page = client.get(url)
    assert page.status_code == 200 and "$50.000" in page.text and "Rechazar" in page.text
    back = client.post("/ventas/fake-flow/pay", data={"token": tx.token, "accion": "pagar"})
    assert "data-autosubmit" in back.text and "/ventas/payment/return/" in back.text
    ret = client.post("/ventas/payment/return/", data={"token": tx.token})
    assert ret.status_code == 200 and "¡Pago Exitoso!" in ret.text and f"Reserva #{flow_order.id}" in ret.text
    assert client.get(f"/ventas/payment/return/?token={tx.token}").status_code == 200
    none = client.get("/ventas/payment/return/")
    assert none.status_code == 400 and "No se recibió información de la transacción" in none.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_fake_refused_outside_fake_mode(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "FLOW_MODE", "off")
    assert client.get("/ventas/fake-flow/pay?token=x").status_code == 404


class FlaskClientHTTP:
    """requests-like adapter over the Flask test client, to run the real FlowClient against the fake API."""

    def __init__(self, client):
        self.client = client

    def post(self, url, data, timeout):
        return _Resp(self.client.post(urlsplit(url).path, data=data))

    def get(self, url, params, timeout):
        return _Resp(self.client.get(urlsplit(url).path, query_string=params))


class _Resp:
    def __init__(self, r):
        self.status_code = r.status_code
        self._r = r

    def json(self):
        return self._r.get_json()


def test_real_client_against_fake_api_shapes(client, booking_setup):
    http = FlaskClientHTTP(client)
    flow = FlowClient(
        FlowSettings(
            FAKE_API_KEY,
            FAKE_SECRET,
            "http://x/ventas/fake-flow/api/payment/create",
            "http://x/ventas/fake-flow/api/payment/getStatus",
        ),
        http=http,
    )
    created = flow.create_payment(
        order_ref="A1-1",
        subject="Reserva Aremko #1",
        amount=5000,
        email="a@example.com",
        url_confirmation="http://x/c",
        url_return="http://x/r",
    )
    assert set(created) == {"url", "token", "flow_order"}
    status = flow.get_status(created["token"])
    assert (status["status"], status["commerce_order"], status["amount"]) == (1, "A1-1", 5000)
    bad = FlowClient(
        FlowSettings(
            FAKE_API_KEY,
            "wrong-secret",
            "http://x/ventas/fake-flow/api/payment/create",
            "http://x/ventas/fake-flow/api/payment/getStatus",
        ),
        http=http,
    )
    with pytest.raises(FlowError) as exc:
        bad.get_status(created["token"])
    assert exc.value.code == 108


def test_api_flow_create(client, flow_order, db_session):
    token = order_token(flow_order.id)
    ok = client.post("/ventas/api/flow/create/", json={"reserva_id": flow_order.id, "token": token})
    assert ok.status_code == 200 and ok.get_json()["url"].endswith("?token=" + ok.get_json()["token"])
    assert client.post("/ventas/api/flow/create/", json={"reserva_id": flow_order.id, "token": "x"}).status_code == 403
    assert client.post("/ventas/api/flow/create/", json={}).get_json() == {"error": "Missing reserva_id"}
    assert client.post("/ventas/api/flow/create/", data="{", content_type="application/json").get_json() == {
        "error": "Invalid JSON body"
    }
    assert (
        client.post("/ventas/api/flow/create/", json={"reserva_id": 999999, "token": order_token(999999)}).status_code
        == 404
    )
    assert client.get("/ventas/api/flow/create/").get_json() == {"error": "Invalid method"}
    sales_services.cancel_order(flow_order, reason="prueba")
    assert (
        client.post("/ventas/api/flow/create/", json={"reserva_id": flow_order.id, "token": token}).status_code == 409
    )


def test_api_flow_create_disabled(app, client, flow_order, monkeypatch):
    monkeypatch.setitem(app.config, "FLOW_MODE", "off")
    resp = client.post(
        "/ventas/api/flow/create/", json={"reserva_id": flow_order.id, "token": order_token(flow_order.id)}
    )
    assert resp.status_code == 503 and resp.get_json() == {"error": "Flow payments are disabled"}
