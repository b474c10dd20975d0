"""The cart page's read (issue 20): the cart of a session token with its lines as plain values, in one statement
built once — what `cart_services.get_cart(token, with_lines=True)` loads as ORM objects, for the page that only
shows them. The values keep the ORM objects' attribute names (`h.service.name`, `p.product.name`, `cart.holds`…),
so the templates and `cart_services.cart_totals` read either."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import sqlalchemy as sa

from app.catalog.models import Product, Provider, Service
from app.core.db import UTCDateTime
from app.extensions import db
from app.sales.models import Cart, CartHold, CartProductLine


@functools.cache
def _cart_statement() -> sa.Select:
    """(cart id, discount code, kind, line id, name, date, time, people, provider id, provider name, expires at,
    released at, subtotal, quantity, unit price) per line — holds (kind 0) then products (kind 1), each by id — or
    one row with no line for an empty cart; no row for an unknown token."""
    cart_id = sa.select(Cart.id).where(Cart.token == sa.bindparam("token")).scalar_subquery()
    no_int, no_text = sa.cast(sa.null(), sa.Integer), sa.cast(sa.null(), sa.String)
    holds = (
        sa.select(
            sa.literal_column("0", sa.Integer).label("kind"),
            CartHold.cart_id,
            CartHold.id,
            Service.name,
            CartHold.date,
            CartHold.time,
            CartHold.people,
            CartHold.provider_id,
            Provider.name.label("provider_name"),
            CartHold.expires_at,
            CartHold.released_at,
            CartHold.subtotal,
            no_int.label("quantity"),
            no_int.label("unit_price"),
        )
        .join(Service, Service.id == CartHold.service_id)
        .outerjoin(Provider, Provider.id == CartHold.provider_id)
        .where(CartHold.cart_id == cart_id)
    )
    no_time = sa.cast(sa.null(), UTCDateTime())
    products = (
        sa.select(
            sa.literal_column("1", sa.Integer),
            CartProductLine.cart_id,
            CartProductLine.id,
            Product.name,
            sa.cast(sa.null(), sa.Date),
            no_text,
            no_int,
            no_int,
            no_text,
            no_time,
            no_time,
            sa.cast(sa.null(), sa.BigInteger),
            CartProductLine.quantity,
            CartProductLine.unit_price,
        )
        .join(Product, Product.id == CartProductLine.product_id)
        .where(CartProductLine.cart_id == cart_id)
    )
    lines = sa.union_all(holds, products).subquery("lines")
    return (
        sa.select(Cart.id, Cart.discount_code, *(c for c in lines.c if c.key != "cart_id"))
        .select_from(Cart.__table__)
        .outerjoin(lines, lines.c.cart_id == Cart.id)
        .where(Cart.token == sa.bindparam("token"))
        .order_by(lines.c.kind, lines.c.id)
    )


def cart_with_lines(token: str | None) -> SimpleNamespace | None:
    """The cart of a session token with its holds and product lines as plain values, or None."""
    if not token:
        return None
    rows = db.session.connection().execute(_cart_statement(), {"token": token}).all()
    if not rows:
        return None
    holds, products = [], []
    for row in rows:
        (_, _, kind, line_id, name, day, hhmm, people, provider_id, provider_name) = row[:10]
        (expires_at, released_at, subtotal, quantity, unit_price) = row[10:]
        if kind == 0:
            holds.append(
                SimpleNamespace(
                    id=line_id,
                    service=SimpleNamespace(name=name),
                    date=day,
                    time=hhmm,
                    people=people,
                    provider_id=provider_id,
                    provider=SimpleNamespace(id=provider_id, name=provider_name) if provider_id is not None else None,
                    expires_at=expires_at,
                    released_at=released_at,
                    subtotal=subtotal,
                )
            )
        elif kind == 1:
            products.append(
                SimpleNamespace(
                    id=line_id,
                    product=SimpleNamespace(name=name),
                    quantity=quantity,
                    unit_price=unit_price,
                    subtotal=unit_price * quantity,
                )
            )
    return SimpleNamespace(id=rows[0][0], token=token, discount_code=rows[0][1], holds=holds, product_lines=products)
