"""The public site's blueprint alone: `views.py` and the `*_views.py` modules register their routes on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shop", __name__)
