"""Booking policies as data (self-service.md §1), deposits at checkout (§3) and the cancel/reschedule API (§6)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.core.signing import order_token
from app.sales.models import BookingPolicy, BookingPolicyChange, FlowTransaction, Order
from tests.conftest import ROLES

NEXT_MONDAY = date(2026, 3, 9)
HX = {"HX-Request": "true"}
POLICY_URL = "/ventas/configuracion/politicas/"


# --- policies page ------------------------------------------------------------------------------------------------


def policy_data(cat_id, **values):
    base = {
        "cancel_cutoff_hours": "24",
        "reschedule_cutoff_hours": "12",
        "late_cancel_fee_percent": "100",
        "no_show_fee_percent": "100",
        "deposit_percent": "0",
    }
    base.update({k: str(v) for k, v in values.items()})
    return {"categoria_id": str(cat_id), **{f"c{cat_id}-{k}": v for k, v in base.items()}}


@pytest.mark.parametrize("role", ["gerente", "admin"])
def test_policy_page_shows_defaults_and_saves_with_audit(login, db_session, booking_setup, make_category, role):
    c = login(role)
    cabins = make_category(name="Cabañas")
    tinas = booking_setup["calipso"].category
    page = c.get(POLICY_URL)
    assert page.status_code == 200 and "Políticas de reserva" in page.text
    assert f'id="policy-{cabins.id}"' in page.text and f'name="c{cabins.id}-deposit_percent"' in page.text
    assert re.search(rf'name="c{cabins.id}-cancel_cutoff_hours"[^>]*value="72"', page.text)  # spec default
    resp = c.post(POLICY_URL, data=policy_data(tinas.id, cancel_cutoff_hours=48, deposit_percent=30), headers=HX)
    assert resp.status_code == 200 and "Política guardada." in resp.text and "<html" not in resp.text
    row = db_session.scalars(sa.select(BookingPolicy).where(BookingPolicy.category_id == tinas.id)).one()
    assert (row.cancel_cutoff_hours, row.deposit_percent) == (48, 30)
    change = db_session.scalars(sa.select(BookingPolicyChange)).one()
    assert change.event_type == "policy_changed" and change.user_id == c.user.id
    assert "24 → 48" in change.description and "0 → 30" in change.description
    assert change.data == {
        "antes": {"cancel_cutoff_hours": 24, "deposit_percent": 0},
        "despues": {"cancel_cutoff_hours": 48, "deposit_percent": 30},
    }
    # the fragment also refreshes "Últimos cambios" without a reload (out-of-band swap)
    assert resp.text.lstrip().startswith(f'<form class="border rounded p-3 mb-3 policy-form" id="policy-{tinas.id}"')
    oob = re.search(r'<ul class="small" id="policy-changes" hx-swap-oob="true">(.*?)</ul>', resp.text, re.S)
    assert oob and "24 → 48" in oob.group(1) and c.user.username in oob.group(1)
    assert "24 → 48" in c.get(POLICY_URL).text  # listed under "Últimos cambios"
    same = c.post(POLICY_URL, data=policy_data(tinas.id, cancel_cutoff_hours=48, deposit_percent=30))
    assert same.status_code == 200 and db_session.scalar(sa.select(sa.func.count(BookingPolicyChange.id))) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deposit_percent", "101", "Ingrese un porcentaje entre 0 y 100."),
        ("late_cancel_fee_percent", "-1", "Ingrese un porcentaje entre 0 y 100."),
        ("no_show_fee_percent", "abc", "Ingrese un porcentaje entre 0 y 100."),
        ("cancel_cutoff_hours", "", "Ingrese un número de horas entre 0 y 1440."),
    ],
)
def test_policy_bad_values_are_422_in_spanish(login, db_session, booking_setup, field, value, message):
    c = login("gerente")
    tinas = booking_setup["calipso"].category
    resp = c.post(POLICY_URL, data=policy_data(tinas.id, **{field: value}), headers=HX)
    assert resp.status_code == 422 and message in resp.text and "hx-swap-oob" not in resp.text
    full = c.post(POLICY_URL, data=policy_data(tinas.id, **{field: value}))
    assert full.status_code == 422 and "<html" in full.text and message in full.text
    assert db_session.scalars(sa.select(BookingPolicyChange)).all() == []


def test_policy_unknown_category_is_404(login, booking_setup):
    assert login("admin").post(POLICY_URL, data=policy_data(999999)).status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("gerente", "admin")])
def test_policy_page_is_gerente_and_admin_only(login, booking_setup, role):
    c = login(role)
    tinas = booking_setup["calipso"].category
    assert c.get(POLICY_URL).status_code == 403
    assert c.post(POLICY_URL, data=policy_data(tinas.id)).status_code == 403


def test_ensure_booking_policies_seeds_spec_defaults(db_session, booking_setup, make_category, make_service):
    from app.sales.policy_services import ensure_booking_policies

    cabins = make_category(name="Cabañas")
    make_service(name="Cabaña Roble", service_type="cabana", category=cabins)
    assert ensure_booking_policies() == 2 and ensure_booking_policies() == 0
    rows = {p.category_id: p for p in db_session.scalars(sa.select(BookingPolicy))}
    cab = rows[cabins.id]
    assert (cab.cancel_cutoff_hours, cab.reschedule_cutoff_hours, cab.late_cancel_fee_percent) == (72, 48, 50)
    assert (cab.no_show_fee_percent, cab.deposit_percent) == (100, 50)
    tina = rows[booking_setup["calipso"].category_id]
    assert (tina.cancel_cutoff_hours, tina.reschedule_cutoff_hours, tina.deposit_percent) == (24, 12, 0)


# --- deposits at checkout -----------------------------------------------------------------------------------------


def checkout(client, service, day="2026-03-09", hora="16:00", people=2, **extra):
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": service.id, "fecha": day, "hora": hora, "cantidad_personas": people},
    )
    data = {
        "telefono": "9 8765 4321",
        "nombre": "María Pérez",
        "email": "maria@example.com",
        "metodo_pago": "flow",
        "acepta_terminos": "y",
        **extra,
    }
    return client.post("/ventas/complete-checkout/", data=data)


def test_checkout_offers_deposit_and_flow_charges_it_then_parcial(app, client, db_session, booking_setup, monkeypatch):
    monkeypatch.setitem(app.config, "FLOW_MODE", "fake")
    cabin = booking_setup["arrayan"]
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": cabin.id, "fecha": "2026-03-09", "hora": "16:00", "cantidad_personas": 2},
    )
    page = client.get("/ventas/checkout/")
    assert "Pagar abono de $45.000" in page.text and "Pagar total ($90.000)" in page.text
    resp = client.post(
        "/ventas/complete-checkout/",
        data={
            "telefono": "9 8765 4321",
            "nombre": "María Pérez",
            "email": "maria@example.com",
            "metodo_pago": "flow",
            "acepta_terminos": "y",
            "pago": "abono",
        },
    )
    assert resp.status_code == 303 and "/ventas/fake-flow/pay?token=" in resp.headers["Location"]
    tx = db_session.scalars(sa.select(FlowTransaction)).one()
    assert tx.amount == 45000
    from tests.shop.test_order_page import fake_flow

    _, paid = fake_flow(client, resp.headers["Location"], "pagar")
    assert "¡Pago Exitoso!" in paid.text
    db_session.expire_all()
    order = db_session.scalars(sa.select(Order)).one()
    assert (order.paid, order.balance_due, order.payment_status) == (45000, 45000, "parcial")
    page = client.get(f"/ventas/reserva/{order_token(order.id)}/")
    assert "Abono pagado. Saldo a pagar al llegar: $45.000" in page.text
    from app.comms.models import CommunicationLog
    from app.comms.render import render

    email = db_session.scalars(
        sa.select(CommunicationLog).where(
            CommunicationLog.message_type == "BOOKING_CONFIRMATION", CommunicationLog.communication_type == "EMAIL"
        )
    ).one()  # the deposit confirms the booking
    rendered = render(email)
    assert rendered.subject.startswith("Reserva confirmada") and "Saldo a pagar al llegar: $45.000" in rendered.text


def test_checkout_total_choice_charges_everything(app, client, db_session, booking_setup, monkeypatch):
    monkeypatch.setitem(app.config, "FLOW_MODE", "fake")
    resp = checkout(client, booking_setup["arrayan"], pago="total")
    assert resp.status_code == 303
    assert db_session.scalars(sa.select(FlowTransaction)).one().amount == 90000


def test_no_deposit_offer_for_tubs(client, booking_setup):
    calipso = booking_setup["calipso"]
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-09", "hora": "14:00", "cantidad_personas": 2},
    )
    page = client.get("/ventas/checkout/")
    assert page.status_code == 200 and "Pagar abono" not in page.text


def test_transfer_with_deposit_asks_the_deposit_and_confirms(client, db_session, booking_setup):
    resp = checkout(client, booking_setup["arrayan"], metodo_pago="transferencia", pago="abono")
    assert resp.status_code == 303
    order = db_session.scalars(sa.select(Order)).one()
    assert order.payment_due_at is None or order.payment_due_at > order.created_at
    page = client.get(resp.headers["Location"])
    assert "Monto: $45.000 (abono del 50 %" in page.text


# --- the desk sees deposits as what they are ---------------------------------------------------------------------


def test_board_and_caja_diaria_show_the_deposit(client, login, db_session, booking_setup):
    resp = checkout(client, booking_setup["arrayan"], metodo_pago="transferencia", pago="abono")
    assert resp.status_code == 303
    order = db_session.scalars(sa.select(Order)).one()
    from app.sales.payment_services import record_payment

    record_payment(order, amount=45000, method="transferencia", by=None)
    desk = login("gerente")
    board = desk.get("/ventas/recepcion/?fecha=2026-03-09")
    assert board.status_code == 200
    row = re.search(r'<tr id="line-\d+".*?</tr>', board.text, re.S).group(0)
    assert "Abono pagado" in row and "$45.000" in row and "al llegar" in row
    caja = desk.get("/ventas/caja-diaria/?fecha=2026-03-02")
    assert caja.status_code == 200
    payment_row = re.search(r'<tr id="payment-\d+".*?</tr>', caja.text, re.S).group(0)
    assert "Abono" in payment_row and "$45.000" in payment_row
