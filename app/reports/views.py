"""The reports' routes: each report lives in its own `*_views.py` on the one blueprint (`blueprint.py`); importing
this module registers them all."""

from __future__ import annotations

from app.reports import cash_views, sales_views, segmentation_views, sold_views  # noqa: F401
from app.reports.blueprint import bp

__all__ = ["bp"]
