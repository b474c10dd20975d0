"""Booking services on the real database: spec catalog.md §6 and booking.md §4, §5, §12."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import ServiceBlock
from app.clients.models import Client, ClientEvent, ClientUpdateRequest
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.core.errors import ValidationError
from app.sales import cart_services, checkout_services, discount_services
from app.sales import services as sales_services
from app.sales.availability import slot_availability
from app.sales.models import Order
from app.sales.queries import load_slot_context

MONDAY = date(2026, 3, 2)


def req(service, hhmm="14:00", people=2, day=MONDAY, **kw):
    return sales_services.LineRequest(service_id=service.id, day=day, hhmm=hhmm, people=people, **kw)


def data(phone="+56987654321", **kw):
    values = dict(telefono=phone, nombre="María Pérez", email="maria@example.com", metodo_pago="transferencia")
    values.update(kw)
    return checkout_services.CheckoutData(**values)


def hours(service, day=MONDAY, **kw):
    return {e.hora: e for e in slot_availability(load_slot_context(service, day, **kw))}


def test_hold_consumes_capacity_and_snapshots_price(booking_setup):
    calipso = booking_setup["calipso"]
    cart_a = cart_services.create_cart()
    hold = cart_services.hold_slot(cart_a, req(calipso))
    assert (hold.unit_price, hold.pricing_rule, hold.subtotal) == (25000, "por_persona", 50000)
    assert hold.expires_at == clock.now() + timedelta(minutes=15)
    assert hours(calipso)["14:00"].motivo == "sin_cupo"
    cart_b = cart_services.create_cart()
    with pytest.raises(sales_services.SlotUnavailable, match="Horario agotado."):
        cart_services.hold_slot(cart_b, req(calipso))


def test_expired_hold_stops_counting_before_cleanup_and_checkout_rechecks(booking_setup, freeze_clock):
    calipso = booking_setup["calipso"]
    cart_a = cart_services.create_cart()
    cart_services.hold_slot(cart_a, req(calipso))
    freeze_clock(datetime(2026, 3, 2, 10, 16, tzinfo=LOCAL_TZ))
    assert hours(calipso)["14:00"].reservable  # expired: free even before the job
    order = checkout_services.checkout_cart(cart_a, data())  # nobody took it: accepted
    assert order.services_total == 50000 and order.service_lines[0].start_time == "14:00"


def test_someone_else_took_the_expired_slot(booking_setup, freeze_clock):
    calipso = booking_setup["calipso"]
    cart_a = cart_services.create_cart()
    cart_services.hold_slot(cart_a, req(calipso))
    freeze_clock(datetime(2026, 3, 2, 10, 16, tzinfo=LOCAL_TZ))
    cart_services.hold_slot(cart_services.create_cart(), req(calipso))  # B
    with pytest.raises(sales_services.SlotUnavailable) as exc:
        checkout_services.checkout_cart(cart_a, data())
    assert "Tina Calipso 02/03/2026 14:00" in exc.value.message


def test_release_job_keeps_the_line_and_drops_idle_carts(booking_setup, freeze_clock, db_session):
    calipso = booking_setup["calipso"]
    cart = cart_services.create_cart()
    hold = cart_services.hold_slot(cart, req(calipso))
    freeze_clock(datetime(2026, 3, 2, 10, 20, tzinfo=LOCAL_TZ))
    assert cart_services.release_expired_holds() == 1
    db_session.refresh(hold)
    assert hold.released_at is not None and cart.holds == [hold]
    freeze_clock(datetime(2026, 3, 10, 10, 20, tzinfo=LOCAL_TZ))
    cart_services.release_expired_holds()
    assert cart_services.get_cart(cart.token) is None


def test_cancelled_order_frees_the_slot(booking_setup):
    calipso = booking_setup["calipso"]
    order = checkout_services.place_order(lines=[req(calipso)], data=data(), origin="recepcion", staff=True)
    assert not hours(calipso)["14:00"].reservable
    sales_services.cancel_order(order, reason="cliente no puede asistir")
    assert hours(calipso)["14:00"].reservable
    assert order.payment_status == "cancelado" and order.booking_status == "cancelada"


def test_two_lines_of_one_order_for_one_slot_both_count(booking_setup):
    grande = booking_setup["grande"]  # capacity 2
    checkout_services.place_order(lines=[req(grande, "19:00"), req(grande, "19:00")], data=data(), origin="recepcion")
    with pytest.raises(sales_services.SlotUnavailable):
        checkout_services.place_order(lines=[req(grande, "19:00")], data=data(phone="+56911111111"), origin="recepcion")
    with pytest.raises(sales_services.SlotUnavailable):
        checkout_services.place_order(
            lines=[req(booking_setup["calipso"]), req(booking_setup["calipso"])], data=data(), origin="recepcion"
        )


def test_block_and_people_range(booking_setup, db_session):
    calipso = booking_setup["calipso"]
    db_session.add(
        ServiceBlock(service_id=None, start_date=date(2026, 3, 10), end_date=date(2026, 3, 12), reason="Mantención")
    )
    db_session.flush()
    assert all(e.motivo == "bloqueado" for e in hours(calipso, day=date(2026, 3, 11)).values()) is True
    with pytest.raises(sales_services.SlotUnavailable, match="La cantidad de personas debe estar entre 1 y 4."):
        cart_services.hold_slot(cart_services.create_cart(), req(calipso, people=5))


def test_massage_assignment_and_cross_service_provider_conflict(booking_setup):
    s = booking_setup
    first = checkout_services.place_order(
        lines=[req(s["relajacion"], "13:00", 1, provider_id=s["ana"].id)], data=data(), origin="recepcion"
    )
    assert first.service_lines[0].provider_id == s["ana"].id
    second = checkout_services.place_order(
        lines=[req(s["relajacion"], "13:00", 1)], data=data(phone="+56911111111"), origin="recepcion"
    )
    assert second.service_lines[0].provider_id == s["berta"].id
    with pytest.raises(sales_services.SlotUnavailable) as exc:
        checkout_services.place_order(
            lines=[req(s["relajacion"], "13:00", 1)], data=data(phone="+56922222222"), origin="recepcion"
        )
    assert exc.value.failures[0][1].mensaje == "No hay terapeuta disponible en ese horario."
    # Descontracturante is done only by Ana, who is busy 13:00-14:00 with Relajación
    assert hours(s["descontracturante"])["13:00"].motivo == "sin_terapeuta"
    assert hours(s["descontracturante"])["14:15"].reservable


def test_cabin_is_flat_and_price_snapshot_survives_catalogue_change(booking_setup):
    s = booking_setup
    order = checkout_services.place_order(
        lines=[req(s["arrayan"], "16:00", 2), req(s["calipso"])], data=data(), origin="recepcion"
    )
    assert [ln.subtotal for ln in order.service_lines] == [90000, 50000]
    assert all(type(v) is int for v in (order.total, order.paid, order.balance_due, order.services_total))
    s["calipso"].base_price = 30000
    sales_services.recalculate_order(order)
    assert order.total == 140000 and order.service_lines[1].unit_price == 25000


def test_checkout_creates_client_with_consent_choice_and_audit(booking_setup, db_session):
    cart = cart_services.create_cart()
    cart_services.hold_slot(cart, req(booking_setup["calipso"]))
    order = checkout_services.checkout_cart(
        cart, data(phone="9 8765 4321", acepta_marketing=False, documento_identidad="12.345.678-5")
    )
    client = db_session.get(Client, order.client_id)
    assert client.phone == "+56987654321" and client.document_id == "12345678-5" and client.origin == "web"
    assert not client.preferences.accepts_promotional and client.preferences.accepts_booking_reminders
    assert (order.contact_phone, order.checkout_method, order.payment_status) == (
        "+56987654321",
        "transferencia",
        "pendiente",
    )
    assert cart.converted_order_id == order.id and cart.holds == []
    events = db_session.scalars(
        sa.select(ClientEvent.event_type).where(ClientEvent.client_id == client.id).order_by(ClientEvent.id)
    ).all()
    assert events == ["client_created", "order_created", "line_added"]
    # double submit within 10 minutes returns the same order
    assert checkout_services.checkout_cart(cart, data()) is order


def test_known_client_is_never_overwritten(booking_setup, db_session, make_client):
    known = make_client(name="María Pérez", phone="+56987654321", email="old@example.com")
    cart = cart_services.create_cart()
    cart_services.hold_slot(cart, req(booking_setup["calipso"]))
    order = checkout_services.checkout_cart(cart, data(email="new@example.com", nombre="María José Pérez"))
    assert order.client_id == known.id and known.email == "old@example.com" and known.name == "María Pérez"
    update = db_session.scalars(sa.select(ClientUpdateRequest)).one()
    assert update.proposed == {
        "nombre": {"actual": "María Pérez", "propuesto": "María José Pérez"},
        "email": {"actual": "old@example.com", "propuesto": "new@example.com"},
    }
    assert order.contact_email == "new@example.com"


def test_flow_checkout_sets_payment_deadline(booking_setup):
    cart = cart_services.create_cart()
    cart_services.hold_slot(cart, req(booking_setup["calipso"]))
    order = checkout_services.checkout_cart(cart, data(metodo_pago="flow"))
    assert order.payment_due_at == clock.now() + timedelta(minutes=60)
    assert order.payment_status_label == "Esperando pago Flow"


def test_checkout_validation_writes_nothing(booking_setup, db_session):
    cart = cart_services.create_cart()
    cart_services.hold_slot(cart, req(booking_setup["calipso"]))
    with pytest.raises(ValidationError, match="Método de pago no disponible."):
        checkout_services.checkout_cart(cart, data(metodo_pago="bitcoin"))
    with pytest.raises(ValidationError, match="El nombre es obligatorio."):
        checkout_services.checkout_cart(cart, data(nombre=" "))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_discount_code_on_cart_and_order(booking_setup):
    cart = cart_services.create_cart()
    cart_services.hold_slot(cart, req(booking_setup["calipso"], people=2))
    cart_services.hold_slot(cart, req(booking_setup["calipso"], hhmm="17:00", people=2))
    with pytest.raises(ValidationError, match="Código de descuento inválido o vencido."):
        cart_services.set_cart_code(cart, "NOEXISTE")
    cart_services.set_cart_code(cart, "aremko15")
    assert cart_services.cart_totals(cart) == {"subtotal": 100000, "discount": 15000, "total": 85000}
    order = checkout_services.checkout_cart(cart, data())
    assert (order.discount_total, order.total) == (15000, 85000)
    with pytest.raises(ValidationError, match="ya tiene un código"):
        discount_services.apply_code(order, "AREMKO15")


def test_cart_holds_at_most_ten_lines(booking_setup, make_product):
    cart = cart_services.create_cart()
    water = make_product(is_published=True)
    for _ in range(10):
        cart_services.add_product_to_cart(cart, product_id=water.id, quantity=1)
    with pytest.raises(ValidationError, match="El carrito admite hasta 10 líneas."):
        cart_services.hold_slot(cart, req(booking_setup["calipso"]))
