"""Role checks for every non-public route (spec README §6)."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

from app.auth.models import ROLES

STAFF = ROLES


def role_required(*roles: str):
    """Allow only logged-in users whose role is in `roles` (no roles = any staff role).

    Anonymous: browser -> login redirect, HTMX -> 401 + HX-Redirect, API -> 401 JSON (via the
    login manager's unauthorized handler). Wrong role -> 403.
    """
    allowed = set(roles or STAFF)
    unknown = allowed - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view):
        view._roles = frozenset(allowed)  # read by the access-matrix test

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped._roles = frozenset(allowed)
        return wrapped

    return decorator


def is_api_request() -> bool:
    return request.path.startswith("/ventas/api/")


def public(view):
    """Mark a route as open to anonymous visitors (spec README §6 first rows); the access-matrix test reads it."""
    view._public = True
    return view
