"""Waitlist rules (self-service.md §4): joining, an offer on each kind of freed capacity, acceptance books exactly
once, expiry passes the place on, past slots expire. Real database; only the clock is frozen."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import ServiceBlock, SlotBlock
from app.clients.models import ClientEvent
from app.comms.models import CommunicationLog
from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.sales import line_services, signals
from app.sales.cart_services import create_cart, hold_slot, release_expired_holds
from app.sales.checkout_services import CheckoutData, checkout_cart
from app.sales.flow_services import expire_unpaid_orders
from app.sales.models import Cart, CartHold, ServiceLine
from app.sales.services import LineRequest
from app.waitlist import services
from app.waitlist.models import WaitlistEntry
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.waitlist.conftest import DAY, next_phone


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


@pytest.fixture
def full(calipso, book):
    """Tina Calipso 14:00 booked (capacity 1): the desk order."""
    return book(calipso, "14:00")


def offers(entry_id):
    return services.db.session.scalars(
        sa.select(CommunicationLog)
        .where(CommunicationLog.message_type == "WAITLIST_OFFER")
        .order_by(CommunicationLog.id)
    ).all()


def live_holds(service_id, hhmm="14:00"):
    return services.db.session.scalars(
        sa.select(CartHold).where(
            CartHold.service_id == service_id,
            CartHold.date == DAY,
            CartHold.time == hhmm,
            CartHold.released_at.is_(None),
            CartHold.expires_at > clock.now(),
        )
    ).all()


# --- joining -------------------------------------------------------------------------------------------------


def test_join_a_full_slot_waits_with_audit(calipso, full, join, db_session):
    entry = join(calipso, "14:00", email="camila@example.com")
    assert entry.status == "esperando" and entry.consent and entry.phone.startswith("+569")
    event = db_session.scalar(sa.select(ClientEvent).where(ClientEvent.event_type == "waitlist_joined"))
    assert event.client_id == entry.client_id and "Tina Calipso 02/03/2026 14:00" in event.description


def test_join_refuses_a_slot_with_room_and_a_fourth_entry(calipso, booking_setup, full, join, book):
    with pytest.raises(ValidationError, match="todavía tiene cupo"):
        join(calipso, "17:00")
    with pytest.raises(ValidationError, match="horarios con cupo"):
        join(calipso, None)
    phone = next_phone()
    join(calipso, "14:00", phone=phone)
    with pytest.raises(ConflictError, match="Ya estás"):
        join(calipso, "14:00", phone=phone)
    book(calipso, "17:00")
    join(calipso, "17:00", phone=phone)
    join(calipso, None, phone=phone)
    grande = booking_setup["grande"]
    book(grande, "19:00", people=8)
    book(grande, "19:00", people=2)
    with pytest.raises(ValidationError, match="hasta 3 listas"):
        join(grande, "19:00", people=2, phone=phone)


def test_join_needs_consent(calipso, full):
    data = services.JoinData(
        nombre="Ana", telefono=next_phone(), servicio_id=calipso.id, fecha=DAY, hora="14:00", cantidad_personas=1
    )
    with pytest.raises(ValidationError, match="contactemos"):
        services.join_waitlist(data)


# --- an offer on each kind of freed capacity --------------------------------------------------------------------


def assert_offered(entry, db_session, *, hhmm="14:00"):
    db_session.refresh(entry)
    assert entry.status == "ofrecida" and entry.offered_time == hhmm and entry.offer_count >= 1
    assert entry.offer_expires_at == entry.offered_at + timedelta(minutes=20)
    hold = db_session.get(CartHold, entry.hold_id)
    assert hold.cart_id == entry.cart_id and hold.expires_at == entry.offer_expires_at and hold.time == hhmm
    rows = db_session.scalars(
        sa.select(CommunicationLog).where(CommunicationLog.idempotency_key.like(f"waitlist:{entry.id}:%"))
    ).all()
    assert {r.communication_type for r in rows} >= {"SMS"}
    assert all(r.expires_at == entry.offer_expires_at and r.client_id is None for r in rows)
    audit = db_session.scalars(
        sa.select(ClientEvent).where(
            ClientEvent.client_id == entry.client_id, ClientEvent.event_type == "waitlist_offered"
        )
    ).all()
    assert audit


def test_cancelled_order_offers_the_first_entry_only(calipso, full, join, db_session, make_user):
    first, second = join(calipso, "14:00", email="a@example.com"), join(calipso, "14:00")
    line_services.cancel_order_by_staff(full, reason="Cliente no viene", by=make_user("gerente"))
    assert_offered(first, db_session)
    db_session.refresh(second)
    assert second.status == "esperando"
    keys = sorted(r.idempotency_key for r in offers(first.id))
    assert keys == [f"waitlist:{first.id}:WAITLIST_OFFER:1:EMAIL", f"waitlist:{first.id}:WAITLIST_OFFER:1:SMS"]
    assert len(live_holds(calipso.id)) == 1  # one freed place, one offer


def test_cancelled_line_offers(calipso, booking_setup, book, join, db_session, make_user):
    from app.sales.checkout_services import place_order

    lines = [
        LineRequest(service_id=calipso.id, day=DAY, hhmm="14:00", people=1),
        LineRequest(service_id=calipso.id, day=DAY, hhmm="17:00", people=1),
    ]
    order = place_order(
        lines=lines, data=CheckoutData(telefono=next_phone(), nombre="Dos Líneas"), origin="recepcion", staff=True
    )
    entry = join(calipso, "17:00")
    line = next(ln for ln in order.service_lines if ln.start_time == "17:00")
    line_services.cancel_line(line, reason="Cambio de planes", by=make_user("recepcion"))
    assert_offered(entry, db_session, hhmm="17:00")


def test_moved_line_offers_the_place_it_left(calipso, full, book, join, db_session, make_user):
    entry = join(calipso, "14:00")
    line_services.move_service_line(full.service_lines[0], day=DAY, hhmm="17:00", by=make_user("recepcion"))
    assert_offered(entry, db_session)


def test_expired_hold_offers(calipso, join, db_session, freeze_clock):
    cart = create_cart()
    hold_slot(cart, LineRequest(service_id=calipso.id, day=DAY, hhmm="14:00", people=1))
    entry = join(calipso, "14:00")
    freeze_clock(clock.now() + timedelta(minutes=16))
    release_expired_holds()
    assert_offered(entry, db_session)


def test_removed_slot_block_offers_an_any_hour_entry(calipso, full, join, db_session):
    block = SlotBlock(service_id=calipso.id, date=DAY, time="17:00", reason="Mantención")
    db_session.add(block)
    db_session.flush()
    entry = join(calipso, None)  # 14:00 full, 17:00 blocked: nothing to book that day
    db_session.delete(block)
    db_session.flush()
    signals.block_removed.send(block, slots=[(calipso.id, DAY, DAY)])
    assert_offered(entry, db_session, hhmm="17:00")


def test_deactivated_service_block_offers(calipso, full, join, db_session):
    block = ServiceBlock(service_id=None, start_date=DAY, end_date=DAY, reason="Corte de agua")
    entry = join(calipso, "14:00")
    db_session.add(block)
    db_session.flush()
    full.service_lines[0].status = "cancelada"  # the place frees while the whole spa is closed: no offer yet
    db_session.flush()
    assert services.offer_freed(calipso.id, DAY) == []
    block.is_active = False
    db_session.flush()
    signals.block_removed.send(block, slots=[(None, DAY, DAY)])
    assert_offered(entry, db_session)


def test_expired_unpaid_order_offers(calipso, join, db_session, make_client):
    from app.sales.checkout_services import place_order

    order = place_order(
        lines=[LineRequest(service_id=calipso.id, day=DAY, hhmm="14:00", people=1)],
        data=CheckoutData(telefono=next_phone(), nombre="Sin Pago", email="x@example.com", metodo_pago="transferencia"),
        origin="web",
    )
    order.payment_due_at = clock.now() - timedelta(minutes=1)
    entry = join(calipso, "14:00")
    assert expire_unpaid_orders() == 1
    assert_offered(entry, db_session)


def test_webhook_waitlist_offered(calipso, full, join, db_session, make_user):
    db_session.add(WebhookEndpoint(url="https://example.com/hook", secret="s" * 64, events=["waitlist.offered"]))
    entry = join(calipso, "14:00")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    delivery = db_session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.event == "waitlist.offered"))
    datos = delivery.payload["datos"]["lista_espera"]
    assert datos["id"] == entry.id and datos["estado"] == "ofrecida" and datos["hora_ofrecida"] == "14:00"


# --- accept, expire, cancel ----------------------------------------------------------------------------------


def test_accepted_offer_books_exactly_once(calipso, full, join, db_session, make_user):
    entry = join(calipso, "14:00", email="camila@example.com")
    join(calipso, "14:00")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    db_session.refresh(entry)
    cart = services.offered_cart(entry)
    data = CheckoutData(
        telefono=entry.phone, nombre=entry.name, email="camila@example.com", metodo_pago="transferencia"
    )
    order = checkout_cart(cart, data)
    db_session.refresh(entry)
    assert entry.status == "aceptada" and entry.order_id == order.id
    assert services.offered_cart(entry) is None  # the link no longer opens a cart
    again = checkout_cart(db_session.get(Cart, cart.id), data)  # a double submit returns the same order
    assert again.id == order.id
    booked = db_session.scalars(
        sa.select(ServiceLine).where(
            ServiceLine.service_id == calipso.id, ServiceLine.start_time == "14:00", ServiceLine.status != "cancelada"
        )
    ).all()
    assert [ln.order_id for ln in booked] == [order.id]


def test_expired_offer_goes_to_the_next_entry(calipso, full, join, db_session, make_user, freeze_clock):
    first, second = join(calipso, "14:00"), join(calipso, "14:00")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    freeze_clock(clock.now() + timedelta(minutes=21))
    assert services.expire_waitlist() == 1
    db_session.refresh(first)
    assert first.status == "vencida" and services.offered_cart(first) is None
    assert_offered(second, db_session)
    assert len(live_holds(calipso.id)) == 1


def test_past_slots_expire(calipso, full, join, db_session, freeze_clock):
    at_two, any_hour = join(calipso, "14:00"), None
    freeze_clock(clock.now() + timedelta(hours=4, minutes=1))  # 14:01: the 14:00 slot has started
    services.expire_waitlist()
    db_session.refresh(at_two)
    assert at_two.status == "vencida" and any_hour is None


def test_cancel_an_offered_entry_passes_the_place_on(calipso, full, join, db_session, make_user):
    first, second = join(calipso, "14:00"), join(calipso, "14:00")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    services.cancel_entry(db_session.get(WaitlistEntry, first.id), by=make_user("recepcion"))
    db_session.refresh(first)
    assert first.status == "cancelada" and first.cancelled_by_id is not None
    assert_offered(second, db_session)
    with pytest.raises(ValidationError):
        services.cancel_entry(first, by=None)


def test_offer_message_renders_the_spec_text(calipso, full, join, db_session, make_user):
    from app.comms.render import render

    entry = join(calipso, "14:00", name="Camila Rojas", email="camila@example.com")
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    db_session.refresh(entry)
    sms = next(r for r in offers(entry.id) if r.communication_type == "SMS")
    text = render(sms).text
    vence = clock.to_local(entry.offer_expires_at).strftime("%H:%M")
    assert text.startswith(
        f"Hola Camila, se liberó un cupo: Tina Calipso el 02/03/2026 a las 14:00. Resérvalo antes de las {vence}: http"
    )
    assert f"/ventas/lista-espera/oferta/{entry.token}/ - Aremko" in text
    email = render(next(r for r in offers(entry.id) if r.communication_type == "EMAIL"))
    assert "Se liberó un cupo" in email.subject and entry.token in email.html
    assert entry.language == "es" and "Reservar ahora" in email.text and "lang=en" not in email.text


def test_offer_message_is_written_in_the_language_the_visitor_joined_in(calipso, full, join, db_session, make_user):
    """An entry joined on an English page gets its SMS and e-mail in English (self-service.md §5), although its
    client has never booked on the web (clients.language is still "es")."""
    from app.comms.render import render

    entry = join(calipso, "14:00", name="Jane Doe", email="jane@example.com", idioma="en")
    assert entry.language == "en" and entry.client.language == "es"
    line_services.cancel_order_by_staff(full, reason="No viene", by=make_user("gerente"))
    db_session.refresh(entry)
    vence = clock.to_local(entry.offer_expires_at).strftime("%H:%M")
    text = render(next(r for r in offers(entry.id) if r.communication_type == "SMS")).text
    assert text.startswith(
        f"Hi Jane, a place has opened up: Tina Calipso on 02/03/2026 at 14:00. Book it before {vence}: http"
    )
    assert f"/ventas/lista-espera/oferta/{entry.token}/?lang=en - Aremko" in text and "Unsubscribe:" in text
    email = render(next(r for r in offers(entry.id) if r.communication_type == "EMAIL"))
    assert email.subject == "A place has opened up: Tina Calipso on 02/03/2026"
    assert "for 1 person" in email.text and "We are holding it for you until" in email.text
    assert "Book now" in email.html and "liberó" not in email.text
