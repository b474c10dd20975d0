"""Read side of clients (spec crm.md §3, §7): list search, detail sections, export rows. Nothing here mutates."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from app.clients.models import Client, ClientUpdateRequest


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
    conditions = [
        accentless(Client.name).contains(fold(text), autoescape=True),
        sa.func.lower(Client.email).contains(text.lower(), autoescape=True),
    ]
    if len(digits) >= 3:
        conditions.append(Client.phone.contains(digits, autoescape=True))
    return sa.or_(*conditions)


def client_list_select(q: str = "") -> sa.Select:
    """Clients matching the search, by name then id (the list page's rows)."""
    stmt = sa.select(Client).order_by(Client.name, Client.id)
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


def client_count_select(q: str = "") -> sa.Select:
    stmt = sa.select(sa.func.count(Client.id))
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


def client_events_select(client_id: int) -> sa.Select:
    """The audit timeline, newest first, with the acting user's name."""
    from app.auth.models import User
    from app.clients.models import ClientEvent

    return (
        sa.select(ClientEvent, User.username)
        .outerjoin(User, User.id == ClientEvent.user_id)
        .where(ClientEvent.client_id == client_id)
        .order_by(ClientEvent.created_at.desc(), ClientEvent.id.desc())
    )


def consent_history_select(client_id: int, limit: int = 30) -> sa.Select:
    """The latest consent changes (ConsentEvent rows, crm.md §5), newest first, with the acting user's name."""
    from app.auth.models import User
    from app.clients.models import ConsentEvent

    return (
        sa.select(ConsentEvent, User.username)
        .outerjoin(User, User.id == ConsentEvent.user_id)
        .where(ConsentEvent.client_id == client_id)
        .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc())
        .limit(limit)
    )


def client_event_count_select(client_id: int) -> sa.Select:
    from app.clients.models import ClientEvent

    return sa.select(sa.func.count(ClientEvent.id)).where(ClientEvent.client_id == client_id)


def duplicate_groups_select(limit: int = 200) -> tuple[sa.Select, sa.Select]:
    """E-mails and documents shared by more than one client (the duplicates screen)."""
    email = (
        sa.select(Client.email.label("key"), sa.func.count(Client.id).label("n"))
        .where(Client.email.is_not(None), Client.email != "")
        .group_by(Client.email)
        .having(sa.func.count(Client.id) > 1)
        .order_by(Client.email)
        .limit(limit)
    )
    document = (
        sa.select(Client.document_id.label("key"), sa.func.count(Client.id).label("n"))
        .where(Client.document_id.is_not(None), Client.document_id != "")
        .group_by(Client.document_id)
        .having(sa.func.count(Client.id) > 1)
        .order_by(Client.document_id)
        .limit(limit)
    )
    return email, document


def pending_updates_select() -> sa.Select:
    """Pending contact updates (spec crm.md §4), newest first, each with its client."""
    return (
        sa.select(ClientUpdateRequest, Client)
        .join(Client, Client.id == ClientUpdateRequest.client_id)
        .where(ClientUpdateRequest.status == "pendiente")
        .order_by(ClientUpdateRequest.created_at.desc(), ClientUpdateRequest.id.desc())
    )


def pending_update_count_select() -> sa.Select:
    return sa.select(sa.func.count()).select_from(ClientUpdateRequest).where(ClientUpdateRequest.status == "pendiente")
