"""Signed public tokens (orders, gift cards, unsubscribe links): itsdangerous with SECRET_KEY and a salt."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

ORDER_SALT = "order-public"


def _serializer(salt: str) -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], salt)


@lru_cache(maxsize=32)
def _serializer_for(secret, salt: str) -> URLSafeSerializer:
    """One serializer per key and salt (stateless; a page of 100 orders signs 100 links)."""
    return URLSafeSerializer(secret, salt=salt)


def sign_value(value, salt: str) -> str:
    return _serializer(salt).dumps(value)


def unsign_value(token: str, salt: str):
    """The signed value, or None for a tampered/foreign token."""
    try:
        return _serializer(salt).loads(token or "")
    except BadSignature:
        return None


def order_token(order_id: int) -> str:
    return sign_value(order_id, ORDER_SALT)


def order_id_from_token(token: str) -> int | None:
    value = unsign_value(token, ORDER_SALT)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
