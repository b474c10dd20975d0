"""Wrong credentials are rate limited per client IP (security review L5): bearer tokens, the automation
X-API-KEY and the inbound SMS token share one budget (CREDENTIAL_FAILURE_LIMIT, default 10 per minute) kept in the
same limiter store as the login limit. Once it is spent, every credential from that IP, right or wrong, answers 429
until the window passes, so a guess cannot be confirmed by a different answer."""

from __future__ import annotations

import logging

from flask import current_app, request

from app.extensions import limiter

log = logging.getLogger(__name__)

DEFAULT_LIMIT = "10 per minute"
TOO_MANY = "Demasiados intentos con credenciales inválidas. Intente nuevamente en un minuto."
NAMESPACE = "bad-credentials"


def _item():
    from limits import parse

    return parse(current_app.config.get("CREDENTIAL_FAILURE_LIMIT") or DEFAULT_LIMIT)


def _active() -> bool:
    return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))


def _key() -> str:
    return request.remote_addr or "anon"


def blocked() -> bool:
    """This IP spent its budget of wrong credentials (checked before the credential is even compared)."""
    if not _active():
        return False
    try:
        return not limiter.limiter.test(_item(), NAMESPACE, _key())
    except Exception:  # the store is down: the login limit decides how to degrade; do not fail the request here
        log.warning("credential limiter unavailable", exc_info=True)
        return False


def failed() -> None:
    """Count one wrong credential for this IP."""
    if not _active():
        return
    try:
        limiter.limiter.hit(_item(), NAMESPACE, _key())
    except Exception:
        log.warning("credential limiter unavailable", exc_info=True)
