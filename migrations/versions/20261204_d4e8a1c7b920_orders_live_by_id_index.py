"""segmentation: covering partial index of the non-cancelled orders by id for client_stats (1,000,000 clients)

Revision ID: d4e8a1c7b920
Revises: b1c2d3e4f5a6
Create Date: 2026-12-04 20:30:00

client_stats() merges the non-cancelled orders (in id order) with the service lines grouped per order; this index
lets PostgreSQL read client_id and paid in id order with an index-only scan instead of the heap.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e8a1c7b920'
down_revision = 'b1c2d3e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_live_by_id', 'orders', ['id'], unique=False,
                    postgresql_include=['client_id', 'paid'], postgresql_where=sa.text('cancelled_at IS NULL'),
                    sqlite_where=sa.text('cancelled_at IS NULL'))


def downgrade():
    op.drop_index('ix_orders_live_by_id', table_name='orders')
