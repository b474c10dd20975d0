"""Calendar feed state changes: revoking a feed's secret URL (a new token version)."""

from __future__ import annotations

import sqlalchemy as sa

from app.calendars.feeds import MODELS
from app.calendars.models import FEED_KINDS, CalendarFeedKey
from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db


def rotate_feed(kind: str, object_id: int, *, by=None) -> int:
    """Revoke the current URL of a feed (a new token); flushes; returns the new version."""
    if kind not in FEED_KINDS or db.session.get(MODELS[kind], object_id) is None:
        raise ValidationError("Calendario no encontrado.")
    key = db.session.scalar(
        sa.select(CalendarFeedKey)
        .where(CalendarFeedKey.kind == kind, CalendarFeedKey.object_id == object_id)
        .with_for_update()
    )
    if key is None:
        key = CalendarFeedKey(kind=kind, object_id=object_id, version=0)
        db.session.add(key)
    key.version += 1
    key.rotated_at = clock.now()
    key.rotated_by_id = getattr(by, "id", None)
    db.session.flush()
    return key.version
