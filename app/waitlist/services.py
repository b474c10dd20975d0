"""Waitlist state changes (self-service.md §4): join, offer freed capacity, accept, expire, cancel. Flush, never
commit.

Freed capacity of a (service, day) is offered under that day's booking lock (`sales.locks.lock_services`, lock 3 of
the global order): the first `esperando` entry (by creation) that fits gets a hold in a new cart for
`WAITLIST_OFFER_MINUTES`. The hold itself takes the place, so a second process deciding the same day afterwards
sees it taken: exactly one offer per freed place.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app.catalog.models import Service
from app.clients.models import Client
from app.clients.services import create_client, record_event
from app.comms.outbox_services import enqueue
from app.comms.policy import EMAIL, SMS
from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.core.identity import normalize_email
from app.core.phone import normalize_phone
from app.extensions import db
from app.sales import availability
from app.sales.cart_services import create_cart, hold_slot
from app.sales.locks import lock_services
from app.sales.models import Cart, CartHold
from app.sales.queries import load_slot_context
from app.sales.services import LineRequest, SlotUnavailable
from app.waitlist.models import ACTIVE_STATUSES, WaitlistEntry
from app.waitlist.queries import FULL_REASONS
from app.webhooks.event_services import emit_event

MAX_ACTIVE_PER_PHONE = 3
MESSAGE_TYPE = "WAITLIST_OFFER"


def offer_minutes() -> int:
    return int(current_app.config.get("WAITLIST_OFFER_MINUTES", 20))


@dataclass
class JoinData:
    nombre: str
    telefono: str
    servicio_id: int
    fecha: date
    cantidad_personas: int
    hora: str | None = None  # None: "cualquier hora ese día"
    email: str | None = None
    acepta_contacto: bool = False
    idioma: str = "es"  # the page's language ("es" | "en"): the offer's SMS/e-mail is written in it


def _slot_label(entry: WaitlistEntry, hhmm: str | None = None) -> str:
    hour = hhmm or entry.time
    return f"{entry.service.name} {entry.date:%d/%m/%Y} {hour or 'cualquier hora'}"


# --- join ----------------------------------------------------------------------------------------------------


def join_waitlist(data: JoinData, *, ip: str | None = None) -> WaitlistEntry:
    """A customer asks to be told when the slot frees; flushes. ValidationError for bad input, a slot that still
    has room, a duplicate request or a fourth active entry of the same phone."""
    name = " ".join((data.nombre or "").split())
    if not name:
        raise ValidationError(gettext("El nombre es obligatorio."), field="nombre")
    if len(name) > 100:
        raise ValidationError(gettext("El nombre admite hasta 100 caracteres."), field="nombre")
    phone = normalize_phone(data.telefono)
    email = normalize_email(data.email) if data.email else None
    if not data.acepta_contacto:
        raise ValidationError(gettext("Debes aceptar que te contactemos por este cupo."), field="acepta_contacto")
    service = db.session.get(Service, data.servicio_id)
    if service is None or not service.is_bookable_online:
        raise ValidationError(gettext("Servicio no encontrado."), field="servicio_id")
    today = clock.today()
    horizon = today + timedelta(days=int(current_app.config["BOOKING_HORIZON_DAYS"]))
    if not today <= data.fecha <= horizon:
        raise ValidationError(gettext("Elige una fecha desde hoy."), field="fecha")
    people = data.cantidad_personas
    if not service.min_people <= people <= service.max_people:
        raise ValidationError(
            gettext("Personas: entre %(min)d y %(max)d.", min=service.min_people, max=service.max_people),
            field="cantidad_personas",
        )
    entries = availability.slot_availability(load_slot_context(service, data.fecha), people)
    if data.hora is not None:
        entry = next((e for e in entries if e.hora == data.hora), None)
        if entry is None or entry.motivo not in FULL_REASONS and not entry.reservable:
            raise ValidationError(gettext("Ese horario no está disponible para lista de espera."), field="hora")
        if entry.reservable:
            raise ValidationError(gettext("Ese horario todavía tiene cupo: resérvalo ahora."), field="hora")
    else:
        if any(e.reservable for e in entries):
            raise ValidationError(gettext("Ese día todavía tiene horarios con cupo: resérvalo ahora."), field="hora")
        if not any(e.motivo in FULL_REASONS for e in entries):
            raise ValidationError(gettext("Ese día no está disponible para lista de espera."), field="fecha")
    active = sa.select(WaitlistEntry).where(WaitlistEntry.phone == phone, WaitlistEntry.status.in_(ACTIVE_STATUSES))
    mine = db.session.scalars(active).all()
    if any(e.service_id == service.id and e.date == data.fecha and e.time == data.hora for e in mine):
        raise ConflictError(gettext("Ya estás en la lista de espera para ese horario."))
    if len(mine) >= MAX_ACTIVE_PER_PHONE:
        raise ValidationError(
            gettext("Puedes estar en hasta %(num)d listas de espera a la vez.", num=MAX_ACTIVE_PER_PHONE),
            field="telefono",
        )
    client = db.session.scalar(sa.select(Client).where(Client.phone == phone))
    if client is None:
        client = create_client(
            data={"name": name, "phone": phone, "email": email}, origin="web", consent_source="checkout", ip=ip
        )
    entry = WaitlistEntry(
        token=secrets.token_urlsafe(32),
        name=name,
        phone=phone,
        email=email,
        service_id=service.id,
        date=data.fecha,
        time=data.hora,
        people=people,
        consent=True,
        language="en" if data.idioma == "en" else "es",
        status="esperando",
        client_id=client.id,
        created_at=clock.now(),
    )
    db.session.add(entry)
    db.session.flush()
    record_event(client, "waitlist_joined", f"{_slot_label(entry)}, {people} persona{'s' if people != 1 else ''}")
    return entry


# --- offers --------------------------------------------------------------------------------------------------


def _slot_passed(day: date, hhmm: str) -> bool:
    return clock.local_now() >= availability.slot_start(day, hhmm)


def _entry_passed(entry: WaitlistEntry) -> bool:
    if entry.date < clock.today():
        return True
    return entry.time is not None and _slot_passed(entry.date, entry.time)


def _fitting_hour(entry: WaitlistEntry, service: Service) -> str | None:
    """The hour this entry can be offered now: its own hour if it has room, else (any hour) the first one."""
    ctx = load_slot_context(service, entry.date)
    if entry.time is not None:
        return entry.time if availability.check_slot(ctx, entry.time, entry.people).reservable else None
    return next((e.hora for e in availability.slot_availability(ctx, entry.people) if e.reservable), None)


def offer_freed(service_id: int, day: date, *, by=None) -> list[WaitlistEntry]:
    """Capacity may have freed on (service, day): under the day's booking lock, offer it to the waiting entries in
    creation order while each fits (the offer's hold takes the place); flushes. Returns the entries offered."""
    if day < clock.today():
        return []
    waiting = sa.select(WaitlistEntry.id).where(
        WaitlistEntry.service_id == service_id, WaitlistEntry.date == day, WaitlistEntry.status == "esperando"
    )
    if db.session.scalar(waiting.limit(1)) is None:  # the common case: nobody waits, no lock taken
        return []
    service = lock_services([(service_id, day)]).get(service_id)
    if service is None:
        return []
    entries = db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.id.in_(waiting))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .execution_options(populate_existing=True)
    ).all()
    offered = []
    for entry in entries:
        if entry.status != "esperando":
            continue
        if _entry_passed(entry):
            _close(entry, "vencida")
            continue
        hhmm = _fitting_hour(entry, service)
        if hhmm is None:
            continue
        _make_offer(entry, service, hhmm, by=by)
        offered.append(entry)
    return offered


