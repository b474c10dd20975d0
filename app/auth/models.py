from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, _now, enum_check
from app.extensions import db

ROLES = ("admin", "gerente", "recepcion", "marketing")
ROLE_LABELS = {"admin": "Administrador", "gerente": "Gerente", "recepcion": "Recepción", "marketing": "Marketing"}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (enum_check("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    full_name: Mapped[str | None] = mapped_column(sa.String(150))
    role: Mapped[str] = mapped_column(sa.String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_system: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    # bumped by logout and password change: browser sessions carry it in their id, so older cookies stop working
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def get_id(self) -> str:
        """The id a browser session stores: `<id>:<session_version>` (a bare id means version 0)."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Invalidate every browser session of this user (logout everywhere, password change)."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def can_log_in(self) -> bool:
        return self.is_active and not self.is_system and bool(self.password_hash)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __str__(self) -> str:
        return self.username


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_prefix: Mapped[str] = mapped_column(sa.String(8))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"
