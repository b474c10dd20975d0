from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, _now, enum_check
from app.extensions import db

FEED_KINDS = ("servicio", "proveedor")


class CalendarFeedKey(db.Model):
    """The version mixed into a feed's token; an admin bumps it to revoke the old URL (no row = version 0)."""

    __tablename__ = "calendar_feed_keys"
    __table_args__ = (
        enum_check("kind", FEED_KINDS),
        sa.UniqueConstraint("kind", "object_id", name="uq_calendar_feed_keys_kind_object"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    object_id: Mapped[int]
    version: Mapped[int] = mapped_column(default=0)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    rotated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
