"""Wire the JSON API into the app: blueprint, CSRF exemption (header auth), per-token rate limit."""

from __future__ import annotations

from flask import Flask, current_app

from app.api.auth import no_token, token_rate_key
from app.api.idempotency import idempotent
from app.api.views import bp
from app.auth.token_views import bp as tokens_bp
from app.extensions import csrf, limiter

TOKEN_LIMIT = "600 per minute"  # spec api.md §2; API_TOKEN_RATE_LIMIT overrides it (tests)
_limited = False


def token_limit() -> str:
    return current_app.config.get("API_TOKEN_RATE_LIMIT", TOKEN_LIMIT)


def init_api(app: Flask) -> None:
    global _limited
    if not _limited:  # the blueprint object is shared by every app the process creates
        csrf.exempt(bp)
        limiter.limit(
            token_limit,
            key_func=token_rate_key,
            exempt_when=no_token,
            error_message="Demasiadas solicitudes. Intente nuevamente en un minuto.",
        )(bp)
        _limited = True
    app.register_blueprint(bp)
    app.register_blueprint(tokens_bp)
    # Idempotency-Key also on the Flow endpoint of the payments package (spec api.md §2), wrapped from here so
    # that payments does not import the API layer.
    flow_create = app.view_functions.get("payments.api_flow_create")
    if flow_create is not None:
        app.view_functions["payments.api_flow_create"] = idempotent(flow_create)
    app.after_request(_save_token_use)
    app.after_request(_cors)


CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-CSRFToken"


def _cors(response):
    """CORS only for /ventas/api/ and only for the origins in CORS_ALLOWED_ORIGINS (spec api.md §2)."""
    from flask import request

    origin = request.headers.get("Origin", "").rstrip("/")
    allowed = current_app.config.get("CORS_ALLOWED_ORIGINS") or []
    if origin and origin in allowed and request.path.startswith("/ventas/api/"):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), "Origin"]))
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
    return response


def _save_token_use(response):
    """Reads commit nothing; keep a token's last use (set at most once a minute) after a successful GET."""
    from flask import g, request

    from app.extensions import db

    if g.get("api_token_touched") and request.method == "GET" and response.status_code < 400:
        db.session.commit()
    return response
