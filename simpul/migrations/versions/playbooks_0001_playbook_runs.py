"""playbooks: run records (playbook_runs, playbook_run_hosts).

Revision ID: playbooks_0001
Revises: (branch playbooks, depends on the trunk 0002)
Create Date: 2026-11-23 13:54:14.450278
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'playbooks_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('playbooks',)
depends_on: str | Sequence[str] | None = '0002'


def upgrade() -> None:
    op.create_table('playbook_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('playbook', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('output', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_playbook_runs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_runs'))
    )
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playbook_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_playbook_runs_playbook'), ['playbook'], unique=False)
        batch_op.create_index(batch_op.f('ix_playbook_runs_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_playbook_runs_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_playbook_runs_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('playbook_run_hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.Column('diff', sa.Text(), nullable=False),
    sa.Column('diff_lines', sa.Integer(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=True),
    sa.Column('verification', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['playbook_runs.id'], name=op.f('fk_playbook_run_hosts_run_id_playbook_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_run_hosts'))
    )
    with op.batch_alter_table('playbook_run_hosts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playbook_run_hosts_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('playbook_run_hosts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_run_hosts_run_id'))

    op.drop_table('playbook_run_hosts')
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_runs_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_playbook_runs_user_id'))
        batch_op.drop_index(batch_op.f('ix_playbook_runs_state'))
        batch_op.drop_index(batch_op.f('ix_playbook_runs_playbook'))
        batch_op.drop_index(batch_op.f('ix_playbook_runs_created_at'))

    op.drop_table('playbook_runs')
