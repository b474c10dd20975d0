"""Booking state changes: cart holds, placing orders, totals, discount codes, cancellation.

Every capacity write locks the service rows (then the qualified providers) in ascending id order, re-checks
availability with the one rule in `orders.policy`, and inserts in the same transaction (spec catalog.md §4.4).
Services flush, never commit.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from app.catalog.models import Product, Service, service_providers
from app.catalog.policy import line_price
from app.catalog.services import change_stock, lock_products
from app.clients.models import MARKETING_FIELDS, Client, ClientUpdateRequest
from app.clients.services import create_client, record_event, set_consents
from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.core.identity import normalize_document, normalize_email
from app.core.money import format_clp, require_positive
from app.core.phone import normalize_phone
from app.extensions import db
from app.orders import policy
from app.orders.models import Cart, CartHold, CartProductLine, Discount, DiscountCode, Order, ServiceLine
from app.orders.queries import load_slot_context
from app.orders.representation import order_representation
from app.webhooks.events import emit_event

# Tests switch this off to show that without the row lock concurrent checkouts oversell (negative control).
LOCKING_ENABLED = True
MAX_CART_LINES = 10
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)
INVALID_CODE = "Código de descuento inválido o vencido."


class SlotUnavailable(ConflictError):
    """One or more requested slots cannot be booked; `failures` lists (line label, SlotEntry)."""

    code = "slot_unavailable"

    def __init__(self, failures, message: str | None = None):
        self.failures = failures
        super().__init__(message or "Algunos horarios ya no están disponibles: "
                         + ", ".join(label for label, _ in failures))


def slot_unavailable(label: str, entry) -> SlotUnavailable:
    """The conflict for one line: «Tina Calipso 02/03/2026 14:00: Horario agotado.»"""
    reason = (entry.mensaje or "no disponible").rstrip(".")
    return SlotUnavailable([(label, entry)], message=f"{label}: {reason}.")


@dataclass
class LineRequest:
    service_id: int
    day: date
    hhmm: str
    people: int
    provider_id: int | None = None
    hold_id: int | None = None


def line_label(service_name: str, day: date, hhmm: str) -> str:
    return f"{service_name} {day:%d/%m/%Y} {hhmm}"


def cfg(key: str) -> int:
    return int(current_app.config[key])


# --- locking and checking ----------------------------------------------------------------------------------


# GLOBAL LOCK ORDER (docs/CONCURRENCY.md). A transaction takes the locks it needs in this order, never backwards,
# so no two transactions wait for each other in a cycle (no deadlock):
#   1. order rows              lock_order() below: SELECT … FOR NO KEY UPDATE; several orders in ascending id
#   2. Flow transaction row    payments.flow_service._transaction_for(lock=True)
#   3. booking advisory locks  lock_services(): service-day (SLOT_LOCK) then provider-day (PROVIDER_LOCK) keys,
#                              ascending key order in one statement
#   4. product rows (stock)    catalog.services.lock_products / change_stock: ascending product id
#   5. discount-code row       find_valid_code(lock=True), from apply_code: the code's uses are counted under it
#   6. cash-day advisory lock  payments.cash.lock_cash_day (CASH_LOCK_NAMESPACE): shared by money, exclusive by close
#   7. gift-card rows          payments.giftcards.lock_card
#   8. cash-close row          payments.cash.reopen_close
#   9. client rows             clients.merge.lock_clients (FOR UPDATE, ascending id; after the clients' orders, 1)
# Rows outside orders and money have their own single lock, never held with another one of the same kind:
# a campaign (crm.sending.lock_campaign), a client import (clients.importer.lock_import), a purchase's products
# (4), a Flow transaction (2), the outbox rows (skip locked) and the scheduler's session advisory lock.
# Each lock is transaction-scoped (released at commit/rollback). Re-taking a lock already held is free.
ORDER_LOCKING_ENABLED = True  # the concurrency tests' negative controls switch the order lock off
CODE_LOCKING_ENABLED = True  # … and the discount-code row lock
SLOT_LOCK = 1 << 52  # pg_advisory_xact_lock(bigint) key spaces: service-day and provider-day (below 2**63)
PROVIDER_LOCK = 2 << 52


def lock_order(order: Order | int, *related) -> Order:
    """Take the order's row lock (lock 1 of the global order) and re-read it: every change to an order's money or
    lines calls this before it reads the balance, the totals or the lines, so concurrent writers of one order run
    one after the other and `recalculate_order` never overwrites a total it could not see (security review H1).

    `SELECT … FOR NO KEY UPDATE`: writers of the order wait for each other, while inserts of rows that only
    reference it (audit events, outbox, messages) do not. The order and the `related` rows already loaded (a line,
    a payment, a discount of the order) are flushed, expired and re-read after the lock, so their columns and
    collections are current. On SQLite (one writer at a time) only the re-read happens.
    Raises ValidationError when the order does not exist."""
    order_id = order if isinstance(order, int) else order.id
    if not ORDER_LOCKING_ENABLED:  # negative control: the old, unlocked behaviour
        found = order if isinstance(order, Order) else db.session.get(Order, order_id)
        if found is None:
            raise ValidationError("Venta no encontrada.")
        return found
    db.session.flush()
    for obj in (order, *related):
        if not isinstance(obj, int) and obj in db.session:
            db.session.expire(obj)
    locked = db.session.scalar(sa.select(Order).where(Order.id == order_id).with_for_update(key_share=True))
    if locked is None:
        raise ValidationError("Venta no encontrada.")
    return locked


def booking_lock_key(namespace: int, row_id: int, day: date) -> int:
    """One bigint per (service or provider, day): namespace | id << 20 | day ordinal (< 2**20 until year 2870)."""
    return namespace | row_id << 20 | day.toordinal()


def lock_services(slots) -> dict[int, Service]:
    """Load the services of `slots` ((service id, day) pairs) and take the booking locks of those days: one
    transaction-scoped advisory lock per service and day and, for massages, per qualified provider and day, in
    ascending key order (no deadlocks). Checkouts of other days or services never wait for each other. On SQLite
    (one writer at a time) only the services are loaded."""
    slots = sorted(set(slots))
    ids = sorted({sid for sid, _ in slots})
    services = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(ids)))}
    if not LOCKING_ENABLED or not slots or db.session.get_bind().dialect.name != "postgresql":
        return services
    keys = {booking_lock_key(SLOT_LOCK, sid, day) for sid, day in slots if sid in services}
    massage_days: dict[int, set[date]] = {}
    for sid, day in slots:
        if sid in services and services[sid].service_type == "masaje":
            massage_days.setdefault(sid, set()).add(day)
    if massage_days:
        pairs = db.session.execute(
            sa.select(service_providers.c.service_id, service_providers.c.provider_id)
            .where(service_providers.c.service_id.in_(sorted(massage_days)))
        ).all()
        keys |= {booking_lock_key(PROVIDER_LOCK, pid, day) for sid, pid in pairs for day in massage_days[sid]}
    db.session.execute(sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
                       {"keys": sorted(keys)}).all()
    return services


def check_line(service: Service, req: LineRequest, *, staff: bool, ignore_line_id=None, ignore_cart_id=None):
    """Availability of one requested line plus the provider to assign; returns (entry, provider_id)."""
    ctx = load_slot_context(service, req.day, staff=staff, ignore_line_id=ignore_line_id,
                            ignore_cart_id=ignore_cart_id)
    entry = policy.check_slot(ctx, req.hhmm, req.people)
    provider_id = None
    if entry.reservable and service.service_type == "masaje":
        if req.provider_id is not None:
            names = dict(ctx.qualified)
            if req.provider_id not in names:
                raise ValidationError(f"{_provider_name(req.provider_id)} no realiza este servicio.")
            if req.provider_id not in entry.proveedores_libres:
                raise ConflictError(f"{names[req.provider_id]} no está disponible a esa hora.")
            provider_id = req.provider_id
        else:
            provider_id = entry.proveedores_libres[0]
    elif entry.reservable:
        provider_id = req.provider_id
    return entry, provider_id


def _provider_name(provider_id: int) -> str:
    from app.catalog.models import Provider

    provider = db.session.get(Provider, provider_id)
    return provider.name if provider else f"Terapeuta #{provider_id}"


# --- cart ----------------------------------------------------------------------------------------------------


def new_cart_token() -> str:
    return secrets.token_urlsafe(32)


def get_cart(token: str | None, *, with_lines: bool = False) -> Cart | None:
    """The cart of a session token; `with_lines` loads its holds (service, provider) and product lines (product)
    in the same statement, for pages that show them."""
    if not token:
        return None
    statement = sa.select(Cart).where(Cart.token == token)
    if with_lines:
        holds = orm.joinedload(Cart.holds)
        statement = statement.options(holds.joinedload(CartHold.service), holds.joinedload(CartHold.provider),
                                      orm.joinedload(Cart.product_lines).joinedload(CartProductLine.product))
        return db.session.scalars(statement).unique().first()
    return db.session.scalar(statement)


def create_cart() -> Cart:
    """A new empty server-side cart; flushes."""
    cart = Cart(token=new_cart_token())
    db.session.add(cart)
    db.session.flush()
    return cart


def cart_line_count(cart: Cart) -> int:
    return len(cart.holds) + len(cart.product_lines)


def hold_slot(cart: Cart, req: LineRequest) -> CartHold:
    """Hold capacity for a cart line until now + CART_HOLD_MINUTES (a capacity write under lock); flushes.

    Raises ValidationError (cart full, unknown service) or SlotUnavailable.
    """
    if cart_line_count(cart) >= MAX_CART_LINES:
        raise ValidationError("El carrito admite hasta 10 líneas.")
    services = lock_services([(req.service_id, req.day)])
    service = services.get(req.service_id)
    if service is None:
        raise ValidationError("Servicio no encontrado.", field="servicio_id")
    entry, provider_id = check_line(service, req, staff=False)
    if not entry.reservable:
        raise SlotUnavailable([(line_label(service.name, req.day, req.hhmm), entry)], entry.mensaje)
    now = clock.now()
    hold = CartHold(
        cart=cart, service_id=service.id, date=req.day, time=req.hhmm, people=req.people, provider_id=provider_id,
        unit_price=service.base_price, pricing_rule=service.pricing_rule,
        subtotal=line_price(service.base_price, service.pricing_rule, req.people),
        expires_at=now + timedelta(minutes=cfg("CART_HOLD_MINUTES")),
    )
    db.session.add(hold)
    cart.updated_at = now
    db.session.flush()
    return hold


def add_product_to_cart(cart: Cart, *, product_id: int, quantity: int, amount: int | None = None,
                        recipient_name=None, recipient_email=None, message=None) -> CartProductLine:
    """Add a published product (no stock reservation; stock is checked at checkout); flushes."""
    if cart_line_count(cart) >= MAX_CART_LINES:
        raise ValidationError("El carrito admite hasta 10 líneas.")
    product = db.session.get(Product, product_id)
    if product is None or not product.is_active or not product.is_published:
        raise ValidationError("Producto no disponible.", field="producto_id")
    if quantity < 1 or quantity > 99:
        raise ValidationError("La cantidad debe estar entre 1 y 99.", field="cantidad")
    unit_price = product.base_price
    if product.is_gift_card:
        from app.payments.giftcards import check_amount, max_amount

        if product.base_price == 0:
            if amount is None or not 5000 <= amount <= max_amount():
                raise ValidationError(f"El monto de la gift card debe estar entre $5.000 y "
                                      f"{format_clp(max_amount())}.", field="monto")
            unit_price = amount
        check_amount(unit_price, minimum=1)
    line = CartProductLine(cart=cart, product_id=product.id, quantity=quantity, unit_price=unit_price,
                           recipient_name=recipient_name, recipient_email=normalize_email(recipient_email),
                           message=message)
    db.session.add(line)
    cart.updated_at = clock.now()
    db.session.flush()
    return line


def cart_lines(cart: Cart) -> list:
    """Display order: service holds first, then products (the `index` of remove-from-cart)."""
    return [*cart.holds, *cart.product_lines]


def remove_cart_line(cart: Cart, *, index: int | None = None, line_id: int | None = None) -> None:
    """Delete a cart line by display index or hold/product-line id; flushes; ValidationError if not found."""
    lines = cart_lines(cart)
    target = None
    if index is not None and 0 <= index < len(lines):
        target = lines[index]
    elif line_id is not None:
        target = next((ln for ln in lines if ln.id == line_id), None)
    if target is None:
        raise ValidationError("Índice inválido")
    (cart.holds if isinstance(target, CartHold) else cart.product_lines).remove(target)
    cart.updated_at = clock.now()
    db.session.flush()


def release_expired_holds() -> int:
    """Job `expire_cart_holds`: release expired holds (the line stays as "vencida"), drop carts idle 7 days."""
    now = clock.now()
    released = db.session.execute(
        sa.update(CartHold).where(CartHold.expires_at <= now, CartHold.released_at.is_(None))
        .values(released_at=now).execution_options(synchronize_session=False)
    ).rowcount
    idle = sa.select(Cart.id).where(Cart.updated_at < now - timedelta(days=7))
    db.session.execute(sa.delete(CartHold).where(CartHold.cart_id.in_(idle)))
    db.session.execute(sa.delete(CartProductLine).where(CartProductLine.cart_id.in_(idle)))
    db.session.execute(sa.delete(Cart).where(Cart.id.in_(idle.scalar_subquery())))
    db.session.flush()
    return released


def cart_totals(cart: Cart) -> dict:
    subtotal = sum(h.subtotal for h in cart.holds) + sum(p.subtotal for p in cart.product_lines)
    discount = 0
    if cart.discount_code:
        code = find_valid_code(cart.discount_code, client_id=None)
        if code is not None:
            discount = policy.discount_amount(subtotal, amount=code.value if code.kind == "monto" else None,
                                              percent=code.value if code.kind == "porcentaje" else None)
    discount = min(discount, subtotal)
    return {"subtotal": subtotal, "discount": discount, "total": subtotal - discount}


# --- discount codes ------------------------------------------------------------------------------------------


def code_uses(code: DiscountCode) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Discount).where(
            Discount.discount_code_id == code.id, Discount.status == "activo")
    )


def find_valid_code(raw: str, *, client_id: int | None, lock: bool = False) -> DiscountCode | None:
    """The usable code (active, in its dates, uses left, personal only for its client), else None.

    `lock` (applying it to an order): the code's row lock first (global lock order: after the products), then the
    uses are counted, so two orders never take the last use of a code together."""
    text = (raw or "").strip().upper()
    if not text:
        return None
    stmt = sa.select(DiscountCode).where(DiscountCode.code == text)
    if lock and CODE_LOCKING_ENABLED:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    code = db.session.scalar(stmt)
    today = clock.today()
    if code is None or not code.is_active:
        return None
    if (code.valid_from and today < code.valid_from) or (code.valid_until and today > code.valid_until):
        return None
    if code.client_id is not None and client_id is not None and code.client_id != client_id:
        return None
    if code.max_uses is not None and code_uses(code) >= code.max_uses:
        return None
    return code


def set_cart_code(cart: Cart, raw: str) -> DiscountCode:
    """Validate and store a discount code on the cart; flushes; ValidationError with the spec's message."""
    code = find_valid_code(raw, client_id=None)
    if code is None:
        raise ValidationError(INVALID_CODE, field="codigo")
    cart.discount_code = code.code
    db.session.flush()
    return code


