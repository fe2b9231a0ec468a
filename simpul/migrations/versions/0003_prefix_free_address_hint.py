"""inventory: prefix free-address hint (low-water mark of next-free-IP); address index with id

Existing prefixes get NULL, which means "walk from the network address": the first
allocation in each prefix sets the mark (see inventory.models.freehint). NULL is always
a correct backfill, whatever the addresses, so no data is read here.

``ix_ipam_ipaddress_range`` gains ``id`` as its last column, so address pages (ordered
by vrf_key, family, ip_hex, id) are read straight off the index without a sort.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:06:29.850091
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ipam_prefix", schema=None) as batch_op:
        batch_op.add_column(sa.Column("free_hint_hex", sa.String(length=32), nullable=True))
    op.drop_index("ix_ipam_ipaddress_range", table_name="ipam_ipaddress")
    op.create_index("ix_ipam_ipaddress_range", "ipam_ipaddress",
                    ["vrf_key", "family", "ip_hex", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ipam_ipaddress_range", table_name="ipam_ipaddress")
    op.create_index("ix_ipam_ipaddress_range", "ipam_ipaddress",
                    ["vrf_key", "family", "ip_hex"], unique=False)
    with op.batch_alter_table("ipam_prefix", schema=None) as batch_op:
        batch_op.drop_column("free_hint_hex")
