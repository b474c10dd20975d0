"""Read side of clients (spec crm.md §3, §7): list search, detail sections, export rows. Nothing here mutates."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from app.clients.models import Client


def fold(text: str) -> str:
    """Lower-case without accents (for accent-insensitive matching)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def accentless(column):
    """SQL lower() without accents (SQLite's lower() is ASCII-only)."""
    expr = column
    for accented, plain in zip("ÁÉÍÓÚÜÑáéíóúüñ", "aeiouunaeiouun", strict=True):
        expr = sa.func.replace(expr, accented, plain)
    return sa.func.lower(expr)


def search_condition(q: str) -> sa.ColumnElement | None:
    """Name (accent-insensitive) or e-mail contains `q`, or the phone contains its digits (≥ 3); None if blank."""
    text = (q or "").strip()
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    conditions = [accentless(Client.name).contains(fold(text), autoescape=True),
                  sa.func.lower(Client.email).contains(text.lower(), autoescape=True)]
    if len(digits) >= 3:
        conditions.append(Client.phone.contains(digits, autoescape=True))
    return sa.or_(*conditions)
