"""RADIUS clients (NAS) from the inventory: network devices with a primary IPv4 address.

The same list feeds the generated ``clients.conf`` and the NAS-to-site map the policy
uses to pick the site's unknown-device treatment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Device, IpAddress

# Device roles that authenticate hosts (switches, APs, controllers, routers with ports).
NAS_ROLES = ("core", "distribution", "access", "edge", "router", "switch", "vpn",
             "wireless-controller", "access-point", "firewall")


@dataclass(frozen=True)
class Nas:
    """One RADIUS client: inventory device name, its address, and its site."""

    name: str
    ip: str
    site_id: int | None

    @property
    def env_name(self) -> str:
        """The per-client secret override variable, e.g. ``SIMPUL_RADIUS_SECRET_SW_ACC1``."""
        return "SIMPUL_RADIUS_SECRET_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())


def list_nas(session: Session) -> list[Nas]:
    """Return the active network devices with a primary IPv4 address, by name."""
    rows = session.execute(
        select(Device.name, IpAddress.address, Device.site_id)
        .join(IpAddress, IpAddress.id == Device.primary_ip4_id)
        .where(Device.role.in_(NAS_ROLES), Device.status == "active")
        .order_by(Device.name)).all()
    return [Nas(name, address.split("/", 1)[0], site_id) for name, address, site_id in rows]