def apply_code(order: Order, raw: str, *, by=None) -> Discount:
    """Apply a discount code to an order (one code per order) under the order lock; recalculates; flushes."""
    order = lock_order(order)
    if order.discount_code_id is not None:
        raise ValidationError("La venta ya tiene un código de descuento.")
    code = find_valid_code(raw, client_id=order.client_id, lock=True)
    if code is None:
        raise ValidationError(INVALID_CODE, field="codigo")
    percent = code.value if code.kind == "porcentaje" else None
    amount = code.value if code.kind == "monto" else 0
    discount = Discount(order=order, amount=amount, percent=percent, discount_code_id=code.id,
                        reason=f"Código {code.code}", created_by_id=getattr(by, "id", None))
    db.session.add(discount)
    order.discount_code_id = code.id
    db.session.flush()
    recalculate_order(order)
    label = f"{code.code} ({code.value} %)" if percent else code.code
    record_event(order.client, "discount_applied", f"{label} - {format_clp(discount.amount)}", by=by,
                 order_id=order.id)
    return discount


def apply_discount(order: Order, *, amount: int | None = None, code: str | None = None, reason: str = "",
                   by=None) -> Discount:
    """A staff discount: a fixed amount with a reason, or a code (spec booking.md §7.3); recalculates; audit.

    Σ discounts ≤ subtotal; recepcion may give at most RECEPTION_MAX_DISCOUNT_PERCENT % of the subtotal in total.
    Both caps are checked against the totals read under the order lock.
    """
    order = lock_order(order)
    if order.is_cancelled:
        raise ValidationError("La venta está cancelada.")
    subtotal = order.services_total + order.products_total
    current = order.discount_total
    if code:
        discount = apply_code(order, code, by=by)
        added = discount.amount
    else:
        require_positive(amount)
        if len((reason or "").strip()) < 3:
            raise ValidationError("Indique el motivo (mínimo 3 caracteres).", field="motivo")
        added = amount
        discount = None
    if current + added > subtotal:
        raise ValidationError("El descuento no puede superar el total de la venta.", field="monto")
    max_pct = cfg("RECEPTION_MAX_DISCOUNT_PERCENT")
    if getattr(by, "role", None) == "recepcion" and (current + added) * 100 > subtotal * max_pct:
        raise ValidationError(f"Descuentos mayores al {max_pct} % requieren un gerente.", field="monto")
    if discount is None:
        discount = Discount(order=order, amount=amount, reason=reason.strip(), created_by_id=getattr(by, "id", None))
        db.session.add(discount)
        recalculate_order(order)
        record_event(order.client, "discount_applied", f"{reason.strip()} - {format_clp(amount)}", by=by,
                     order_id=order.id)
    return discount


