"""flows: the packet sampling rate applied per flow exporter (1-in-N, and its source)

Existing exporters get 1 (unsampled) until their next records arrive.

Revision ID: flows_0002
Revises: flows_0001
Create Date: 2026-11-23 17:01:06.908584
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'flows_0002'
down_revision: str | None = 'flows_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('flow_exporters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sampling_rate', sa.Integer(), server_default='1',
                                      nullable=False))
        batch_op.add_column(sa.Column('sampling_source', sa.String(length=16),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('flow_exporters', schema=None) as batch_op:
        batch_op.drop_column('sampling_source')
        batch_op.drop_column('sampling_rate')
