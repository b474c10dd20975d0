"""clients.language: the language of a client's messages, stored at web checkout (self-service.md §5)

Revision ID: f7a8b9c0d1e2
Revises: e5a1c0d2b3f4
Create Date: 2026-12-07 12:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7a8b9c0d1e2'
down_revision = 'e5a1c0d2b3f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='es', nullable=False))
        batch_op.create_check_constraint(op.f('ck_clients_language_valid'), "language IN ('es', 'en')")


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clients_language_valid'), type_='check')
        batch_op.drop_column('language')
