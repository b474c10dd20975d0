"""ai_query_logs: the AI module's audit log (ai.md §1)

Revision ID: e5a1c0d2b3f4
Revises: d9e0a1b2c3d4
Create Date: 2026-12-07 12:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5a1c0d2b3f4'
down_revision = 'd9e0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ai_query_logs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('template', sa.String(length=60), nullable=True),
        sa.Column('params', sa.JSON(), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('input_tokens', sa.Integer(), nullable=False),
        sa.Column('output_tokens', sa.Integer(), nullable=False),
        sa.Column('cost_milli_clp', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('chat', 'nbo', 'copilot')", name=op.f('ck_ai_query_logs_kind_valid')),
        sa.CheckConstraint("status IN ('ok', 'error', 'blocked')", name=op.f('ck_ai_query_logs_status_valid')),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_ai_query_logs_user_id_users'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_query_logs')),
    )
    with op.batch_alter_table('ai_query_logs', schema=None) as batch_op:
        batch_op.create_index('ix_ai_query_logs_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_ai_query_logs_user_created', ['user_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ai_query_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_query_logs_user_created')
        batch_op.drop_index('ix_ai_query_logs_created_at')
    op.drop_table('ai_query_logs')
