"""Reads of the booking policies (self-service.md §1): the policy of a category (its row, else the defaults of its
kind), the snapshot an order keeps, and the terms that apply to one of its lines."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Service, ServiceCategory
from app.catalog.version import catalog_version, watch
from app.extensions import db
from app.sales import policy
from app.sales.models import BookingPolicy, BookingPolicyChange, Order, ServiceLine
from app.web.fragments import cached_value


def _category_kind(category: ServiceCategory) -> str:
    types = [s.service_type for s in category.services]
    if types:
        return max(set(types), key=types.count)
    name = (category.name or "").lower()
    if "cabaña" in name or "cabana" in name:
        return "cabana"
    return "masaje" if "masaje" in name else "tina"


def category_defaults(category: ServiceCategory) -> dict:
    return policy.defaults_for(_category_kind(category))


def row_values(row: BookingPolicy) -> dict:
    return {name: getattr(row, name) for name in policy.FIELDS}


def category_policies() -> list[tuple[ServiceCategory, BookingPolicy | None, dict]]:
    """Every category in display order with its row (None = defaults apply) and the values in force."""
    rows = {p.category_id: p for p in db.session.scalars(sa.select(BookingPolicy))}
    cats = db.session.scalars(sa.select(ServiceCategory).order_by(ServiceCategory.sort_order, ServiceCategory.name))
    out = []
    for cat in cats:
        row = rows.get(cat.id)
        out.append((cat, row, row_values(row) if row else category_defaults(cat)))
    return out


def service_policy(service: Service) -> dict:
    """The values in force now for a service: its category's row, else the defaults of its kind."""
    if service.category_id is not None:
        row = db.session.scalar(sa.select(BookingPolicy).where(BookingPolicy.category_id == service.category_id))
        if row is not None:
            return row_values(row)
    return policy.defaults_for(service.service_type)


watch(BookingPolicy)  # a change to a policy bumps the catalogue version: placed orders read them once per version


def _policy_rows() -> dict:
    """{category id: the values of its row}: every booking policy row, read once per catalogue version and process
    (issue 20: every checkout snapshots them; they change a few times a year)."""

    def load():
        return {p.category_id: row_values(p) for p in db.session.scalars(sa.select(BookingPolicy))}

    return cached_value("booking-policies", catalog_version(), "rows", load)


def _versioned_policy(service: Service) -> dict:
    """service_policy() from the rows read once per catalogue version."""
    row = _policy_rows().get(service.category_id) if service.category_id is not None else None
    return dict(row) if row is not None else policy.defaults_for(service.service_type)


def snapshot_for(services, *, versioned: bool = False) -> dict:
    """The policies of these services as an order keeps them (`orders.policy_snapshot`); `versioned` reads them
    once per catalogue version (place_order) instead of from the database each time."""
    policies = {}
    for service in services:
        key = policy.policy_key(service.category_id, service.service_type)
        if key not in policies:
            policies[key] = _versioned_policy(service) if versioned else service_policy(service)
    deposit = max((p["deposit_percent"] for p in policies.values()), default=0)
    return {"politicas": policies, "deposit_percent": deposit}


def line_policy(order: Order, line: ServiceLine) -> dict:
    """The terms a line was sold under: the order's snapshot, else (orders placed before snapshots, staff orders)
    the policy in force."""
    key = policy.policy_key(line.service.category_id, line.service.service_type)
    snap = (order.policy_snapshot or {}).get("politicas", {})
    if key in snap:
        return {**policy.defaults_for(line.service.service_type), **snap[key]}
    return service_policy(line.service)


def line_terms(order: Order, line: ServiceLine) -> policy.LineTerms:
    return policy.line_terms(line_policy(order, line), line.service_date, line.start_time)


def order_deposit_percent(order: Order) -> int:
    return int((order.policy_snapshot or {}).get("deposit_percent") or 0)


def deposit_info(order: Order) -> dict | None:
    """The deposit of an order whose policies ask one (self-service.md §3): percent, amount, whether the customer
    chose it at checkout and whether it is what is due now (nothing paid yet); None when no deposit applies."""
    percent = order_deposit_percent(order)
    amount = policy.deposit_amount(order.total, percent)
    if not amount or order.is_cancelled:
        return None
    chosen = (order.policy_snapshot or {}).get("pago") == "abono"
    return {
        "percent": percent,
        "amount": amount,
        "chosen": chosen,
        "due_now": chosen and order.paid < amount,
        "paid": order.paid >= amount,
    }


def amount_due_now(order: Order) -> int:
    """What the customer is asked to pay now: the rest of the chosen deposit, else the balance."""
    info = deposit_info(order)
    if info and info["due_now"]:
        return min(info["amount"] - order.paid, order.balance_due)
    return order.balance_due


def recent_changes(limit: int = 20) -> list[BookingPolicyChange]:
    return list(db.session.scalars(sa.select(BookingPolicyChange).order_by(BookingPolicyChange.id.desc()).limit(limit)))
