"""Flows branch: flow aggregates, flow exporters and SNMP trap events (collectors.flows).

Revision ID: flows_0001
Revises: (branch root, depends on the inventory trunk 0002)
Create Date: 2026-11-23 14:00:38.360616
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'flows_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('flows',)
depends_on: str | Sequence[str] | None = '0002'


def upgrade() -> None:
    op.create_table('flow_exporters',
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('version', sa.SmallInteger(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('packets', sa.BigInteger(), nullable=False),
    sa.Column('records', sa.BigInteger(), nullable=False),
    sa.Column('malformed', sa.BigInteger(), nullable=False),
    sa.Column('no_template', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_flow_exporters')),
    info={'package': 'flows'}
    )
    op.create_table('flow_aggregates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('resolution', sa.Integer(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('exporter', sa.String(length=45), nullable=False),
    sa.Column('src_addr', sa.String(length=45), nullable=False),
    sa.Column('dst_addr', sa.String(length=45), nullable=False),
    sa.Column('protocol', sa.SmallInteger(), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('src_opd_id', sa.Integer(), nullable=True),
    sa.Column('dst_opd_id', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('packets', sa.BigInteger(), nullable=False),
    sa.Column('flows', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['dst_opd_id'], ['opd.id'], name=op.f('fk_flow_aggregates_dst_opd_id_opd'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['src_opd_id'], ['opd.id'], name=op.f('fk_flow_aggregates_src_opd_id_opd'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_aggregates')),
    info={'package': 'flows'}
    )
    with op.batch_alter_table('flow_aggregates', schema=None) as batch_op:
        batch_op.create_index('ix_flow_aggregates_dst_opd', ['dst_opd_id', 'kind', 'resolution', 'ts'], unique=False)
        batch_op.create_index('ix_flow_aggregates_kind_res_ts', ['kind', 'resolution', 'ts'], unique=False)
        batch_op.create_index('ix_flow_aggregates_src_opd', ['src_opd_id', 'kind', 'resolution', 'ts'], unique=False)

    op.create_table('trap_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_addr', sa.String(length=45), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('device_name', sa.String(length=64), nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.String(length=4), nullable=False),
    sa.Column('security_name', sa.String(length=64), nullable=False),
    sa.Column('trap', sa.String(length=64), nullable=False),
    sa.Column('trap_oid', sa.String(length=128), nullable=False),
    sa.Column('if_index', sa.Integer(), nullable=True),
    sa.Column('if_name', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('varbinds', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_trap_events_device_id_dcim_device'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_trap_events_opd_id_opd'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trap_events')),
    info={'package': 'flows'}
    )
    with op.batch_alter_table('trap_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trap_events_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trap_events_opd_id'), ['opd_id'], unique=False)
        batch_op.create_index('ix_trap_events_received', ['received_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trap_events_trap'), ['trap'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trap_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trap_events_trap'))
        batch_op.drop_index('ix_trap_events_received')
        batch_op.drop_index(batch_op.f('ix_trap_events_opd_id'))
        batch_op.drop_index(batch_op.f('ix_trap_events_device_id'))

    op.drop_table('trap_events')
    with op.batch_alter_table('flow_aggregates', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_aggregates_src_opd')
        batch_op.drop_index('ix_flow_aggregates_kind_res_ts')
        batch_op.drop_index('ix_flow_aggregates_dst_opd')

    op.drop_table('flow_aggregates')
    op.drop_table('flow_exporters')
