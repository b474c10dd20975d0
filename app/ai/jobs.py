"""Scheduled work of the AI module: the log purge (AI_LOG_RETENTION_DAYS), part of the daily cleanup."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.ai.models import AIQueryLog
from app.core import clock
from app.extensions import db


def purge_ai_logs() -> str:
    cutoff = clock.now() - timedelta(days=current_app.config["AI_LOG_RETENTION_DAYS"])
    result = db.session.execute(sa.delete(AIQueryLog).where(AIQueryLog.created_at < cutoff))
    return f"{result.rowcount} registros de IA eliminados"
