"""The front desk's blueprint alone (and who may use it): `views.py` and the `*_views.py` modules register their
routes on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("frontdesk", __name__, url_prefix="/ventas")
DESK = ("recepcion", "gerente", "admin")
