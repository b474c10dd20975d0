"""Self-service: booking_policies per service category (seeded with the spec's defaults), their audit
booking_policy_changes, orders.policy_snapshot, orders.cancellation_fee and order_service_lines.reschedule_count (self-service.md §1–§2)

Revision ID: e5f6a7b8c9d0
Revises: c1d2e3f4a5b6
Create Date: 2026-12-07 12:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5f6a7b8c9d0"
down_revision = "c1d2e3f4a5b6"
branch_labels = None
depends_on = None

# (cancel cut-off h, reschedule cut-off h, late fee %, no-show fee %, deposit %) — self-service.md §1
DEFAULTS = {"tina": (24, 12, 100, 100, 0), "masaje": (24, 12, 100, 100, 0), "cabana": (72, 48, 50, 100, 50)}


def _kind(name: str, types: list[str]) -> str:
    """A category's kind: the most common service type of its services, else its name."""
    if types:
        return max(set(types), key=types.count)
    low = (name or "").lower()
    if "cabaña" in low or "cabana" in low:
        return "cabana"
    if "masaje" in low:
        return "masaje"
    return "tina"


def upgrade():
    policies = op.create_table(
        "booking_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("cancel_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("reschedule_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("late_cancel_fee_percent", sa.Integer(), nullable=False),
        sa.Column("no_show_fee_percent", sa.Integer(), nullable=False),
        sa.Column("deposit_percent", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("cancel_cutoff_hours >= 0", name=op.f("ck_booking_policies_cancel_cutoff_nonnegative")),
        sa.CheckConstraint(
            "reschedule_cutoff_hours >= 0", name=op.f("ck_booking_policies_reschedule_cutoff_nonnegative")
        ),
        sa.CheckConstraint(
            "late_cancel_fee_percent BETWEEN 0 AND 100", name=op.f("ck_booking_policies_late_fee_percent")
        ),
        sa.CheckConstraint(
            "no_show_fee_percent BETWEEN 0 AND 100", name=op.f("ck_booking_policies_no_show_fee_percent")
        ),
        sa.CheckConstraint("deposit_percent BETWEEN 0 AND 100", name=op.f("ck_booking_policies_deposit_percent")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_booking_policies_category_id_service_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_booking_policies_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_policies")),
        sa.UniqueConstraint("category_id", name=op.f("uq_booking_policies_category_id")),
    )
    op.create_table(
        "booking_policy_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["booking_policies.id"],
            name=op.f("fk_booking_policy_changes_policy_id_booking_policies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_booking_policy_changes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_policy_changes")),
    )
    with op.batch_alter_table("booking_policy_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_policy_changes_policy_id"), ["policy_id"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy_snapshot", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("cancellation_fee", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("order_service_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reschedule_count", sa.Integer(), server_default="0", nullable=False))

    bind = op.get_bind()
    categories = bind.execute(sa.text("SELECT id, name FROM service_categories ORDER BY id")).all()
    types: dict[int, list[str]] = {}
    for cat_id, service_type in bind.execute(
        sa.text("SELECT category_id, service_type FROM services WHERE category_id IS NOT NULL")
    ):
        types.setdefault(cat_id, []).append(service_type)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    rows = []
    for cat_id, name in categories:
        c, r, late, no_show, deposit = DEFAULTS.get(_kind(name, types.get(cat_id, [])), DEFAULTS["tina"])
        rows.append(
            {
                "category_id": cat_id,
                "cancel_cutoff_hours": c,
                "reschedule_cutoff_hours": r,
                "late_cancel_fee_percent": late,
                "no_show_fee_percent": no_show,
                "deposit_percent": deposit,
                "updated_at": now,
            }
        )
    if rows:
        op.bulk_insert(policies, rows)


def downgrade():
    with op.batch_alter_table("order_service_lines", schema=None) as batch_op:
        batch_op.drop_column("reschedule_count")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("cancellation_fee")
        batch_op.drop_column("policy_snapshot")
    with op.batch_alter_table("booking_policy_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_policy_changes_policy_id"))
    op.drop_table("booking_policy_changes")
    op.drop_table("booking_policies")
