"""The server-side cart: tokens, slot holds (capacity writes under lock), product lines, the cart's discount
code and its totals, and the expiry job's release. Flush, never commit.
"""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm.attributes import set_committed_value

from app.catalog.models import Product
from app.catalog.policy import line_price
from app.core import clock
from app.core.errors import Msg, ValidationError
from app.core.identity import normalize_email
from app.core.money import format_clp
from app.extensions import db
from app.sales import availability, signals
from app.sales.discount_services import INVALID_CODE, find_valid_code
from app.sales.locks import lock_services
from app.sales.models import (
    Cart,
    CartHold,
    CartProductLine,
    DiscountCode,
)
from app.sales.services import LineRequest, SlotUnavailable, cfg, check_line, line_label

# Tests switch this off to show that without the row lock concurrent checkouts oversell (negative control).
MAX_CART_LINES = 10


# --- cart ----------------------------------------------------------------------------------------------------


def new_cart_token() -> str:
    return secrets.token_urlsafe(32)


def get_cart(token: str | None, *, with_lines: bool = False) -> Cart | None:
    """The cart of a session token; `with_lines` loads its holds (service, provider) and product lines (product)
    in the same statement, for pages that show them."""
    if not token:
        return None
    if with_lines:
        return db.session.scalars(_cart_statement(True), {"token": token}).unique().first()
    return db.session.scalar(_cart_statement(False), {"token": token})


@functools.cache
def _cart_statement(with_lines: bool) -> sa.Select:
    """get_cart's statement, built once (its loader options made the cache key costly to build per call)."""
    statement = sa.select(Cart).where(Cart.token == sa.bindparam("token"))
    if with_lines:
        holds = orm.joinedload(Cart.holds)
        statement = statement.options(
            holds.joinedload(CartHold.service),
            holds.joinedload(CartHold.provider),
            orm.joinedload(Cart.product_lines).joinedload(CartProductLine.product),
        )
    return statement


@functools.cache
def _cart_and_count_statement() -> sa.Select:
    holds = sa.select(sa.func.count()).where(CartHold.cart_id == Cart.id).scalar_subquery()
    products = sa.select(sa.func.count()).where(CartProductLine.cart_id == Cart.id).scalar_subquery()
    return sa.select(Cart, holds + products).where(Cart.token == sa.bindparam("token"))


def get_cart_and_line_count(token: str | None) -> tuple[Cart | None, int]:
    """The cart of a session token and its number of lines (`cart_line_count`), in one statement, without loading
    its holds and product lines (issue 20: add-to-cart needs only the count)."""
    if not token:
        return None, 0
    row = db.session.execute(_cart_and_count_statement(), {"token": token}).first()
    return (row[0], row[1] or 0) if row is not None else (None, 0)


def create_cart() -> Cart:
    """A new empty server-side cart; flushes."""
    cart = Cart(token=new_cart_token())
    db.session.add(cart)
    db.session.flush()
    return cart


def cart_line_count(cart: Cart) -> int:
    return len(cart.holds) + len(cart.product_lines)


def hold_slot(cart: Cart, req: LineRequest, *, lines: int | None = None) -> CartHold:
    """Hold capacity for a cart line until now + CART_HOLD_MINUTES (a capacity write under lock); flushes.
    `lines`: the cart's line count when the caller already read it (`get_cart_and_line_count`).

    Raises ValidationError (cart full, unknown service) or SlotUnavailable.
    """
    if (cart_line_count(cart) if lines is None else lines) >= MAX_CART_LINES:
        raise ValidationError("El carrito admite hasta 10 líneas.")
    services = lock_services([(req.service_id, req.day)])
    service = services.get(req.service_id)
    if service is None:
        raise ValidationError("Servicio no encontrado.", field="servicio_id")
    entry, provider_id = check_line(service, req, staff=False)
    if not entry.reservable:
        raise SlotUnavailable([(line_label(service.name, req.day, req.hhmm), entry)], entry.mensaje)
    now = clock.now()
    values = {
        "service_id": service.id,
        "date": req.day,
        "time": req.hhmm,
        "people": req.people,
        "provider_id": provider_id,
        "unit_price": service.base_price,
        "pricing_rule": service.pricing_rule,
        "subtotal": line_price(service.base_price, service.pricing_rule, req.people),
        "expires_at": now + timedelta(minutes=cfg("CART_HOLD_MINUTES")),
    }
    if db.session.get_bind().dialect.name == "postgresql" and cart.id is not None:
        return _insert_hold(cart, values, now)
    hold = CartHold(cart=cart, **values)
    db.session.add(hold)
    cart.updated_at = now
    db.session.flush()
    return hold


