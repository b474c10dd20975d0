"""Security headers and request ids for every response (spec README §7, deployment.md §6)."""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_security(app: Flask) -> None:
    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _headers(response):
        h = response.headers
        nonce = g.get("csp_nonce")  # set only by pages that need inline code (the Flask-Admin back office)
        if nonce:
            h.setdefault("Content-Security-Policy", CSP.replace(
                "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'").replace(
                "script-src 'self'", f"script-src 'self' 'nonce-{nonce}'"))
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        h["X-Request-ID"] = g.get("request_id", "")
        return response
