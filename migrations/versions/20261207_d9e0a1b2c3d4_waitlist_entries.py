"""waitlist_entries; WAITLIST_OFFER outbox type; waitlist_joined / waitlist_offered audit events (self-service.md §4)

Revision ID: d9e0a1b2c3d4
Revises: e7f8a9b0c1d2
Create Date: 2026-12-07 12:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d9e0a1b2c3d4"
down_revision = "e7f8a9b0c1d2"
branch_labels = None
depends_on = None

MESSAGE_TYPES = (
    "BOOKING_CONFIRMATION",
    "BOOKING_REMINDER",
    "PAYMENT_CONFIRMATION",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
    "SATISFACTION_SURVEY",
    "GIFT_CARD",
    "BIRTHDAY",
    "REACTIVATION",
    "NEWSLETTER",
    "PROMOTIONAL",
    "FOLLOW_UP",
    "OTHER",
    "STAFF_REPORT",
)
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
)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _recheck(table, column, values):
    """Replace the `<column>_valid` CHECK of `table` (batch mode: SQLite recreates the table)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{column}_valid"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{column}_valid"), _in(column, values))


def upgrade():
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("time", sa.String(length=5), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offer_count", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offered_time", sa.String(length=5), nullable=True),
        sa.Column("cart_id", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('esperando', 'ofrecida', 'aceptada', 'vencida', 'cancelada')",
            name=op.f("ck_waitlist_entries_status_valid"),
        ),
        sa.CheckConstraint("people >= 1", name=op.f("ck_waitlist_entries_people_positive")),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"], ["users.id"], name=op.f("fk_waitlist_entries_cancelled_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_waitlist_entries_cart_id_carts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_waitlist_entries_client_id_clients"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_waitlist_entries_order_id_orders")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_waitlist_entries_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
        sa.UniqueConstraint("token", name=op.f("uq_waitlist_entries_token")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_entries_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_waitlist_entries_phone_status", ["phone", "status"], unique=False)
        batch_op.create_index("ix_waitlist_entries_service_date_status", ["service_id", "date", "status"], unique=False)
    _recheck("communication_logs", "message_type", (*MESSAGE_TYPES, "WAITLIST_OFFER"))
    _recheck("client_events", "event_type", (*EVENT_TYPES, "waitlist_joined", "waitlist_offered"))


def downgrade():
    _recheck("client_events", "event_type", EVENT_TYPES)
    _recheck("communication_logs", "message_type", MESSAGE_TYPES)
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_entries_service_date_status")
        batch_op.drop_index("ix_waitlist_entries_phone_status")
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_client_id"))
    op.drop_table("waitlist_entries")