def void_discount(discount: Discount, *, by) -> Discount:
    """Void a discount (row kept); recepcion only its own; recalculates; audit `discount_voided`."""
    lock_order(discount.order_id, discount)
    if discount.status != "activo":
        raise ValidationError("El descuento ya está anulado.")
    if getattr(by, "role", None) == "recepcion" and discount.created_by_id != getattr(by, "id", None):
        raise ValidationError("Solo un gerente puede anular descuentos de otros usuarios.")
    order = discount.order
    discount.status = "anulado"
    discount.voided_at = clock.now()
    discount.voided_by_id = getattr(by, "id", None)
    if discount.discount_code_id is not None and order.discount_code_id == discount.discount_code_id:
        order.discount_code_id = None
    recalculate_order(order)
    record_event(order.client, "discount_voided", f"{discount.reason} - {format_clp(discount.amount)}", by=by,
                 order_id=order.id)
    return discount


# --- totals --------------------------------------------------------------------------------------------------


@functools.cache
def _order_sums_statement() -> sa.Select:
    """Every figure recalculate_order needs, in one statement (one round trip whatever the lines)."""
    from app.orders.models import LINE_STATUSES, ProductLine
    from app.payments.models import Payment

    oid = sa.bindparam("oid")
    sl, pl, d, p = ServiceLine, ProductLine, Discount, Payment

    def scalar(expr, *where):  # sums come back as NUMERIC on PostgreSQL: keep CLP integers
        return sa.select(sa.cast(expr, sa.BigInteger)).where(*where).scalar_subquery()

    return sa.select(
        scalar(sa.func.coalesce(sa.func.sum(sl.subtotal), 0), sl.order_id == oid, sl.status != "cancelada"),
        scalar(sa.func.coalesce(sa.func.sum(pl.subtotal), 0), pl.order_id == oid, pl.status == "activa"),
        scalar(sa.func.coalesce(sa.func.sum(d.amount), 0), d.order_id == oid, d.status == "activo",
               d.percent.is_(None)),
        scalar(sa.func.count(d.id), d.order_id == oid, d.status == "activo", d.percent.is_not(None)),
        scalar(sa.func.coalesce(sa.func.sum(p.amount), 0), p.order_id == oid, p.status == "valido"),
        scalar(sa.func.count(p.id), p.order_id == oid, p.status == "valido", p.is_refund.is_(True)),
        *(scalar(sa.func.count(sl.id), sl.order_id == oid, sl.status == st) for st in LINE_STATUSES),
    )


