"""Changes to the booking policies (self-service.md §1): edited by gerente/admin, audited `policy_changed`
(old → new). Flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import ServiceCategory
from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.sales import policy
from app.sales.models import BookingPolicy, BookingPolicyChange
from app.sales.policy_queries import category_defaults, row_values

EDITOR_ROLES = ("gerente", "admin")


def ensure_booking_policies() -> int:
    """A row with the spec's defaults for every category that has none (seed, new categories); flushes."""
    have = set(db.session.scalars(sa.select(BookingPolicy.category_id)))
    created = 0
    for cat in db.session.scalars(sa.select(ServiceCategory).order_by(ServiceCategory.id)):
        if cat.id not in have:
            db.session.add(BookingPolicy(category_id=cat.id, **category_defaults(cat)))
            created += 1
    db.session.flush()
    return created


def update_policy(category: ServiceCategory, values: dict, *, by) -> BookingPolicy:
    """Write a category's policy (creating its row from the defaults) and audit each changed field."""
    if getattr(by, "role", None) not in EDITOR_ROLES:
        raise ValidationError("Solo un gerente o administrador puede cambiar las políticas.")
    values = {name: values.get(name) for name in policy.FIELDS}
    errors = policy.validate_values(values)
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    row = db.session.scalar(sa.select(BookingPolicy).where(BookingPolicy.category_id == category.id).with_for_update())
    if row is None:
        row = BookingPolicy(category_id=category.id, **category_defaults(category))
        db.session.add(row)
        db.session.flush()
    before = row_values(row)
    changed = {name: (before[name], values[name]) for name in policy.FIELDS if before[name] != values[name]}
    if not changed:
        return row
    for name, (_, new) in changed.items():
        setattr(row, name, new)
    row.updated_at = clock.now()
    row.updated_by_id = getattr(by, "id", None)
    text = "; ".join(f"{policy.LABELS[n]}: {old} → {new}" for n, (old, new) in changed.items())
    db.session.add(
        BookingPolicyChange(
            policy_id=row.id,
            event_type="policy_changed",
            user_id=getattr(by, "id", None),
            description=f"{category.name}: {text}",
            data={"antes": {n: o for n, (o, _) in changed.items()}, "despues": {n: v for n, (_, v) in changed.items()}},
        )
    )
    db.session.flush()
    return row
