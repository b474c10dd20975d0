"""client_stats: one row per client with the figures of client_stats() (issue 20 item 4), backfilled

Revision ID: c5d1a7e3b9f2
Revises: a1c2e3f4b5d6
Create Date: 2026-12-07 15:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5d1a7e3b9f2"
down_revision = "a1c2e3f4b5d6"
branch_labels = None
depends_on = None

# The same figures as app.sales.client_stats_services.recompute_select, frozen here (a migration does not import
# the application). as_of = the UTC day: a row whose day is off by one is past its next_visit, so the reads
# recompute it until the nightly job rewrites it.
BACKFILL = """
INSERT INTO client_stats (client_id, visits, spend, first_visit, last_visit, next_visit, as_of)
SELECT c.id, COALESCE(a.visits, 0), COALESCE(a.spend, 0), a.first_visit, a.last_visit, a.next_visit, :today
FROM clients c LEFT JOIN (
    SELECT o.client_id, count(p.day) AS visits, sum(o.paid) AS spend, min(p.day) AS first_visit,
           max(p.day) AS last_visit, min(p.next_day) AS next_visit
    FROM orders o LEFT JOIN (
        SELECT order_id, max(CASE WHEN service_date <= :today THEN service_date END) AS day,
               min(CASE WHEN service_date > :today THEN service_date END) AS next_day
        FROM order_service_lines WHERE status NOT IN ('cancelada', 'no_show') GROUP BY order_id
    ) p ON p.order_id = o.id
    WHERE o.cancelled_at IS NULL
    GROUP BY o.client_id
) a ON a.client_id = c.id
"""


def upgrade():
    op.create_table(
        "client_stats",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("spend", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("first_visit", sa.Date(), nullable=True),
        sa.Column("last_visit", sa.Date(), nullable=True),
        sa.Column("next_visit", sa.Date(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_stats_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_stats")),
    )
    with op.batch_alter_table("client_stats", schema=None) as batch_op:
        batch_op.create_index("ix_client_stats_next_visit", ["next_visit"], unique=False)
        batch_op.create_index("ix_client_stats_as_of", ["as_of"], unique=False)
    today = datetime.now(UTC).date()
    op.get_bind().execute(sa.text(BACKFILL).bindparams(sa.bindparam("today", today, type_=sa.Date)))


def downgrade():
    with op.batch_alter_table("client_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_client_stats_as_of")
        batch_op.drop_index("ix_client_stats_next_visit")
    op.drop_table("client_stats")
