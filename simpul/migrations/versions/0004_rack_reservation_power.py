"""inventory: watts reserved with a rack reservation (colocation power accounting)

Existing reservations get 0 W through the server default: they held units only, so
0 is exactly what they promised and no data is read here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:01:33.751626
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dcim_rackreservation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("power_w", sa.Integer(), server_default="0",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("dcim_rackreservation", schema=None) as batch_op:
        batch_op.drop_column("power_w")
