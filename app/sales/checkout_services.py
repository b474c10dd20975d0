"""Placing an order: every line re-checked under lock, the client matched by phone or created, products,
code, audit and the `order_placed` signal, in one transaction (spec catalog.md §4.4). Flush, never commit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value

from app.catalog.models import Product
from app.catalog.policy import line_price
from app.catalog.services import change_stock, lock_products
from app.clients.models import CLIENT_LANGUAGES, MARKETING_FIELDS, Client, ClientUpdateRequest
from app.clients.services import create_client, record_event, set_consents
from app.core import clock
from app.core.errors import ValidationError
from app.core.identity import normalize_document, normalize_email
from app.core.money import format_clp
from app.core.phone import normalize_phone
from app.extensions import db
from app.sales import client_stats_services, signals
from app.sales.discount_services import apply_code, find_valid_code
from app.sales.locks import lock_services
from app.sales.models import (
    Cart,
    CartHold,
    CartProductLine,
    Order,
    ProductLine,
    ServiceLine,
)
from app.sales.policy_queries import snapshot_for
from app.sales.representation import order_representation
from app.sales.services import (
    NEW_LINE_STATUS,
    LineRequest,
    SlotUnavailable,
    cfg,
    check_line,
    line_label,
    recalculate_order,
    set_new_order_totals,
)
from app.webhooks.event_services import emit_event

DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)


# --- placing orders ------------------------------------------------------------------------------------------


@dataclass
class CheckoutData:
    telefono: str
    nombre: str
    email: str | None = None
    documento_identidad: str | None = None
    metodo_pago: str | None = None
    acepta_marketing: bool = False
    comentarios: str | None = None
    idioma: str | None = None  # the site's language at a web checkout ("es" | "en"): the client's messages follow it
    pago: str = "total"  # `abono` (the deposit) or `total` when the order's policies ask a deposit (self-service §3)


def match_or_create_client(data: CheckoutData, *, origin: str, by, ip) -> tuple[Client, dict]:
    phone = normalize_phone(data.telefono)
    client = db.session.scalar(sa.select(Client).where(Client.phone == phone))
    source = "checkout" if origin == "web" else "recepcion"
    if client is None:
        client = create_client(
            data={"name": data.nombre, "phone": phone, "email": data.email, "document_id": data.documento_identidad},
            origin=origin if origin in ("web", "recepcion", "telefono", "api") else "web",
            marketing_consent=data.acepta_marketing,
            consent_source=source,
            by=by,
            ip=ip,
            phone_checked=True,
        )
        if data.idioma in CLIENT_LANGUAGES:
            client.language = data.idioma
        return client, {}
    if data.idioma in CLIENT_LANGUAGES and origin == "web":
        client.language = data.idioma  # the language they booked in last
    proposed = {}
    typed = {
        "nombre": (" ".join((data.nombre or "").split()), client.name),
        "email": (normalize_email(data.email), client.email),
        "documento_identidad": (normalize_document(data.documento_identidad), client.document_id),
    }
    for field_name, (new, old) in typed.items():
        if new and new != old:
            proposed[field_name] = {"actual": old, "propuesto": new}
    if data.acepta_marketing and client.preferences and client.preferences.opt_out_date is None:
        set_consents(client, {f: True for f in MARKETING_FIELDS}, source=source, by=by, ip=ip)
    return client, proposed


def place_order(
    *,
    lines: list[LineRequest],
    data: CheckoutData,
    origin: str = "web",
    cart: Cart | None = None,
    by=None,
    ip: str | None = None,
    staff: bool = False,
    client: Client | None = None,
) -> Order:
    """Re-check every line under lock and write the order in one transaction; flushes.

    `client`: the known client the contact data was taken from (the API's `cliente`), instead of matching the
    phone. Raises ValidationError for bad input and SlotUnavailable / InsufficientStock for conflicts; the caller
    rolls back, so nothing is half-written.
    """
    _check_checkout_data(lines, data, origin=origin, cart=cart)
    with client_stats_services.batched():  # the client's statistics row written once, not once per flush
        proposed = {}
        if client is None:
            client, proposed = match_or_create_client(data, origin=origin, by=by, ip=ip)
        expected = _held_cart_figures(lines, cart, origin=origin, data=data)
        order = _new_order(client, data, origin=origin, by=by, figures=expected)
        # Lock as late as possible (the client and order rows above are private to this transaction) so that
        # concurrent checkouts of one service and day wait for each other only during the check-and-insert.
        added = _add_service_lines(order, lines, cart=cart, staff=staff, by=by)
        if expected is None or [(ln.subtotal, ln.status) for ln, _ in added] != expected["lines"]:
            # an order without service lines has no policies; the snapshot goes with the totals (one UPDATE)
            snapshot = _policy_snapshot((sv for _, sv in added), origin=origin, data=data) if added else None
            _add_cart_products(order, cart, by=by)
            if cart is not None and cart.discount_code:
                code = find_valid_code(cart.discount_code, client_id=client.id, lock=True)  # no use left: dropped
                if code is not None:
                    apply_code(order, code.code, by=by)
            recalculate_order(order, also={"policy_snapshot": snapshot} if snapshot is not None else None)
        _audit_new_order(order, client, proposed, n_services=len(lines), origin=origin, by=by, lines=added)
        if added:
            emit_event("booking.created", lambda: {"venta_reserva": order_representation(order)})
        if cart is not None:
            _convert_cart(cart, order)
        db.session.flush()
        signals.order_placed.send(order, by=by)
    return order


def _check_checkout_data(lines, data: CheckoutData, *, origin: str, cart: Cart | None) -> None:
    """Shape of the contact data (the phone, e-mail and document parsers raise their own Spanish errors)."""
    if not lines and not (cart and cart.product_lines):
        raise ValidationError("El carrito está vacío")
    if not (data.nombre or "").strip():
        raise ValidationError("El nombre es obligatorio.", field="nombre")
    if origin == "web" and not (data.email or "").strip():
        raise ValidationError("Ingrese un e-mail válido.", field="email")
    normalize_phone(data.telefono)
    normalize_email(data.email)
    normalize_document(data.documento_identidad)


def _payment_due(method: str | None, now):
    """When an unpaid order expires: Flow in minutes, a transfer in hours (0 = never), else never."""
    if method == "flow":
        return now + timedelta(minutes=cfg("FLOW_PAYMENT_TTL_MINUTES"))
    if method == "transferencia" and cfg("TRANSFER_PAYMENT_TTL_HOURS") > 0:
        return now + timedelta(hours=cfg("TRANSFER_PAYMENT_TTL_HOURS"))
    return None


def _held_cart_figures(lines: list[LineRequest], cart: Cart | None, *, origin: str, data: CheckoutData) -> dict | None:
    """For the common web checkout — every line from one of the cart's holds, no products, no discount code — what
    the order's lines will be ((subtotal, status) each, at the held prices) and so its totals and policy snapshot,
    known before the lock: written with the order's INSERT instead of read back and UPDATEd after the lines
    (issue 20). None otherwise (products, a code, a line without its hold: the general path)."""
    if cart is None or not lines or cart.product_lines or cart.discount_code:
        return None
    holds = {h.id: h for h in cart.holds}
    if any(req.hold_id not in holds for req in lines):
        return None
    held = [holds[req.hold_id] for req in lines]
    subtotals = [line_price(h.unit_price, h.pricing_rule, req.people) for h, req in zip(held, lines, strict=True)]
    snapshot = _policy_snapshot((h.service for h in held), origin=origin, data=data)
    return {"subtotals": subtotals, "lines": [(st, NEW_LINE_STATUS) for st in subtotals], "snapshot": snapshot}


def _new_order(client: Client, data: CheckoutData, *, origin: str, by, figures: dict | None = None) -> Order:
    """The order row; `figures` (_held_cart_figures) sets its totals and policy snapshot before the INSERT."""
    now = clock.now()
    order = Order(
        client=client,
        client_id=client.id,
        origin=origin,
        contact_name=" ".join(data.nombre.split()),
        contact_email=normalize_email(data.email),
        contact_phone=normalize_phone(data.telefono),
        checkout_method=data.metodo_pago,
        payment_due_at=_payment_due(data.metodo_pago, now),
        comments=(data.comentarios or "").strip() or None,
        created_by_id=getattr(by, "id", None),
        created_at=now,
        sold_at=now,
    )
    if figures is not None:
        set_new_order_totals(order, figures["subtotals"])
        order.policy_snapshot = figures["snapshot"]
    db.session.add(order)
    db.session.flush()
    return order


def _add_service_lines(
    order: Order, lines: list[LineRequest], *, cart: Cart | None, staff: bool, by
) -> list[tuple[ServiceLine, object]]:
    """Take the booking locks of every (service, day), re-check each line and insert it; SlotUnavailable lists
    every line that cannot be booked. Returns the (line, service) pairs inserted."""
    services = lock_services([(ln.service_id, ln.day) for ln in lines])
    failures = []
    added = []
    holds = {h.id: h for h in (cart.holds if cart else [])}
    for req in lines:
        service = services.get(req.service_id)
        if service is None:
            raise ValidationError("Servicio no encontrado.", field="servicio_id")
        entry, provider_id = check_line(service, req, staff=staff, ignore_cart_id=cart.id if cart else None)
        if not entry.reservable:
            failures.append((line_label(service.name, req.day, req.hhmm), entry))
            continue
        hold = holds.get(req.hold_id) if req.hold_id else None
        unit_price, rule = service.base_price, service.pricing_rule
        if hold is not None:  # the price the customer saw
            unit_price, rule = hold.unit_price, hold.pricing_rule
            if hold.provider_id in entry.proveedores_libres:
                provider_id = hold.provider_id
        values = {
            "order_id": order.id,
            "service_id": service.id,
            "service_date": req.day,
            "start_time": req.hhmm,
            "people": req.people,
            "provider_id": provider_id,
            "unit_price": unit_price,
            "pricing_rule": rule,
            "subtotal": line_price(unit_price, rule, req.people),
            "created_by_id": getattr(by, "id", None),
        }
        # written now (later lines of this order count this one) by one INSERT … RETURNING that gives back the
        # persistent line, without a unit-of-work flush (issue 20); the new order's client is already noted for
        # its client_stats row (the order's own flush)
        line = db.session.scalars(_line_insert(), [values]).one()
        added.append((line, service))
    set_committed_value(order, "service_lines", [line for line, _ in added])  # in id order, as it reads them
    if failures:
        raise SlotUnavailable(failures)
    return added


@functools.cache
def _line_insert():
    return sa.insert(ServiceLine).returning(ServiceLine)


def _policy_snapshot(services, *, origin: str, data: CheckoutData) -> dict:
    """The booking policies that apply from now on to an order of these services (self-service.md §1), and the
    customer's choice between the deposit and the total when they ask a deposit (§3)."""
    snapshot = snapshot_for(services, versioned=True)
    if snapshot["deposit_percent"] > 0 and origin == "web":
        snapshot["pago"] = "abono" if data.pago == "abono" else "total"
    return snapshot


def _add_cart_products(order: Order, cart: Cart | None, *, by) -> None:
    """The cart's products as order lines, their stock taken under the product row locks (ascending ids, once)."""
    items = cart.product_lines if cart else []
    lock_products(item.product_id for item in items)
    for item in items:
        product = db.session.get(Product, item.product_id)
        db.session.add(
            ProductLine(
                order_id=order.id,
                product_id=product.id,
                quantity=item.quantity,
                unit_price=item.unit_price,
                subtotal=item.unit_price * item.quantity,
                recipient_name=item.recipient_name,
                recipient_email=item.recipient_email,
                message=item.message,
                created_by_id=getattr(by, "id", None),
            )
        )
        db.session.flush()
        change_stock(product, -item.quantity, reason="venta", by=by, order_id=order.id)


def _audit_new_order(order: Order, client: Client, proposed: dict, *, n_services: int, origin: str, by, lines) -> None:
    """`order_created`, one `line_added` per service line and, when the typed contact data differs from the known
    client's, a ClientUpdateRequest with its `client_update_requested` event; not flushed here: place_order's
    next flush writes them together (one INSERT of the events)."""
    record_event(
        client,
        "order_created",
        f"Venta #{order.id} creada ({origin}): {n_services} servicio{'s' if n_services != 1 else ''}, "
        f"total {format_clp(order.total)}",
        by=by,
        order_id=order.id,
        flush=False,
    )
    for line, service in lines:
        record_event(
            client,
            "line_added",
            f"{service.name} {line.service_date:%d/%m/%Y} {line.start_time}, {line.people} "
            f"persona{'s' if line.people != 1 else ''}, {format_clp(line.subtotal)}",
            by=by,
            order_id=order.id,
            flush=False,
        )
    if proposed:
        source = "checkout" if origin == "web" else "api"
        db.session.add(ClientUpdateRequest(client_id=client.id, order_id=order.id, source=source, proposed=proposed))
        record_event(
            client,
            "client_update_requested",
            "; ".join(f"{k}: {v['actual'] or '—'} → {v['propuesto']}" for k, v in proposed.items()),
            by=by,
            order_id=order.id,
            flush=False,
        )


def _convert_cart(cart: Cart, order: Order) -> None:
    """The cart now points at its order (a double submit within DOUBLE_SUBMIT_WINDOW returns it) and is empty."""
    if db.session.get_bind().dialect.name == "postgresql":
        _convert_cart_at_once(cart, order)
        return
    cart.holds.clear()  # delete-orphan: the rows go with the flush
    cart.product_lines.clear()
    cart.converted_order_id = order.id
    cart.converted_at = order.created_at
    cart.discount_code = None


@functools.cache
def _conversion_statement():
    """PostgreSQL: the cart's lines deleted and the cart row updated in one statement (data-modifying CTEs)."""
    carts, holds, products = Cart.__table__, CartHold.__table__, CartProductLine.__table__
    ids = postgresql.ARRAY(sa.Integer)
    gone_holds = sa.delete(holds).where(holds.c.id == sa.func.any(sa.bindparam("hold_ids", type_=ids)))
    gone_products = sa.delete(products).where(products.c.id == sa.func.any(sa.bindparam("product_ids", type_=ids)))
    return (
        sa.update(carts)
        .where(carts.c.id == sa.bindparam("cart_id"))
        .values(
            updated_at=sa.bindparam("now", type_=carts.c.updated_at.type),
            converted_order_id=sa.bindparam("order_id"),
            converted_at=sa.bindparam("converted_at", type_=carts.c.converted_at.type),
            discount_code=None,
        )
        .add_cte(gone_holds.cte("gone_holds"))
        .add_cte(gone_products.cte("gone_products"))
    )


def _convert_cart_at_once(cart: Cart, order: Order) -> None:
    """_convert_cart in one round trip instead of the unit of work's UPDATE + one DELETE per kind of line (issue
    20): the same rows (the lines this request loaded, by id), then the session's copy set to what was written."""
    lines = [*cart.holds, *cart.product_lines]
    now = clock.now()
    db.session.flush()  # anything pending goes first, as with the flush this replaces
    db.session.execute(
        _conversion_statement(),
        {
            "cart_id": cart.id,
            "order_id": order.id,
            "converted_at": order.created_at,
            "now": now,
            "hold_ids": [h.id for h in cart.holds],
            "product_ids": [p.id for p in cart.product_lines],
        },
    )
    for line in lines:
        db.session.expunge(line)
    for name, value in (
        ("holds", []),
        ("product_lines", []),
        ("converted_order_id", order.id),
        ("converted_at", order.created_at),
        ("discount_code", None),
        ("updated_at", now),
    ):
        set_committed_value(cart, name, value)


def checkout_cart(cart: Cart, data: CheckoutData, *, ip: str | None = None) -> Order:
    """Public checkout of a cart; a double submit within 10 minutes returns the first order; flushes."""
    if cart.converted_order_id is not None and not cart.holds and not cart.product_lines:
        if cart.converted_at and clock.now() - cart.converted_at < DOUBLE_SUBMIT_WINDOW:
            return db.session.get(Order, cart.converted_order_id)
        raise ValidationError("El carrito está vacío")
    if data.metodo_pago not in ("transferencia", "flow") or (
        data.metodo_pago == "flow" and current_app.config.get("FLOW_MODE", "off") == "off"
    ):
        raise ValidationError("Método de pago no disponible.", field="metodo_pago")
    requests = [
        LineRequest(service_id=h.service_id, day=h.date, hhmm=h.time, people=h.people, provider_id=None, hold_id=h.id)
        for h in cart.holds
    ]
    return place_order(lines=requests, data=data, origin="web", cart=cart, ip=ip)
