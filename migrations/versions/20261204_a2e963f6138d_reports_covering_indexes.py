"""reports: covering indexes for servicios vendidos (service lines by date) and caja diaria (payments by paid_at)

Revision ID: a2e963f6138d
Revises: d4e8a1c7b920
Create Date: 2026-12-04 20:00:00

The month aggregates of both reports (and the ids of one page of their detail) become index-only scans.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a2e963f6138d'
down_revision = 'd4e8a1c7b920'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_order_service_lines_sold', 'order_service_lines', ['service_date', 'status'], unique=False,
                    postgresql_include=['id', 'service_id', 'start_time', 'people', 'subtotal'])
    op.create_index('ix_payments_cash', 'payments', ['paid_at', 'id'], unique=False,
                    postgresql_include=['status', 'method', 'amount', 'recorded_by_id'])


def downgrade():
    op.drop_index('ix_payments_cash', table_name='payments')
    op.drop_index('ix_order_service_lines_sold', table_name='order_service_lines')
