"""API authentication (spec api.md §1): personal tokens, staff sessions with X-CSRFToken, role checks."""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request
from flask_login import current_user

from app.auth.models import ROLES

TOKEN_PATHS = ("/ventas/api/", "/ventas/ventas/prebooking/")
TOKEN_SCHEMES = ("Bearer ", "Token ")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STAFF = frozenset(ROLES)
CSRF_MESSAGE = "Falta el encabezado X-CSRFToken o no es válido."


def load_token_user(req):
    """Flask-Login request loader: `Authorization: Bearer|Token <token>` on API paths (g.api_token is set)."""
    header = req.headers.get("Authorization", "")
    scheme = next((s for s in TOKEN_SCHEMES if header.startswith(s)), None)
    if scheme is None or not req.path.startswith(TOKEN_PATHS):
        return None
    from app.auth.services import active_token
    from app.web import credentials

    if credentials.blocked():
        g.api_credentials_blocked = True
        return None
    token = active_token(header[len(scheme) :].strip())
    if token is None:
        credentials.failed()
        g.api_token_invalid = True
        return None
    g.api_token = token
    g.api_token_touched = sa.inspect(token).attrs.last_used_at.history.has_changes()
    return token.user


def api_identity() -> str | None:
    """Who is calling, for idempotency scopes and per-token rate limits: token id, user id or None."""
    if not current_user.is_authenticated:
        return None
    token = g.get("api_token")
    return f"token:{token.id}" if token is not None else f"user:{current_user.id}"


def token_rate_key() -> str:
    return api_identity() or request.remote_addr or "anon"


def no_token() -> bool:
    """Per-token rate limits apply only to token callers (sessions and anonymous have their own limits)."""
    _ = current_user.is_authenticated  # runs the request loader
    return g.get("api_token") is None


def check_access(roles: frozenset | None, *, write: bool | None = None):
    """None if the caller may go on, else the JSON error response (401 / 403 / CSRF)."""
    from app.web.errors import api_error

    authenticated = current_user.is_authenticated
    if g.get("api_credentials_blocked"):
        from app.web.credentials import TOO_MANY

        return api_error(429, TOO_MANY)
    if g.get("api_token_invalid"):
        return api_error(401, "Token inválido, revocado o vencido.")
    if roles is None:  # public
        return None
    if not authenticated:
        return api_error(401)
    if current_user.role not in roles:
        return api_error(403)
    write = request.method in WRITE_METHODS if write is None else write
    if write and g.get("api_token") is None and current_app.config.get("WTF_CSRF_ENABLED", True):
        from flask_wtf.csrf import validate_csrf
        from wtforms import ValidationError

        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError:
            return api_error(403, CSRF_MESSAGE)
    return None


def api_roles(*roles: str, public: bool = False):
    """Decorator for hand-written API views: role check (JSON 401/403), CSRF for session writes.

    Sets `_roles` (or `_public`) for the access-matrix test, like app.auth.decorators.
    """
    allowed = None if public else frozenset(roles or STAFF)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            denied = check_access(allowed)
            return denied if denied is not None else view(*args, **kwargs)

        if public:
            wrapped._public = True
        else:
            wrapped._roles = allowed
        return wrapped

    return decorator