def _make_offer(entry: WaitlistEntry, service: Service, hhmm: str, *, by=None) -> None:
    cart = create_cart()
    try:
        hold = hold_slot(cart, LineRequest(service_id=service.id, day=entry.date, hhmm=hhmm, people=entry.people))
    except SlotUnavailable:  # pragma: no cover - checked just above under the same lock
        return
    now = clock.now()
    expires = now + timedelta(minutes=offer_minutes())
    hold.expires_at = expires
    entry.status = "ofrecida"
    entry.offer_count += 1
    entry.offered_at = now
    entry.offer_expires_at = expires
    entry.offered_time = hhmm
    entry.cart_id = cart.id
    entry.hold_id = hold.id
    db.session.flush()
    payload = {"entry_id": entry.id, "offer_no": entry.offer_count}
    channels = [(SMS, entry.phone)] + ([(EMAIL, entry.email)] if entry.email else [])
    for channel, destination in channels:
        enqueue(
            message_type=MESSAGE_TYPE,
            channel=channel,
            idempotency_key=f"waitlist:{entry.id}:{MESSAGE_TYPE}:{entry.offer_count}:{channel}",
            destination=destination,
            expires_at=expires,
            triggered_by="waitlist",
            created_by=by,
            payload=payload,
        )
    if entry.client is not None:
        record_event(
            entry.client,
            "waitlist_offered",
            f"{_slot_label(entry, hhmm)}: oferta #{entry.offer_count} hasta las {clock.to_local(expires):%H:%M}",
            by=by,
        )
    emit_event("waitlist.offered", lambda: {"lista_espera": entry_representation(entry)})


