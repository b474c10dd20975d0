"""Scheduled client work. `purge_stale_imports` belongs to the daily `cleanup` job (communications.md §6)."""

from __future__ import annotations

import os
from datetime import timedelta

import sqlalchemy as sa

from app.clients.import_services import stored_path
from app.clients.models import ClientImport
from app.core import clock
from app.extensions import db

STALE_AFTER = timedelta(hours=24)


def purge_stale_imports() -> str:
    """Unapplied uploads older than 24 h are discarded and their files deleted (crm.md §7.2)."""
    cutoff = clock.now() - STALE_AFTER
    stale = db.session.scalars(
        sa.select(ClientImport).where(ClientImport.status == "preview", ClientImport.created_at < cutoff)
    ).all()
    for record in stale:
        record.status = "descartado"
        path = stored_path(record.stored_name)
        if os.path.exists(path):
            os.unlink(path)
    db.session.flush()
    return f"{len(stale)} importaciones vencidas descartadas"
