"""DCIM places: sites, locations, racks, rack reservations and power feeds.

Foreign keys are RESTRICT unless the child cannot outlive its parent (a location's
sub-locations, a rack's feeds and reservations): deleting a site that still holds racks
is refused by the service with a 409, as in NetBox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from simpul.models.base import Base, TimestampMixin


class Site(TimestampMixin, Base):
    """A place with network equipment: the data center, an OPD office, a POP."""

    __tablename__ = "dcim_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="active")
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    area: Mapped[str] = mapped_column(String(32), default="")  # distribution zone A-D
    physical_address: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class Location(TimestampMixin, Base):
    """A building, floor or room inside a site; nested through ``parent_id``."""

    __tablename__ = "dcim_location"
    __table_args__ = (UniqueConstraint("site_id", "slug", name="uq_dcim_location_site_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("dcim_site.id", ondelete="RESTRICT"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_location.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="room")
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class Rack(TimestampMixin, Base):
    """A rack: units numbered from 1 at the bottom (``desc_units`` flips the drawing)."""

    __tablename__ = "dcim_rack"
    __table_args__ = (
        UniqueConstraint("site_id", "name", name="uq_dcim_rack_site_name"),
        CheckConstraint("u_height BETWEEN 1 AND 100", name="u_height_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("dcim_site.id", ondelete="RESTRICT"))
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_location.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), default="active")
    u_height: Mapped[int] = mapped_column(Integer, default=42)
    desc_units: Mapped[bool] = mapped_column(Boolean, default=False)
    power_budget_w: Mapped[int | None] = mapped_column(Integer)  # None: limited by feeds only
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class RackReservation(TimestampMixin, Base):
    """Units of a rack held for an OPD (colocation in progress), optionally until a time."""

    __tablename__ = "dcim_rackreservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_rack.id", ondelete="CASCADE"), index=True)
    units: Mapped[list[int]] = mapped_column(JSON)
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Watts promised with the units: counted against the rack's power limit until devices
    # in these units draw as much (see inventory.dcim.racks.rack_power).
    power_w: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def __str__(self) -> str:
        return f"reservation {self.id}"


class PowerFeed(TimestampMixin, Base):
    """Feed A or B of a rack; usable watts = volts x amps x max_utilization %."""

    __tablename__ = "dcim_powerfeed"
    __table_args__ = (UniqueConstraint("rack_id", "name", name="uq_dcim_powerfeed_rack_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int] = mapped_column(ForeignKey("dcim_rack.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="active")
    voltage: Mapped[int] = mapped_column(Integer, default=230)
    amperage: Mapped[int] = mapped_column(Integer, default=16)
    max_utilization: Mapped[int] = mapped_column(Integer, default=80)

    @property
    def available_w(self) -> int:
        """Return the watts this feed may deliver."""
        return self.voltage * self.amperage * self.max_utilization // 100

    def __str__(self) -> str:
        return f"feed {self.name}"
