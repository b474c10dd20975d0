"""Security headers and request ids for every response (spec README §7, deployment.md §6), and no keep-alive after a
request whose body the app did not read (security review H2)."""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_body_unread() -> bool:
    """True when the request announced a body (Content-Length > 0 or chunked) that the view did not read to the end,
    e.g. a 401/403/404/429 answered before the form or JSON was parsed."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not (request.content_length or chunked):
        return False
    stream = request.__dict__.get("stream")  # werkzeug caches the stream once something read it
    return not (stream is not None and getattr(stream, "is_exhausted", False))


class HonourConnectionClose:
    """WSGI middleware: when the app answers `Connection: close`, gunicorn closes the connection after the response.

    gunicorn drops hop-by-hop response headers and would keep the connection alive; the unread rest of the body
    would then be parsed as the next request, or a thread would block waiting for bytes the client never sends.
    `start_response` is gunicorn's Response.start_response, whose Response has `force_close()`; other servers
    (werkzeug's, http.server) honour the header themselves.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            if any(k.lower() == "connection" and v.strip().lower() == "close" for k, v in headers):
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def init_security(app: Flask) -> None:
    app.wsgi_app = HonourConnectionClose(app.wsgi_app)

    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _headers(response):
        h = response.headers
        nonce = g.get("csp_nonce")  # set only by pages that need inline code (the Flask-Admin back office)
        if nonce:
            h.setdefault(
                "Content-Security-Policy",
                CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'").replace(
                    "script-src 'self'", f"script-src 'self' 'nonce-{nonce}'"
                ),
            )
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        h["X-Request-ID"] = g.get("request_id", "")
        if request_body_unread():
            h["Connection"] = "close"
        return response
