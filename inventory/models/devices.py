"""Device types, devices, the rack units they occupy, interfaces, cables and outlets.

Two tables exist only as race backstops, so the database itself refuses what a lost
race would otherwise store: ``dcim_deviceunit`` (one row per occupied unit and face,
unique per rack) and ``dcim_cabletermination`` (unique per interface, so an interface
holds at most one cable).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from simpul.models.base import Base, TimestampMixin


class Manufacturer(TimestampMixin, Base):
    """A vendor of device types."""

    __tablename__ = "dcim_manufacturer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)

    def __str__(self) -> str:
        return self.name


class DeviceType(TimestampMixin, Base):
    """A model: its height in U, typical power draw and whether it fills both faces."""

    __tablename__ = "dcim_devicetype"
    __table_args__ = (
        UniqueConstraint("manufacturer_id", "model", name="uq_dcim_devicetype_model"),
        CheckConstraint("u_height BETWEEN 0 AND 100", name="u_height_range"),
        CheckConstraint("power_draw_w >= 0", name="power_draw_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_manufacturer.id", ondelete="RESTRICT"))
    model: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    u_height: Mapped[int] = mapped_column(Integer, default=1)
    power_draw_w: Mapped[int] = mapped_column(Integer, default=0)
    is_full_depth: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.model


class Device(TimestampMixin, Base):
    """A device; ``position`` is its lowest unit, ``face`` the side it is mounted from."""

    __tablename__ = "dcim_device"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_dcim_device_site_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    device_type_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_devicetype.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(32), default="active")
    serial: Mapped[str] = mapped_column(String(64), default="")
    site_id: Mapped[int] = mapped_column(ForeignKey("dcim_site.id", ondelete="RESTRICT"))
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_location.id", ondelete="RESTRICT"), index=True)
    rack_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_rack.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int | None] = mapped_column(Integer)
    face: Mapped[str | None] = mapped_column(String(5))
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    # Devices and addresses point at each other; use_alter adds these keys after both
    # tables exist (PostgreSQL checks targets at CREATE TABLE).
    primary_ip4_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_ipaddress.id", ondelete="SET NULL", use_alter=True))
    primary_ip6_id: Mapped[int | None] = mapped_column(
        ForeignKey("ipam_ipaddress.id", ondelete="SET NULL", use_alter=True))
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class DeviceUnit(Base):
    """One rack unit on one face held by a device: the schema's overlap backstop."""

    __tablename__ = "dcim_deviceunit"
    __table_args__ = (
        UniqueConstraint("rack_id", "face", "unit", name="uq_dcim_deviceunit_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int] = mapped_column(ForeignKey("dcim_rack.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), index=True)
    face: Mapped[str] = mapped_column(String(5))
    unit: Mapped[int] = mapped_column(Integer)


class Interface(TimestampMixin, Base):
    """A device port; LAG members point at their LAG through ``lag_id``."""

    __tablename__ = "dcim_interface"
    __table_args__ = (UniqueConstraint("device_id", "name", name="uq_dcim_interface_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("dcim_device.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32), default="1000base-t")
    speed_kbps: Mapped[int | None] = mapped_column(Integer)
    mac_address: Mapped[str | None] = mapped_column(String(17), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    mtu: Mapped[int | None] = mapped_column(Integer)
    lag_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_interface.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.name


class Cable(TimestampMixin, Base):
    """A cable; its two ends are ``CableTermination`` rows (end A and end B)."""

    __tablename__ = "dcim_cable"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="connected")
    label: Mapped[str] = mapped_column(String(100), default="")
    length_m: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.label or f"cable {self.id}"


class CableTermination(Base):
    """One end of a cable on an interface; unique per interface."""

    __tablename__ = "dcim_cabletermination"
    __table_args__ = (
        UniqueConstraint("cable_id", "cable_end", name="uq_dcim_cabletermination_end"),
        UniqueConstraint("interface_id", name="uq_dcim_cabletermination_interface_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cable_id: Mapped[int] = mapped_column(ForeignKey("dcim_cable.id", ondelete="CASCADE"))
    cable_end: Mapped[str] = mapped_column(String(1))
    interface_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_interface.id", ondelete="CASCADE"))


class WallOutlet(TimestampMixin, Base):
    """A wall outlet or patch-panel port; colocation checks that one is free."""

    __tablename__ = "dcim_walloutlet"
    __table_args__ = (UniqueConstraint("site_id", "label", name="uq_dcim_walloutlet_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("dcim_site.id", ondelete="RESTRICT"))
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_location.id", ondelete="RESTRICT"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="wall-outlet")
    status: Mapped[str] = mapped_column(String(16), default="free")
    interface_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_interface.id", ondelete="SET NULL"), index=True)
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __str__(self) -> str:
        return self.label