def entry_representation(entry: WaitlistEntry) -> dict:
    """The JSON shape of an entry (API list and the `waitlist.offered` webhook)."""

    def local(value):
        return clock.to_local(value).isoformat(timespec="seconds") if value else None

    return {
        "id": entry.id,
        "estado": entry.status,
        "nombre": entry.name,
        "telefono": entry.phone,
        "email": entry.email,
        "servicio_id": entry.service_id,
        "servicio": entry.service.name if entry.service else None,
        "fecha": entry.date.isoformat(),
        "hora": entry.time,
        "cantidad_personas": entry.people,
        "idioma": entry.language,
        "creada": local(entry.created_at),
        "ofertas": entry.offer_count,
        "hora_ofrecida": entry.offered_time,
        "ofrecida_en": local(entry.offered_at),
        "oferta_vence": local(entry.offer_expires_at),
        "venta_reserva_id": entry.order_id,
    }


def _release_offer_hold(entry: WaitlistEntry) -> None:
    if entry.hold_id is not None:
        hold = db.session.get(CartHold, entry.hold_id)
        if hold is not None and hold.released_at is None:
            hold.released_at = clock.now()


def _close(entry: WaitlistEntry, status: str, *, by=None) -> None:
    entry.status = status
    entry.closed_at = clock.now()
    if status == "cancelada":
        entry.cancelled_by_id = getattr(by, "id", None)
    db.session.flush()


# --- accept, expire, cancel ----------------------------------------------------------------------------------


def accept_offers_of(order) -> list[WaitlistEntry]:
    """An order was placed: the entries whose offer cart it converted are `aceptada` (once); flushes."""
    entries = db.session.scalars(
        sa.select(WaitlistEntry)
        .join(Cart, Cart.id == WaitlistEntry.cart_id)
        .where(Cart.converted_order_id == order.id, WaitlistEntry.status.in_(("ofrecida", "vencida")))
    ).all()
    for entry in entries:
        entry.order_id = order.id
        _close(entry, "aceptada")
    return entries


def offered_cart(entry: WaitlistEntry) -> Cart | None:
    """The cart the offer link opens, or None when the offer is no longer open (expired, used, cancelled)."""
    if entry.status != "ofrecida" or entry.offer_expires_at is None or entry.offer_expires_at <= clock.now():
        return None
    cart = db.session.get(Cart, entry.cart_id) if entry.cart_id else None
    if cart is None or cart.converted_order_id is not None:
        return None
    return cart


def expire_waitlist() -> int:
    """Job `expire_waitlist`: offers past `offer_expires_at` become `vencida` (their hold released) and the place
    goes to the next entry; entries for slots already past expire. Returns how many entries expired."""
    now = clock.now()
    due = db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.status == "ofrecida", WaitlistEntry.offer_expires_at <= now)
        .order_by(WaitlistEntry.id)
    ).all()
    freed = set()
    for entry in due:
        _release_offer_hold(entry)
        _close(entry, "vencida")
        freed.add((entry.service_id, entry.date))
    past = db.session.scalars(
        sa.select(WaitlistEntry).where(WaitlistEntry.status == "esperando", WaitlistEntry.date <= clock.today())
    ).all()
    n_past = 0
    for entry in past:
        if _entry_passed(entry) or not _day_has_future_hours(entry):
            _close(entry, "vencida")
            n_past += 1
    for service_id, day in sorted(freed):
        offer_freed(service_id, day)
    return len(due) + n_past


def _day_has_future_hours(entry: WaitlistEntry) -> bool:
    """An "any hour" entry of today stays while the day has a grid time still ahead."""
    if entry.time is not None:
        return True
    service = db.session.get(Service, entry.service_id)
    grid = availability.grid_times((service.slot_grid or {}) if service else {}, entry.date)
    return any(not _slot_passed(entry.date, hhmm) for hhmm in grid)


def cancel_entry(entry: WaitlistEntry, *, by) -> WaitlistEntry:
    """Staff cancel an active entry; an open offer's hold is released and offered to the next entry; flushes."""
    if entry.status not in ACTIVE_STATUSES:
        raise ValidationError("La entrada ya no está activa.")
    had_offer = entry.status == "ofrecida"
    if had_offer:
        _release_offer_hold(entry)
    _close(entry, "cancelada", by=by)
    if had_offer:
        offer_freed(entry.service_id, entry.date, by=by)
    return entry
