"""IPAM: VLAN groups, VLANs, VRFs, prefixes, IP ranges, IP addresses, bandwidth.

Addresses are text plus a sortable 32-digit hex key (see ``inventory.addressing``), so
ordering and containment are SQL range conditions on an index. ``vrf_key`` is the VRF id
or 0 for the global table: unlike a nullable ``vrf_id`` it behaves the same in unique
constraints on SQLite and PostgreSQL (both treat NULLs as distinct).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from simpul.models.base import Base, TimestampMixin


class VlanGroup(TimestampMixin, Base):
    """A VLAN id space, usually one per site, optionally limited to a vid range."""

    __tablename__ = "ipam_vlangroup"
    __table_args__ = (
        CheckConstraint("min_vid >= 1 AND max_vid <= 4094 AND min_vid <= max_vid",
                        name="vid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_site.id", ondelete="RESTRICT"), index=True)
    min_vid: Mapped[int] = mapped_column(Integer, default=1)
    max_vid: Mapped[int] = mapped_column(Integer, default=4094)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class Vlan(TimestampMixin, Base):
    """A VLAN; ``group_key`` (group id or 0) makes vids unique per group on both backends."""

    __tablename__ = "ipam_vlan"
    __table_args__ = (
        UniqueConstraint("group_key", "vid", name="uq_ipam_vlan_group_vid"),
        CheckConstraint("vid BETWEEN 1 AND 4094", name="vid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_vlangroup.id", ondelete="RESTRICT"), index=True)
    group_key: Mapped[int] = mapped_column(Integer, default=0)
    vid: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    role: Mapped[str] = mapped_column(String(50), default="")
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return f"{self.vid} ({self.name})"


class Vrf(TimestampMixin, Base):
    """A routing table; ``enforce_unique`` forbids duplicate addresses inside it."""

    __tablename__ = "ipam_vrf"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    rd: Mapped[str | None] = mapped_column(String(21), unique=True)
    enforce_unique: Mapped[bool] = mapped_column(Boolean, default=True)
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class Prefix(TimestampMixin, Base):
    """An IPv4 or IPv6 prefix; hierarchy is derived from containment, not stored."""

    __tablename__ = "ipam_prefix"
    __table_args__ = (
        UniqueConstraint("vrf_key", "family", "network_hex", "prefix_length",
                         name="uq_ipam_prefix_vrf_prefix"),
        Index("ix_ipam_prefix_range", "vrf_key", "family", "network_hex", "last_hex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(43))
    family: Mapped[int] = mapped_column(Integer)
    prefix_length: Mapped[int] = mapped_column(Integer)
    network_hex: Mapped[str] = mapped_column(String(32))
    last_hex: Mapped[str] = mapped_column(String(32))
    vrf_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_vrf.id", ondelete="RESTRICT"), index=True)
    vrf_key: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    role: Mapped[str] = mapped_column(String(50), default="")
    is_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    vlan_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_vlan.id", ondelete="SET NULL"), index=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_site.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Low-water mark of next-free-IP (``inventory.ipam.freehint``): every address of the
    # prefix below it is used, in a range or never handed out. NULL: start at the network.
    free_hint_hex: Mapped[str | None] = mapped_column(String(32))

    def __str__(self) -> str:
        return self.prefix


class IpRange(TimestampMixin, Base):
    """A span of addresses (a DHCP pool) that next-free allocation skips."""

    __tablename__ = "ipam_iprange"
    __table_args__ = (
        Index("ix_ipam_iprange_range", "vrf_key", "family", "start_hex", "end_hex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    start_address: Mapped[str] = mapped_column(String(50))
    end_address: Mapped[str] = mapped_column(String(50))
    family: Mapped[int] = mapped_column(Integer)
    start_hex: Mapped[str] = mapped_column(String(32))
    end_hex: Mapped[str] = mapped_column(String(32))
    vrf_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_vrf.id", ondelete="RESTRICT"), index=True)
    vrf_key: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    role: Mapped[str] = mapped_column(String(50), default="")
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return f"{self.start_address}-{self.end_address}"


class IpAddress(TimestampMixin, Base):
    """An address with its mask (``192.0.2.10/24``).

    ``unique_key`` is ``vrf_key`` when the table enforces uniqueness (the global table
    and ``enforce_unique`` VRFs) and NULL otherwise, so one unique constraint refuses a
    duplicate that two racing transactions would both have passed.
    """

    __tablename__ = "ipam_ipaddress"
    __table_args__ = (
        UniqueConstraint("unique_key", "family", "ip_hex", name="uq_ipam_ipaddress_unique"),
        # id last: API pages order by (vrf_key, family, ip_hex, id) straight off the index
        Index("ix_ipam_ipaddress_range", "vrf_key", "family", "ip_hex", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(50))
    family: Mapped[int] = mapped_column(Integer)
    ip_hex: Mapped[str] = mapped_column(String(32))
    vrf_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_vrf.id", ondelete="RESTRICT"), index=True)
    vrf_key: Mapped[int] = mapped_column(Integer, default=0)
    unique_key: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    role: Mapped[str] = mapped_column(String(16), default="")
    dns_name: Mapped[str] = mapped_column(String(255), default="")
    interface_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_interface.id", ondelete="SET NULL"), index=True)
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    def __str__(self) -> str:
        return self.address


class BandwidthAllocation(TimestampMixin, Base):
    """An OPD's internet quota: users served and committed Mbps (planned = 5 x users)."""

    __tablename__ = "ipam_bandwidth"
    __table_args__ = (
        CheckConstraint("users >= 0 AND committed_mbps >= 0", name="nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opd_id: Mapped[int] = mapped_column(ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_site.id", ondelete="RESTRICT"), index=True)
    users: Mapped[int] = mapped_column(Integer, default=0)
    committed_mbps: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return f"bandwidth {self.id}"
