"""probes: probes and results

Revision ID: probes_0001
Revises: 
Create Date: 2026-11-23 13:49:18.015281
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'probes_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('probes',)
depends_on: str | Sequence[str] | None = '0002'


def upgrade() -> None:
    op.create_table('probes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('expect', sa.JSON(), nullable=False),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('timeout_s', sa.Float(), nullable=False),
    sa.Column('device', sa.String(length=100), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_probes_opd_id_opd'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probes')),
    sa.UniqueConstraint('name', name=op.f('uq_probes_name')),
    info={'package': 'probes'}
    )
    with op.batch_alter_table('probes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probes_opd_id'), ['opd_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_probes_service'), ['service'], unique=False)

    op.create_table('probe_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('rtt_ms', sa.Float(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('cert_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['probe_id'], ['probes.id'], name=op.f('fk_probe_results_probe_id_probes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_results')),
    info={'package': 'probes'}
    )
    with op.batch_alter_table('probe_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probe_results_at'), ['at'], unique=False)
        batch_op.create_index('ix_probe_results_probe_at', ['probe_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('probe_results', schema=None) as batch_op:
        batch_op.drop_index('ix_probe_results_probe_at')
        batch_op.drop_index(batch_op.f('ix_probe_results_at'))

    op.drop_table('probe_results')
    with op.batch_alter_table('probes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probes_service'))
        batch_op.drop_index(batch_op.f('ix_probes_opd_id'))

    op.drop_table('probes')