def recalculate_order(order: Order) -> Order:
    """The only writer of an order's derived money and state columns (spec booking.md §4.3–4.4); flushes."""
    from app.orders.models import LINE_STATUSES

    db.session.flush()
    row = db.session.execute(_order_sums_statement(), {"oid": order.id}).one()
    services_total, products_total, fixed, n_percent, paid, refunds = row[:6]
    statuses = [st for st, n in zip(LINE_STATUSES, row[6:], strict=True) for _ in range(n)]
    percent_discounts = []
    if n_percent:  # a % code's amount follows the subtotal (rare: loaded only when there is one)
        percent_discounts = list(db.session.scalars(sa.select(Discount).where(
            Discount.order_id == order.id, Discount.status == "activo", Discount.percent.is_not(None))))
    totals = policy.compute_totals([services_total], [products_total],
                                   [(fixed, None), *((0, d.percent) for d in percent_discounts)], [paid])
    subtotal = totals.services_total + totals.products_total
    for d in percent_discounts:
        d.amount = policy.discount_amount(subtotal, amount=None, percent=d.percent)
    for name, value in totals.__dict__.items():
        setattr(order, name, value)
    order.payment_status = policy.payment_status(cancelled=order.is_cancelled, total=totals.total,
                                                 paid=totals.paid, has_refund=refunds > 0)
    order.booking_status = policy.booking_status(cancelled=order.is_cancelled, line_statuses=statuses)
    order.requires_refund = totals.credit > 0 and (order.is_cancelled or order.requires_refund)
    db.session.flush()
    return order


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


