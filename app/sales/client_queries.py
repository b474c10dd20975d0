"""A client's sales, read side: orders, payments, gift cards, and the client list's statistics (visits, spend,
segment). They join the client record to the sales core, so they live above both (ARCHITECTURE.md §1)."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.clients.models import Client
from app.clients.queries import search_condition
from app.sales.client_stats import client_stats
from app.sales.models import GiftCard, Order, Payment, PaymentMethod


def stats_for_select(client_ids) -> sa.Select:
    """client_stats() rows of the given clients only (a page's worth)."""

    return client_stats().where(Client.id.in_(list(client_ids)))


def client_export_select(q: str = "") -> sa.Select:
    """Plain rows for the client export: the client's columns plus visits, spend and last visit, one statement."""

    stats = client_stats().subquery()
    stmt = (
        sa.select(
            Client.id,
            Client.name,
            Client.phone,
            Client.email,
            Client.document_id,
            Client.city,
            Client.country,
            Client.birth_date,
            stats.c.visits,
            stats.c.spend,
            stats.c.last_visit,
            Client.created_at,
        )
        .join(stats, stats.c.client_id == Client.id)
        .order_by(Client.id)
    )
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


# --- client detail sections ------------------------------------------------------------------------------------


def client_orders_select(client_id: int) -> sa.Select:
    return sa.select(Order).where(Order.client_id == client_id).order_by(Order.sold_at.desc(), Order.id.desc())


def client_order_count_select(client_id: int) -> sa.Select:
    return sa.select(sa.func.count(Order.id)).where(Order.client_id == client_id)


def client_payments_select(client_id: int, limit: int = 50) -> sa.Select:
    """The client's latest payments (all orders), with method label and recording user."""

    return (
        sa.select(
            Payment.id,
            Payment.order_id,
            Payment.paid_at,
            Payment.amount,
            Payment.is_refund,
            Payment.status,
            PaymentMethod.label.label("method_label"),
            User.username,
        )
        .join(Order, Order.id == Payment.order_id)
        .outerjoin(PaymentMethod, PaymentMethod.code == Payment.method)
        .outerjoin(User, User.id == Payment.recorded_by_id)
        .where(Order.client_id == client_id)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(limit)
    )


def client_gift_cards_select(client_id: int) -> sa.Select:
    """Gift cards the client bought or received."""

    return (
        sa.select(GiftCard)
        .where(sa.or_(GiftCard.buyer_client_id == client_id, GiftCard.recipient_client_id == client_id))
        .order_by(GiftCard.created_at.desc(), GiftCard.id.desc())
    )
