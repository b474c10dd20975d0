"""The AI module's audit log (ai.md §1 "Audit")."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, _now, enum_check
from app.extensions import db

KINDS = ("chat", "nbo", "copilot")
STATUSES = ("ok", "error", "blocked")


class AIQueryLog(db.Model):
    """One question (chat), suggestion (nbo) or draft (copilot): what was asked, which template answered with which
    parameters, how many rows, tokens and cost (integer thousandths of a peso), and how it ended."""

    __tablename__ = "ai_query_logs"
    __table_args__ = (
        enum_check("kind", KINDS),
        enum_check("status", STATUSES),
        sa.Index("ix_ai_query_logs_created_at", "created_at"),
        sa.Index("ix_ai_query_logs_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(10), default="chat")
    question: Mapped[str] = mapped_column(sa.Text, default="")
    template: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict | None] = mapped_column(sa.JSON)
    rows: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_milli_clp: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default="ok")
    error: Mapped[str | None] = mapped_column(sa.Text)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
