"""settings: run-time overrides of the business constants (spec README §4: key, JSON value, updated_by, updated_at)

Revision ID: e7f8a9b0c1d2
Revises: e5f6a7b8c9d0
Create Date: 2026-12-07 12:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'settings',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_settings_updated_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_settings')),
    )


def downgrade():
    op.drop_table('settings')
