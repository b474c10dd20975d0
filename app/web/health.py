"""Liveness and readiness (spec api.md §9): no auth, no CSRF, no rate limits."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from app.auth.decorators import public  # noqa: I001
from app.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
@public
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
@public
def readyz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="error"), 503
    return jsonify(status="ok", database="ok")
