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


def client_list_select(q: str = "") -> sa.Select:
    """Clients matching the search, by name then id (the list page's rows)."""
    stmt = sa.select(Client).order_by(Client.name, Client.id)
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


def client_count_select(q: str = "") -> sa.Select:
    stmt = sa.select(sa.func.count(Client.id))
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


def stats_for_select(client_ids) -> sa.Select:
    """client_stats() rows of the given clients only (a page's worth)."""
    from app.clients.stats import client_stats

    return client_stats().where(Client.id.in_(list(client_ids)))


def client_export_select(q: str = "") -> sa.Select:
    """Plain rows for the client export: the client's columns plus visits, spend and last visit, one statement."""
    from app.clients.stats import client_stats

    stats = client_stats().subquery()
    stmt = (sa.select(Client.id, Client.name, Client.phone, Client.email, Client.document_id, Client.city,
                      Client.country, Client.birth_date, stats.c.visits, stats.c.spend, stats.c.last_visit,
                      Client.created_at)
            .join(stats, stats.c.client_id == Client.id).order_by(Client.id))
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


# --- client detail sections ------------------------------------------------------------------------------------


def client_orders_select(client_id: int) -> sa.Select:
    from app.orders.models import Order

    return sa.select(Order).where(Order.client_id == client_id).order_by(Order.sold_at.desc(), Order.id.desc())


def client_order_count_select(client_id: int) -> sa.Select:
    from app.orders.models import Order

    return sa.select(sa.func.count(Order.id)).where(Order.client_id == client_id)


def client_payments_select(client_id: int, limit: int = 50) -> sa.Select:
    """The client's latest payments (all orders), with method label and recording user."""
    from app.auth.models import User
    from app.orders.models import Order
    from app.payments.models import Payment, PaymentMethod

    return (sa.select(Payment.id, Payment.order_id, Payment.paid_at, Payment.amount, Payment.is_refund,
                      Payment.status, PaymentMethod.label.label("method_label"), User.username)
            .join(Order, Order.id == Payment.order_id)
            .outerjoin(PaymentMethod, PaymentMethod.code == Payment.method)
            .outerjoin(User, User.id == Payment.recorded_by_id)
            .where(Order.client_id == client_id).order_by(Payment.paid_at.desc(), Payment.id.desc()).limit(limit))


def client_gift_cards_select(client_id: int) -> sa.Select:
    """Gift cards the client bought or received."""
    from app.payments.models import GiftCard

    return (sa.select(GiftCard).where(sa.or_(GiftCard.buyer_client_id == client_id,
                                             GiftCard.recipient_client_id == client_id))
            .order_by(GiftCard.created_at.desc(), GiftCard.id.desc()))


def client_events_select(client_id: int) -> sa.Select:
    """The audit timeline, newest first, with the acting user's name."""
    from app.auth.models import User
    from app.clients.models import ClientEvent

    return (sa.select(ClientEvent, User.username).outerjoin(User, User.id == ClientEvent.user_id)
            .where(ClientEvent.client_id == client_id)
            .order_by(ClientEvent.created_at.desc(), ClientEvent.id.desc()))


def client_event_count_select(client_id: int) -> sa.Select:
    from app.clients.models import ClientEvent

    return sa.select(sa.func.count(ClientEvent.id)).where(ClientEvent.client_id == client_id)


def duplicate_groups_select(limit: int = 200) -> tuple[sa.Select, sa.Select]:
    """E-mails and documents shared by more than one client (the duplicates screen)."""
    email = (sa.select(Client.email.label("key"), sa.func.count(Client.id).label("n"))
             .where(Client.email.is_not(None), Client.email != "").group_by(Client.email)
             .having(sa.func.count(Client.id) > 1).order_by(Client.email).limit(limit))
    document = (sa.select(Client.document_id.label("key"), sa.func.count(Client.id).label("n"))
                .where(Client.document_id.is_not(None), Client.document_id != "").group_by(Client.document_id)
                .having(sa.func.count(Client.id) > 1).order_by(Client.document_id).limit(limit))
    return email, document
