"""Front desk routes (spec booking.md §8–10)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("frontdesk", __name__, url_prefix="/ventas")
