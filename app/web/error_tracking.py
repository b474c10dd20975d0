"""Sentry error tracking (docs/OPERATIONS.md "Error tracking"): on when SENTRY_DSN is set.

No personal data leaves: sentry-sdk's defaults send none (no cookies, IP addresses, users, request bodies,
local variables), and every string of the event (messages, exception values, breadcrumbs, URLs, query strings,
headers) goes through `scrub` before it is sent: e-mail addresses, Chilean and international phone numbers and RUTs
become `***` (as in the logs, app/core/logs.py).
"""

from __future__ import annotations

import re

from flask import Flask

from app.core.logs import MASK, mask_text

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?:\+|%2[Bb])?(?:56[\s.-]?)?9[\s.-]?\d{4}[\s.-]?\d{4}\b"  # Chilean mobile, with or without +56 and spaces
    r"|(?:\+|%2[Bb])\d[\d\s.-]{6,16}\d"  # any international number
)
_RUT = re.compile(r"\b\d{1,2}\.\d{3}\.\d{3}-?[\dkK]\b|\b\d{7,8}-[\dkK]\b")
_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "x-automation-key", "proxy-authorization"}


def scrub_text(text: str) -> str:
    text = mask_text(text)  # URL tokens, e-mails, phones as the logs mask them
    text = _EMAIL.sub(MASK, text)
    text = _RUT.sub(MASK, text)
    return _PHONE.sub(MASK, text)


def scrub(value):
    """A copy of an event (any JSON-like value) with every string scrubbed and secret headers removed."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: (MASK if isinstance(key, str) and key.lower() in _SECRET_HEADERS else scrub(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def _before_send(event, _hint):
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data", "env"):
            request.pop(key, None)
    return scrub(event)


def init_error_tracking(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT"),
        integrations=[FlaskIntegration()],
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=app.config.get("SENTRY_TRACES_SAMPLE_RATE") or 0.0,
        before_send=_before_send,
        before_send_transaction=_before_send,
        before_breadcrumb=lambda crumb, _hint: scrub(crumb),
    )
    app.logger.info("Sentry activo (%s)", app.config.get("SENTRY_ENVIRONMENT"))
