"""The reports blueprint alone: each report's `*_views.py` registers its routes on it (no import cycle)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/ventas")
