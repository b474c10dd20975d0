"""User and token state changes. Services flush, never commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ROLES, ApiToken, User
from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db

MIN_PASSWORD_LENGTH = 10
SYSTEM_USERNAME = "sistema"
# Spends the same time as a real check when the user does not exist (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash("x" * MIN_PASSWORD_LENGTH)


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"La contraseña debe tener al menos {MIN_PASSWORD_LENGTH} caracteres.", field="password")


def create_user(
    *, username: str, role: str, password: str | None, email: str | None = None, full_name: str | None = None
) -> User:
    """Create a staff user; flushes; raises ValidationError for a bad role, password or taken username."""
    username = (username or "").strip()
    if not username:
        raise ValidationError("El nombre de usuario es obligatorio.", field="username")
    if role not in ROLES:
        raise ValidationError(f"Rol desconocido: {role}. Use uno de: {', '.join(ROLES)}.", field="role")
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise ValidationError(f"El usuario «{username}» ya existe.", field="username")
    user = User(username=username, role=role, email=(email or None), full_name=full_name)
    if password is not None:
        validate_password(password)
        user.password_hash = generate_password_hash(password)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace the user's password; flushes; raises ValidationError if too short."""
    validate_password(password)
    user.password_hash = generate_password_hash(password)
    user.end_sessions()
    db.session.flush()


def authenticate(username: str, password: str) -> User | None:
    """The active, loggable user with that password, else None; records the login time."""
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()))
    if user is None or not user.can_log_in:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    user.last_login_at = clock.now()
    db.session.flush()
    return user


def ensure_system_user() -> User:
    """The built-in `sistema` actor of jobs and webhooks (cannot log in); flushes."""
    user = db.session.scalar(sa.select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        user = User(username=SYSTEM_USERNAME, role="admin", is_system=True, full_name="Sistema")
        db.session.add(user)
        db.session.flush()
    return user


TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(user: User, name: str = "token", days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a personal API token (`ark_` + 40 URL-safe chars); returns (row, raw token shown once).

    Only the SHA-256 hash is stored; flushes; raises ValidationError for a non-positive `days`.
    """
    if days is not None and days < 1:
        raise ValidationError("Los días de validez deben ser al menos 1.", field="days")
    raw = "ark_" + secrets.token_urlsafe(30)
    token = ApiToken(
        user=user,
        name=name.strip() or "token",
        token_prefix=raw[:8],
        token_hash=_hash_token(raw),
        expires_at=clock.now() + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


def user_for_token(raw: str) -> User | None:
    """The active user owning this bearer token, compared in constant time; None otherwise."""
    token = active_token(raw)
    return token.user if token is not None else None


@cache
def _token_by_hash() -> sa.Select:
    """The token with its user (one statement) by `:digest`, built once: every API request runs it."""
    return sa.select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == sa.bindparam("digest"))


def active_token(raw: str) -> ApiToken | None:
    """The usable token row for this raw token (not revoked/expired, active user); records its use."""
    if not raw:
        return None
    digest = _hash_token(raw)
    token = db.session.scalar(_token_by_hash(), {"digest": digest})
    if token is None or token.revoked_at is not None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        return None
    if not token.user.is_active or token.user.is_system:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:  # not a write per request
        token.last_used_at = now
    return token


def revoke_api_token(token: ApiToken) -> ApiToken:
    """Revoke a token (row kept, later requests 401); flushes."""
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        db.session.flush()
    return token
