"""Catalogue read side: Select objects for the public site and staff lists."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Service, ServiceCategory


def nav_categories() -> sa.Select:
    """Categories that have at least one published service, in navbar order."""
    has_published = sa.exists().where(
        Service.category_id == ServiceCategory.id, Service.is_active.is_(True), Service.is_published.is_(True)
    )
    return sa.select(ServiceCategory).where(has_published).order_by(ServiceCategory.sort_order, ServiceCategory.name)


def published_services(category_id: int | None = None) -> sa.Select:
    """Services the public can see and book, in category then service order."""
    stmt = (
        sa.select(Service)
        .outerjoin(ServiceCategory, Service.category_id == ServiceCategory.id)
        .where(Service.is_active.is_(True), Service.is_published.is_(True))
        .options(selectinload(Service.category))
        .order_by(
            sa.func.coalesce(ServiceCategory.sort_order, 9999), ServiceCategory.name, Service.sort_order, Service.name
        )
    )
    if category_id is not None:
        stmt = stmt.where(Service.category_id == category_id)
    return stmt