def _match_or_create_client(data: CheckoutData, *, origin: str, by, ip) -> tuple[Client, dict]:
    phone = normalize_phone(data.telefono)
    client = db.session.scalar(sa.select(Client).where(Client.phone == phone))
    source = "checkout" if origin == "web" else "recepcion"
    if client is None:
        client = create_client(
            data={"name": data.nombre, "phone": phone, "email": data.email, "document_id": data.documento_identidad},
            origin=origin if origin in ("web", "recepcion", "telefono", "api") else "web",
            marketing_consent=data.acepta_marketing, consent_source=source, by=by, ip=ip,
        )
        return client, {}
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
    if not lines and not (cart and cart.product_lines):
        raise ValidationError("El carrito está vacío")
    if not (data.nombre or "").strip():
        raise ValidationError("El nombre es obligatorio.", field="nombre")
    if origin == "web" and not (data.email or "").strip():
        raise ValidationError("Ingrese un e-mail válido.", field="email")
    normalize_phone(data.telefono)
    email = normalize_email(data.email)
    normalize_document(data.documento_identidad)

    if client is None:
        client, proposed = _match_or_create_client(data, origin=origin, by=by, ip=ip)
    else:
        proposed = {}
    now = clock.now()
    due = None
    if data.metodo_pago == "flow":
        due = now + timedelta(minutes=cfg("FLOW_PAYMENT_TTL_MINUTES"))
    elif data.metodo_pago == "transferencia" and cfg("TRANSFER_PAYMENT_TTL_HOURS") > 0:
        due = now + timedelta(hours=cfg("TRANSFER_PAYMENT_TTL_HOURS"))
    order = Order(
        client=client, client_id=client.id, origin=origin, contact_name=" ".join(data.nombre.split()),
        contact_email=email,
        contact_phone=normalize_phone(data.telefono), checkout_method=data.metodo_pago, payment_due_at=due,
        comments=(data.comentarios or "").strip() or None, created_by_id=getattr(by, "id", None),
        created_at=now, sold_at=now,
    )
    db.session.add(order)
    db.session.flush()

    # Lock as late as possible (the client and order rows above are private to this transaction) so that
    # concurrent checkouts of one service and day wait for each other only during the check-and-insert.
    services = lock_services([(ln.service_id, ln.day) for ln in lines])
    failures = []
    holds = {h.id: h for h in (cart.holds if cart else [])}
    for req in lines:
        service = services.get(req.service_id)
        if service is None:
            raise ValidationError("Servicio no encontrado.", field="servicio_id")
        label = line_label(service.name, req.day, req.hhmm)
        entry, provider_id = check_line(service, req, staff=staff, ignore_cart_id=cart.id if cart else None)
        if not entry.reservable:
            failures.append((label, entry))
            continue
        hold = holds.get(req.hold_id) if req.hold_id else None
        if hold is not None:  # the price the customer saw
            unit_price, rule = hold.unit_price, hold.pricing_rule
            if hold.provider_id in entry.proveedores_libres:
                provider_id = hold.provider_id
        else:
            unit_price, rule = service.base_price, service.pricing_rule
        line = ServiceLine(order_id=order.id, service_id=service.id, service_date=req.day, start_time=req.hhmm,
                           people=req.people, provider_id=provider_id, unit_price=unit_price, pricing_rule=rule,
                           subtotal=line_price(unit_price, rule, req.people), created_by_id=getattr(by, "id", None))
        db.session.add(line)
        db.session.flush()  # later lines of this order count this one
    if failures:
        raise SlotUnavailable(failures)

    from app.orders.models import ProductLine

    lock_products(item.product_id for item in (cart.product_lines if cart else []))  # ascending ids, once
    for item in cart.product_lines if cart else []:
        product = db.session.get(Product, item.product_id)
        line = ProductLine(order_id=order.id, product_id=product.id, quantity=item.quantity,
                           unit_price=item.unit_price, subtotal=item.unit_price * item.quantity,
                           recipient_name=item.recipient_name, recipient_email=item.recipient_email,
                           message=item.message, created_by_id=getattr(by, "id", None))
        db.session.add(line)
        db.session.flush()
        change_stock(product, -item.quantity, reason="venta", by=by, order_id=order.id)

    if cart is not None and cart.discount_code:
        code = find_valid_code(cart.discount_code, client_id=client.id, lock=True)  # no use left: dropped
        if code is not None:
            apply_code(order, code.code, by=by)
    recalculate_order(order)
    n_services = len(lines)
    record_event(client, "order_created",
                 f"Venta #{order.id} creada ({origin}): {n_services} servicio{'s' if n_services != 1 else ''}, "
                 f"total {format_clp(order.total)}", by=by, order_id=order.id)
    for line in order.service_lines:
        record_event(client, "line_added",
                     f"{line.service.name} {line.service_date:%d/%m/%Y} {line.start_time}, {line.people} "
                     f"persona{'s' if line.people != 1 else ''}, {format_clp(line.subtotal)}",
                     by=by, order_id=order.id)
    if proposed:
        db.session.add(ClientUpdateRequest(client_id=client.id, order_id=order.id,
                                           source="checkout" if origin == "web" else "api", proposed=proposed))
        record_event(client, "client_update_requested",
                     "; ".join(f"{k}: {v['actual'] or '—'} → {v['propuesto']}" for k, v in proposed.items()),
                     by=by, order_id=order.id)
    if order.service_lines:
        emit_event("booking.created", lambda: {"venta_reserva": order_representation(order)})
    if cart is not None:
        cart.holds.clear()  # delete-orphan: the rows go with the flush
        cart.product_lines.clear()
        cart.converted_order_id = order.id
        cart.converted_at = now
        cart.discount_code = None
    db.session.flush()
    from app.automations.events import on_order_placed

    on_order_placed(order, by=by)
    return order


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
    requests = [LineRequest(service_id=h.service_id, day=h.date, hhmm=h.time, people=h.people,
                            provider_id=None, hold_id=h.id) for h in cart.holds]
    return place_order(lines=requests, data=data, origin="web", cart=cart, ip=ip)