_HOLD_COLUMNS = (
    "service_id",
    "date",
    "time",
    "people",
    "provider_id",
    "unit_price",
    "pricing_rule",
    "subtotal",
    "expires_at",
    "created_at",
)


@functools.cache
def _hold_statement() -> sa.Insert:
    """PostgreSQL: the cart's `updated_at` and the new hold in one statement (a data-modifying CTE), built once."""
    carts, holds = Cart.__table__, CartHold.__table__
    touched = (
        sa.update(carts)
        .where(carts.c.id == sa.bindparam("cart_id"))
        .values(updated_at=sa.bindparam("now", type_=carts.c.updated_at.type))
        .returning(carts.c.id)
        .cte("touched")
    )
    # bind names unlike any column of carts: an UPDATE also SETs the columns its parameters name
    row = sa.select(touched.c.id, *(sa.bindparam(f"hold_{c}", type_=holds.c[c].type) for c in _HOLD_COLUMNS))
    return sa.insert(holds).from_select(["cart_id", *_HOLD_COLUMNS], row).returning(holds.c.id)


def _insert_hold(cart: Cart, values: dict, now) -> CartHold:
    """hold_slot's write in one round trip instead of the unit of work's UPDATE + INSERT (issue 20): the hold comes
    back as a persistent object with the values written, the cart's `updated_at` as written."""
    values = {**values, "created_at": now}
    db.session.flush()  # anything pending goes first, as with the flush this replaces
    params = {f"hold_{name}": value for name, value in values.items()}
    hold_id = db.session.execute(_hold_statement(), {**params, "cart_id": cart.id, "now": now}).scalar_one()
    hold = CartHold(id=hold_id, cart_id=cart.id, released_at=None, **values)
    orm.make_transient_to_detached(hold)
    db.session.add(hold)
    set_committed_value(cart, "updated_at", now)
    if "holds" in sa.inspect(cart).dict:  # a loaded collection shows the new line, in id order
        set_committed_value(cart, "holds", [*cart.holds, hold])
    return hold


def add_product_to_cart(
    cart: Cart,
    *,
    product_id: int,
    quantity: int,
    amount: int | None = None,
    recipient_name=None,
    recipient_email=None,
    message=None,
) -> CartProductLine:
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
        from app.sales.giftcard_services import check_amount, max_amount

        if product.base_price == 0:
            if amount is None or not 5000 <= amount <= max_amount():
                raise ValidationError(
                    Msg("El monto de la gift card debe estar entre $5.000 y %(max)s.", max=format_clp(max_amount())),
                    field="monto",
                )
            unit_price = amount
        check_amount(unit_price, minimum=1)
    line = CartProductLine(
        cart=cart,
        product_id=product.id,
        quantity=quantity,
        unit_price=unit_price,
        recipient_name=recipient_name,
        recipient_email=normalize_email(recipient_email),
        message=message,
    )
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
    expired = (CartHold.expires_at <= now, CartHold.released_at.is_(None))
    slots = sorted(set(db.session.execute(sa.select(CartHold.service_id, CartHold.date).where(*expired)).tuples()))
    released = db.session.execute(
        sa.update(CartHold).where(*expired).values(released_at=now).execution_options(synchronize_session=False)
    ).rowcount
    idle = sa.select(Cart.id).where(Cart.updated_at < now - timedelta(days=7))
    db.session.execute(sa.delete(CartHold).where(CartHold.cart_id.in_(idle)))
    db.session.execute(sa.delete(CartProductLine).where(CartProductLine.cart_id.in_(idle)))
    db.session.execute(sa.delete(Cart).where(Cart.id.in_(idle.scalar_subquery())))
    db.session.flush()
    if slots:
        signals.holds_expired.send(None, slots=slots)
    return released


def cart_totals(cart: Cart) -> dict:
    subtotal = sum(h.subtotal for h in cart.holds) + sum(p.subtotal for p in cart.product_lines)
    discount = 0
    if cart.discount_code:
        code = find_valid_code(cart.discount_code, client_id=None)
        if code is not None:
            discount = availability.discount_amount(
                subtotal,
                amount=code.value if code.kind == "monto" else None,
                percent=code.value if code.kind == "porcentaje" else None,
            )
    discount = min(discount, subtotal)
    return {"subtotal": subtotal, "discount": discount, "total": subtotal - discount}


def set_cart_code(cart: Cart, raw: str) -> DiscountCode:
    """Validate and store a discount code on the cart; flushes; ValidationError with the spec's message."""
    code = find_valid_code(raw, client_id=None)
    if code is None:
        raise ValidationError(INVALID_CODE, field="codigo")
    cart.discount_code = code.code
    db.session.flush()
    return code
