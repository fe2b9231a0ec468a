"""Inventory tables (DCIM + IPAM); importing this package registers them for Alembic."""

from __future__ import annotations

from inventory.models import freehint  # noqa: F401  (registers the before_flush listener)
from inventory.models.dcim import Location, PowerFeed, Rack, RackReservation, Site
from inventory.models.devices import (
    Cable,
    CableTermination,
    Device,
    DeviceType,
    DeviceUnit,
    Interface,
    Manufacturer,
    WallOutlet,
)
from inventory.models.ipam import (
    BandwidthAllocation,
    IpAddress,
    IpRange,
    Prefix,
    Vlan,
    VlanGroup,
    Vrf,
)

__all__ = [
    "BandwidthAllocation",
    "Cable",
    "CableTermination",
    "Device",
    "DeviceType",
    "DeviceUnit",
    "Interface",
    "IpAddress",
    "IpRange",
    "Location",
    "Manufacturer",
    "PowerFeed",
    "Prefix",
    "Rack",
    "RackReservation",
    "Site",
    "Vlan",
    "VlanGroup",
    "Vrf",
    "WallOutlet",
]
