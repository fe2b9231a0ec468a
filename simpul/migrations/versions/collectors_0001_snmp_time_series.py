"""collectors: SNMP time series

Per-device poll state, interfaces (last counters and rates), raw and rolled-up rate
series keyed by epoch seconds, oper-status changes, host resources, storage areas and
LLDP neighbours (collectors/snmp/models.py).

Revision ID: collectors_0001
Revises:
Depends on: 0002
Create Date: 2026-11-23 13:48:12.430242
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'collectors_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('collectors',)
depends_on: str | Sequence[str] | None = '0002'


def upgrade() -> None:

    op.create_table('snmp_device_state',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('sys_name', sa.String(length=255), nullable=False),
    sa.Column('sys_descr', sa.String(length=500), nullable=False),
    sa.Column('sys_uptime_cs', sa.BigInteger(), nullable=True),
    sa.Column('reachable', sa.Boolean(), nullable=False),
    sa.Column('last_poll_ts', sa.Float(), nullable=True),
    sa.Column('last_success_ts', sa.Float(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('poll_seconds', sa.Float(), nullable=True),
    sa.Column('polled_by', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_device_state_device_id_dcim_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_snmp_device_state'))
    )
    op.create_table('snmp_host_rollup',
    sa.Column('resolution', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('cpu_pct', sa.Float(), nullable=True),
    sa.Column('cpu_pct_max', sa.Float(), nullable=True),
    sa.Column('mem_pct', sa.Float(), nullable=True),
    sa.Column('mem_pct_max', sa.Float(), nullable=True),
    sa.Column('disk_max_pct', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_host_rollup_device_id_dcim_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resolution', 'device_id', 'ts', name=op.f('pk_snmp_host_rollup'))
    )
    with op.batch_alter_table('snmp_host_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_snmp_host_rollup_ts', ['resolution', 'ts'], unique=False)

    op.create_table('snmp_host_sample',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('cpu_pct', sa.Float(), nullable=True),
    sa.Column('mem_total_bytes', sa.BigInteger(), nullable=True),
    sa.Column('mem_used_bytes', sa.BigInteger(), nullable=True),
    sa.Column('mem_pct', sa.Float(), nullable=True),
    sa.Column('disk_max_pct', sa.Float(), nullable=True),
    sa.Column('load1', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_host_sample_device_id_dcim_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'ts', name=op.f('pk_snmp_host_sample'))
    )
    with op.batch_alter_table('snmp_host_sample', schema=None) as batch_op:
        batch_op.create_index('ix_snmp_host_sample_ts', ['ts'], unique=False)

    op.create_table('snmp_lldp_neighbour',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('local_port_num', sa.Integer(), nullable=False),
    sa.Column('local_port', sa.String(length=255), nullable=False),
    sa.Column('remote_chassis_id', sa.String(length=255), nullable=False),
    sa.Column('remote_sys_name', sa.String(length=255), nullable=False),
    sa.Column('remote_port_id', sa.String(length=255), nullable=False),
    sa.Column('remote_port_descr', sa.String(length=255), nullable=False),
    sa.Column('remote_device_id', sa.Integer(), nullable=True),
    sa.Column('updated_ts', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_lldp_neighbour_device_id_dcim_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remote_device_id'], ['dcim_device.id'], name=op.f('fk_snmp_lldp_neighbour_remote_device_id_dcim_device'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snmp_lldp_neighbour'))
    )
    with op.batch_alter_table('snmp_lldp_neighbour', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snmp_lldp_neighbour_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snmp_lldp_neighbour_remote_device_id'), ['remote_device_id'], unique=False)

    op.create_table('snmp_storage',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('descr', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('used_bytes', sa.BigInteger(), nullable=False),
    sa.Column('updated_ts', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_storage_device_id_dcim_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'descr', name=op.f('pk_snmp_storage'))
    )
    op.create_table('snmp_interface',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('if_index', sa.Integer(), nullable=False),
    sa.Column('interface_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('descr', sa.String(length=255), nullable=False),
    sa.Column('alias', sa.String(length=255), nullable=False),
    sa.Column('if_type', sa.Integer(), nullable=True),
    sa.Column('speed_bps', sa.BigInteger(), nullable=True),
    sa.Column('admin_status', sa.String(length=16), nullable=False),
    sa.Column('oper_status', sa.String(length=16), nullable=False),
    sa.Column('last_change_ts', sa.Float(), nullable=True),
    sa.Column('counter_bits', sa.Integer(), nullable=False),
    sa.Column('in_octets', sa.BigInteger(), nullable=True),
    sa.Column('out_octets', sa.BigInteger(), nullable=True),
    sa.Column('in_errors', sa.BigInteger(), nullable=True),
    sa.Column('out_errors', sa.BigInteger(), nullable=True),
    sa.Column('in_discards', sa.BigInteger(), nullable=True),
    sa.Column('out_discards', sa.BigInteger(), nullable=True),
    sa.Column('counters_ts', sa.Float(), nullable=True),
    sa.Column('in_bps', sa.Float(), nullable=True),
    sa.Column('out_bps', sa.Float(), nullable=True),
    sa.Column('in_errors_ps', sa.Float(), nullable=True),
    sa.Column('out_errors_ps', sa.Float(), nullable=True),
    sa.Column('in_discards_ps', sa.Float(), nullable=True),
    sa.Column('out_discards_ps', sa.Float(), nullable=True),
    sa.Column('rate_ts', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_interface_device_id_dcim_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interface_id'], ['dcim_interface.id'], name=op.f('fk_snmp_interface_interface_id_dcim_interface'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snmp_interface')),
    sa.UniqueConstraint('device_id', 'if_index', name='uq_snmp_interface_device_ifindex')
    )
    with op.batch_alter_table('snmp_interface', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snmp_interface_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snmp_interface_interface_id'), ['interface_id'], unique=False)

    op.create_table('snmp_if_rollup',
    sa.Column('resolution', sa.Integer(), nullable=False),
    sa.Column('snmp_interface_id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('in_bps', sa.Float(), nullable=False),
    sa.Column('out_bps', sa.Float(), nullable=False),
    sa.Column('in_bps_max', sa.Float(), nullable=False),
    sa.Column('out_bps_max', sa.Float(), nullable=False),
    sa.Column('in_errors_ps', sa.Float(), nullable=False),
    sa.Column('out_errors_ps', sa.Float(), nullable=False),
    sa.Column('in_discards_ps', sa.Float(), nullable=False),
    sa.Column('out_discards_ps', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['snmp_interface_id'], ['snmp_interface.id'], name=op.f('fk_snmp_if_rollup_snmp_interface_id_snmp_interface'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resolution', 'snmp_interface_id', 'ts', name=op.f('pk_snmp_if_rollup'))
    )
    with op.batch_alter_table('snmp_if_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_snmp_if_rollup_ts', ['resolution', 'ts'], unique=False)

    op.create_table('snmp_if_sample',
    sa.Column('snmp_interface_id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('interval_s', sa.Float(), nullable=False),
    sa.Column('in_bps', sa.Float(), nullable=False),
    sa.Column('out_bps', sa.Float(), nullable=False),
    sa.Column('in_errors_ps', sa.Float(), nullable=False),
    sa.Column('out_errors_ps', sa.Float(), nullable=False),
    sa.Column('in_discards_ps', sa.Float(), nullable=False),
    sa.Column('out_discards_ps', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['snmp_interface_id'], ['snmp_interface.id'], name=op.f('fk_snmp_if_sample_snmp_interface_id_snmp_interface'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snmp_interface_id', 'ts', name=op.f('pk_snmp_if_sample'))
    )
    with op.batch_alter_table('snmp_if_sample', schema=None) as batch_op:
        batch_op.create_index('ix_snmp_if_sample_ts', ['ts'], unique=False)

    op.create_table('snmp_if_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snmp_interface_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=False),
    sa.Column('new_status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['dcim_device.id'], name=op.f('fk_snmp_if_status_change_device_id_dcim_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snmp_interface_id'], ['snmp_interface.id'], name=op.f('fk_snmp_if_status_change_snmp_interface_id_snmp_interface'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snmp_if_status_change'))
    )
    with op.batch_alter_table('snmp_if_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snmp_if_status_change_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snmp_if_status_change_snmp_interface_id'), ['snmp_interface_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snmp_if_status_change_ts'), ['ts'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('snmp_if_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snmp_if_status_change_ts'))
        batch_op.drop_index(batch_op.f('ix_snmp_if_status_change_snmp_interface_id'))
        batch_op.drop_index(batch_op.f('ix_snmp_if_status_change_device_id'))

    op.drop_table('snmp_if_status_change')
    with op.batch_alter_table('snmp_if_sample', schema=None) as batch_op:
        batch_op.drop_index('ix_snmp_if_sample_ts')

    op.drop_table('snmp_if_sample')
    with op.batch_alter_table('snmp_if_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_snmp_if_rollup_ts')

    op.drop_table('snmp_if_rollup')
    with op.batch_alter_table('snmp_interface', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snmp_interface_interface_id'))
        batch_op.drop_index(batch_op.f('ix_snmp_interface_device_id'))

    op.drop_table('snmp_interface')
    op.drop_table('snmp_storage')
    with op.batch_alter_table('snmp_lldp_neighbour', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snmp_lldp_neighbour_remote_device_id'))
        batch_op.drop_index(batch_op.f('ix_snmp_lldp_neighbour_device_id'))

    op.drop_table('snmp_lldp_neighbour')
    with op.batch_alter_table('snmp_host_sample', schema=None) as batch_op:
        batch_op.drop_index('ix_snmp_host_sample_ts')

    op.drop_table('snmp_host_sample')
    with op.batch_alter_table('snmp_host_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_snmp_host_rollup_ts')

    op.drop_table('snmp_host_rollup')
    op.drop_table('snmp_device_state')

