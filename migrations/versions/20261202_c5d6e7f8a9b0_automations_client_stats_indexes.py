"""automations: covering indexes for client_stats (reactivation and VIP newsletter over 1,000,000 orders)

Revision ID: c5d6e7f8a9b0
Revises: e7a1b2c3d4e5
Create Date: 2026-12-02 00:10:00

Branch note: the brief gives 812f1c48a65d as the parent; this branch is built on the communications branch, whose
outbox migration c0a1b2c3d4e5 also revises 812f1c48a65d, so it is chained after it here to keep one head. The
integrator re-chains the migrations anyway.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5d6e7f8a9b0'
down_revision = 'e7a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_client_stats', 'orders', ['client_id'], unique=False,
                    postgresql_include=['paid', 'cancelled_at'])
    op.create_index('ix_order_service_lines_visits', 'order_service_lines', ['order_id'], unique=False,
                    postgresql_include=['service_date', 'status'])


def downgrade():
    op.drop_index('ix_order_service_lines_visits', table_name='order_service_lines')
    op.drop_index('ix_orders_client_stats', table_name='orders')
