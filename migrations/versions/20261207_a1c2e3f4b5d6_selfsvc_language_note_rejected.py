"""waitlist_entries.language (the offer's language), consent_events.note (staff's optional note), the
client_update_rejected audit event (self-service.md §4–§5, crm.md §3–§5)

Revision ID: a1c2e3f4b5d6
Revises: f7a8b9c0d1e2
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1c2e3f4b5d6"
down_revision = "f7a8b9c0d1e2"
branch_labels = None
depends_on = None

EVENT_TYPES = (
    "order_created",
    "order_updated",
    "order_cancelled",
    "order_reinstated",
    "line_added",
    "line_removed",
    "line_updated",
    "line_moved",
    "checked_in",
    "checked_out",
    "no_show",
    "line_reverted",
    "payment_recorded",
    "payment_voided",
    "refund_recorded",
    "discount_applied",
    "discount_voided",
    "giftcard_issued",
    "giftcard_redeemed",
    "giftcard_reversed",
    "giftcard_voided",
    "client_created",
    "client_updated",
    "client_update_requested",
    "client_merged",
    "consent_changed",
    "flow_payment_late",
    "waitlist_joined",
    "waitlist_offered",
)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _recheck(table, column, values):
    """Replace the `<column>_valid` CHECK of `table` (batch mode: SQLite recreates the table)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{column}_valid"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{column}_valid"), _in(column, values))


def upgrade():
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), server_default="es", nullable=False))
        batch_op.create_check_constraint(op.f("ck_waitlist_entries_language_valid"), "language IN ('es', 'en')")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(length=200), nullable=True))
    _recheck("client_events", "event_type", (*EVENT_TYPES, "client_update_rejected"))


def downgrade():
    _recheck("client_events", "event_type", EVENT_TYPES)
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_waitlist_entries_language_valid"), type_="check")
        batch_op.drop_column("language")
