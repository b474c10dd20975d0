"""GIFTCARD_MAX_AMOUNT on the other paths that put a value on a card (security review M4): the API's gift-card
products, the admin product form, the public cart; beyond the bound or the column, a clear error, never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import Product
from app.core.errors import ValidationError
from app.sales import cart_services
from tests.api.conftest import api, placed_order, token_for  # noqa: F401  (fixtures)

HUGE = 9223372036854775808
MAX_MESSAGE = "El monto máximo de una gift card es $1.000.000."


def test_api_gift_card_product_price_is_bounded(booking_setup, api, db_session):  # noqa: F811
    gerente = api("gerente")
    for price in (1_000_001, 2**31, HUGE):
        r = gerente.post(
            "/ventas/api/productos/", json={"nombre": "Gift Card XL", "precio_base": price, "es_giftcard": True}
        )
        assert r.status_code == 400, (price, r.json)
        assert r.json["code"] == "validation_error" and "precio_base" in r.json["detail"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
    r = gerente.post(
        "/ventas/api/productos/", json={"nombre": "Gift Card $50.000", "precio_base": 50000, "es_giftcard": True}
    )
    assert r.status_code == 201
    pid = r.json["id"]
    r = gerente.patch(f"/ventas/api/productos/{pid}/", json={"precio_base": 1_500_000})
    assert r.status_code == 400 and r.json["detail"]["precio_base"] == [MAX_MESSAGE]
    db_session.expire_all()
    assert db_session.get(Product, pid).base_price == 50000
    # an ordinary product is not a gift card: its price is not bounded by the gift-card maximum
    assert (
        gerente.post("/ventas/api/productos/", json={"nombre": "Cabaña premium", "precio_base": 1_500_000}).status_code
        == 201
    )


def test_api_payment_beyond_bigint_is_a_clear_error(placed_order, api):  # noqa: F811
    r = api("recepcion").post(
        "/ventas/api/pagos/", json={"venta_reserva": placed_order.id, "monto": HUGE, "metodo_pago": "efectivo"}
    )
    assert r.status_code in (400, 422) and r.json["code"] in ("validation_error", "business_rule")


def test_admin_product_form_refuses_a_gift_card_beyond_the_bound(booking_setup, login, db_session):
    c = login("admin")
    r = c.post(
        "/admin/product/new/",
        data={"name": "Gift Card XL", "base_price": "2000000", "is_active": "y", "is_gift_card": "y"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and MAX_MESSAGE in r.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0


def test_public_cart_amount_is_bounded(booking_setup, make_product, app, monkeypatch):
    free = make_product(name="Gift Card monto libre", base_price=0, is_gift_card=True, is_published=True)
    cart = cart_services.create_cart()
    for amount in (1_000_001, HUGE, 4999, None):
        with pytest.raises(ValidationError, match=r"entre \$5\.000 y \$1\.000\.000"):
            cart_services.add_product_to_cart(cart, product_id=free.id, quantity=1, amount=amount)
    assert (
        cart_services.add_product_to_cart(cart, product_id=free.id, quantity=1, amount=1_000_000).unit_price
        == 1_000_000
    )
    monkeypatch.setitem(app.config, "GIFTCARD_MAX_AMOUNT", 300000)
    with pytest.raises(ValidationError, match=r"entre \$5\.000 y \$300\.000"):
        cart_services.add_product_to_cart(cart, product_id=free.id, quantity=1, amount=300001)
    face = make_product(name="Gift Card $500.000", base_price=500000, is_gift_card=True, is_published=True)
    with pytest.raises(ValidationError, match=r"El monto máximo de una gift card es \$300\.000\."):
        cart_services.add_product_to_cart(cart, product_id=face.id, quantity=1)
