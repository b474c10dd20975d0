"""The one blueprint of the JSON API (CSRF-exempt: header auth; session writes check X-CSRFToken themselves)."""

from flask import Blueprint

bp = Blueprint("api", __name__)
