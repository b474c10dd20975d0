"""Signed public tokens (orders, gift cards, unsubscribe links): itsdangerous with SECRET_KEY and a salt."""

from __future__ import annotations

import hmac
from base64 import urlsafe_b64encode
from collections.abc import Callable
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.signer import HMACAlgorithm

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


def order_token_maker() -> Callable[[int], str]:
    """order_token for many orders (a page or an export of orders): the same tokens, signed with the key derived
    once and a one-shot HMAC (a page of 100 orders signed 100 tokens through itsdangerous' full path)."""
    return _order_token_maker(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _order_token_maker(secret) -> Callable[[int], str]:
    serializer = _serializer_for(secret, ORDER_SALT)
    signer = serializer.make_signer()
    if not isinstance(signer.algorithm, HMACAlgorithm):  # pragma: no cover  (itsdangerous' default is HMAC)
        return serializer.dumps
    key, sep = signer.derive_key(), signer.sep.decode()
    digest = signer.algorithm.digest_method().name  # by name: hmac.digest's one-shot OpenSSL path

    @lru_cache(maxsize=8192, typed=True)  # pure in (secret, id): the newest orders' pages are read again and again
    def token(order_id: int) -> str:
        # an int id's compact JSON is its digits, which zlib never shortens (dump_payload keeps them as is)
        if type(order_id) is not int or not 0 <= order_id < 2**31:
            return serializer.dumps(order_id)
        payload = urlsafe_b64encode(str(order_id).encode()).rstrip(b"=")
        signature = urlsafe_b64encode(hmac.digest(key, payload, digest)).rstrip(b"=")
        return f"{payload.decode()}{sep}{signature.decode()}"

    return token


def order_id_from_token(token: str) -> int | None:
    value = unsign_value(token, ORDER_SALT)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
