"""alerts: alerts, signals, maintenance

Revision ID: alerts_0001
Revises: 
Create Date: 2026-11-23 13:54:11.995383
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'alerts_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('alerts',)
depends_on: str | Sequence[str] | None = '0002'


def upgrade() -> None:
    op.create_table('alert_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=400), nullable=False),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('pending_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('flapping', sa.Boolean(), nullable=False),
    sa.Column('hold_until_clear', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_signals')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_alert_signals_dedup_key')),
    info={'package': 'alerts'}
    )
    with op.batch_alter_table('alert_signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_signals_rule'), ['rule'], unique=False)

    op.create_table('alert_maintenance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_alert_maintenance_opd_id_opd'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_maintenance')),
    info={'package': 'alerts'}
    )
    with op.batch_alter_table('alert_maintenance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_maintenance_opd_id'), ['opd_id'], unique=False)
        batch_op.create_index('ix_alert_maintenance_period', ['starts_at', 'ends_at'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedup_key', sa.String(length=400), nullable=False),
    sa.Column('entity', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('device', sa.String(length=100), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=True),
    sa.Column('flapping', sa.Boolean(), nullable=False),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('notified', sa.Boolean(), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_alerts_opd_id_opd'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    info={'package': 'alerts'}
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_opd_id'), ['opd_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_rule'), ['rule'], unique=False)
        batch_op.create_index('ix_alerts_state_fired', ['state', 'fired_at'], unique=False)
        batch_op.create_index('ux_alerts_open_key', ['dedup_key'], unique=True, sqlite_where=sa.text("state != 'resolved'"), postgresql_where=sa.text("state != 'resolved'"))



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ux_alerts_open_key', sqlite_where=sa.text("state != 'resolved'"), postgresql_where=sa.text("state != 'resolved'"))
        batch_op.drop_index('ix_alerts_state_fired')
        batch_op.drop_index(batch_op.f('ix_alerts_rule'))
        batch_op.drop_index(batch_op.f('ix_alerts_opd_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('alert_maintenance', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_maintenance_period')
        batch_op.drop_index(batch_op.f('ix_alert_maintenance_opd_id'))

    op.drop_table('alert_maintenance')
    with op.batch_alter_table('alert_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_signals_rule'))

    op.drop_table('alert_signals')