# --- cancellation --------------------------------------------------------------------------------------------


def cancel_order(order: Order, *, reason: str, by=None, restock: bool = True) -> Order:
    """Cancel every line (capacity freed at once), restore stock, recalculate, audit; flushes."""
    if not (reason or "").strip():
        raise ValidationError("Indique el motivo de la cancelación.", field="motivo")
    if len(reason.strip()) > 255:
        raise ValidationError("El motivo admite hasta 255 caracteres.", field="motivo")
    order = lock_order(order)
    if order.is_cancelled:
        return order
    now = clock.now()
    if restock:
        lock_products(pl.product_id for pl in order.product_lines if pl.status == "activa")
    for line in order.service_lines:
        if line.status != "cancelada":
            line.status = "cancelada"
            line.cancelled_at = now
            line.cancel_reason = reason
    for pl in order.product_lines:
        if pl.status == "activa":
            pl.status = "anulada"
            if restock:
                change_stock(pl.product, pl.quantity, reason="venta_anulada", by=by, order_id=order.id)
    order.cancelled_at = now
    order.cancelled_by_id = getattr(by, "id", None)
    order.cancel_reason = reason.strip()
    recalculate_order(order)
    record_event(order.client, "order_cancelled", f"Motivo: {reason.strip()}", by=by, order_id=order.id)
    emit_event("order.cancelled", lambda: {"venta_reserva": order_representation(order)})
    return order
