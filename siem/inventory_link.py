"""What the SIEM reads from the rest of simpul: inventory assets and helpdesk work orders.

All read-only. The helpdesk lives in the web package, and domain code must not import
the web layer at import time, so ``approved_change`` imports its models lazily, inside
the call, and answers False when the helpdesk is not installed.

``InventoryAssets`` is an enricher (see ``siem.enrich``): it snapshots device addresses
and names with role, site, OPD and a criticality derived from the device role (a core
router matters more than an access switch), and refreshes the snapshot every
``refresh_s`` seconds on the writer thread — one query, not one per event.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import String, cast, or_, select

from siem.enrich import ASSET_KEYS
from siem.normalise import Event
from simpul.db import Database

ROLE_CRITICALITY = {
    "core": "critical", "router": "high", "firewall": "critical", "core-switch": "critical",
    "distribution": "high", "dist-switch": "high", "server": "high", "storage": "high",
    "vpn": "high", "wan": "high", "access": "medium", "access-switch": "medium",
    "wireless": "medium", "ap": "low", "printer": "low", "workstation": "low",
}
_PREFIXES = ("source", "destination", "host", "observer")


def criticality_for(role: str) -> str:
    """Asset criticality from a device role; unknown roles are medium."""
    low = (role or "").lower()
    if low in ROLE_CRITICALITY:
        return ROLE_CRITICALITY[low]
    for key, value in ROLE_CRITICALITY.items():
        if key in low:
            return value
    return "medium"


def load_inventory_assets(db: Database) -> tuple[dict[str, dict[str, Any]],
                                                 dict[str, dict[str, Any]]]:
    """Return ``{address: attrs}`` and ``{device name: attrs}`` from the inventory."""
    from inventory.models.dcim import Site
    from inventory.models.devices import Device, Interface
    from inventory.models.ipam import IpAddress
    from simpul.models import Opd

    by_ip: dict[str, dict[str, Any]] = {}
    by_name: dict[str, dict[str, Any]] = {}
    with db.session(write=False) as session:
        opds = {o.id: o.code for o in session.scalars(select(Opd))}
        sites = {s.id: (s.name, s.opd_id) for s in session.scalars(select(Site))}
        devices: dict[int, dict[str, Any]] = {}
        for dev in session.scalars(select(Device)):
            site_name, site_opd = sites.get(dev.site_id, ("", None))
            attrs = {"device": dev.name, "role": dev.role, "site": site_name,
                     "opd": opds.get(dev.opd_id or site_opd or -1, ""),
                     "criticality": criticality_for(dev.role)}
            devices[dev.id] = attrs
            by_name[dev.name.lower()] = attrs
        rows = session.execute(select(IpAddress.address, Interface.device_id, IpAddress.opd_id)
                               .join(Interface, Interface.id == IpAddress.interface_id))
        for address, device_id, opd_id in rows:
            attrs = devices.get(device_id)
            if attrs is None:
                continue
            ip = address.split("/", 1)[0]
            by_ip[ip] = attrs if attrs["opd"] or not opd_id else {
                **attrs, "opd": opds.get(opd_id, "")}
    return by_ip, by_name


# (prefix, "<prefix>.ip", ((asset key, "<prefix>.asset.<key>"), ...)), built once.
_LOOKUPS = tuple((prefix, f"{prefix}.ip",
                  tuple((key, f"{prefix}.asset.{key}") for key in ASSET_KEYS))
                 for prefix in _PREFIXES)


class InventoryAssets:
    """Enricher: ``<prefix>.asset.*`` from the inventory, by address and by host name."""

    __name__ = "inventory_assets"

    def __init__(self, db: Database, refresh_s: float = 300.0) -> None:
        self.db, self.refresh_s = db, refresh_s
        self.by_ip: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, dict[str, Any]] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        """Reload the snapshot when it is older than ``refresh_s``."""
        now = time.monotonic()
        if not force and self._loaded and now - self._loaded < self.refresh_s:
            return
        with self._lock:
            self._loaded = now
            try:
                self.by_ip, self.by_name = load_inventory_assets(self.db)
            except Exception as exc:  # inventory absent or unreadable: enrich nothing
                logger.warning("siem: inventory lookup failed: {}", exc)

    def __call__(self, event: Event) -> Event:
        if not self._loaded or time.monotonic() - self._loaded >= self.refresh_s:
            self.refresh()
        by_ip, by_name = self.by_ip, self.by_name
        if not by_ip and not by_name:  # nothing in the inventory (yet)
            return event
        for prefix, ip_key, asset_keys in _LOOKUPS:
            address = event.get(ip_key)
            attrs = by_ip.get(address) if address else None
            if attrs is None and prefix == "host":
                name = event.get("host.name")
                attrs = by_name.get(name.lower()) if isinstance(name, str) else None
            if attrs:
                for key, field in asset_keys:
                    if attrs.get(key) and field not in event:
                        event[field] = attrs[key]
        return event

    def expected_hosts(self) -> list[str] | None:
        """Addresses of inventory devices (absence rules); None when the inventory is empty."""
        self.refresh()
        return sorted(self.by_ip) or None


CLOSED_STATES = ("submitted", "declined", "rejected")


def approved_change(db: Database, device: str, when: datetime) -> bool:
    """True when an accepted, open (or just closed) work order names *device*.

    A work order "names" the device when its title, description or details mention the
    device's name or address. Reads the helpdesk lazily; False without a helpdesk.
    """
    try:
        from webui.helpdesk.models import WorkOrder
    except Exception:
        return False
    needle = f"%{device.lower()}%"
    with db.session(write=False) as session:
        found = session.scalars(
            select(WorkOrder.id).where(
                WorkOrder.created_at <= when,
                WorkOrder.state.not_in(CLOSED_STATES),
                or_(WorkOrder.closed_at.is_(None),
                    WorkOrder.closed_at >= when - timedelta(hours=1)),
                or_(WorkOrder.title.ilike(needle), WorkOrder.description.ilike(needle),
                    cast(WorkOrder.details, String).ilike(needle)))
            .limit(1)).first()
    return found is not None
