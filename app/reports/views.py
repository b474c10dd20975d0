"""The reports blueprint; each report lives in its own module, imported at the bottom so its routes register."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/ventas")

from app.reports import cash_views, sales_views, sold_views  # noqa: E402,F401

# isort: split
from app.reports import segmentation_views  # noqa: E402,F401
