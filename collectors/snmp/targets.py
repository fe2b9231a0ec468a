"""What to poll: every active inventory device with a primary IPv4 address.

Devices whose role is in ``SIMPUL_SNMP_SKIP_ROLES`` (default: ``host``, end hosts with
no agent) are left out; ``none`` polls every role.

The inventory is the source of truth; a device appears in the poll the cycle after it is
given a primary address and drops out when it loses it or stops being active. The
credentials are the process's (``SIMPUL_SNMP_*``): secrets never live in the database.
"""

from __future__ import annotations

import zlib
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.snmp.poller import Target
from collectors.snmp.settings import SnmpSettings
from inventory.models import Device, Interface, IpAddress

POLLED_STATUSES = ("active", "staged", "planned")


def list_targets(session: Session, settings: SnmpSettings, *,
                 device_ids: list[int] | None = None) -> list[Target]:
    """Return one Target per pollable device, ordered by device id."""
    stmt = (select(Device.id, Device.name, IpAddress.address)
            .join(IpAddress, IpAddress.id == Device.primary_ip4_id)
            .where(Device.status.in_(POLLED_STATUSES)).order_by(Device.id))
    if settings.skip_roles:
        stmt = stmt.where(Device.role.not_in(settings.skip_roles))
    if device_ids is not None:
        stmt = stmt.where(Device.id.in_(device_ids))
    rows = session.execute(stmt).all()
    names: dict[int, dict[str, int]] = defaultdict(dict)
    if rows:
        for iid, did, name in session.execute(
                select(Interface.id, Interface.device_id, Interface.name)
                .where(Interface.device_id.in_([r[0] for r in rows]))):
            names[did][name] = iid
    return [Target(device_id=did, name=name, address=address.split("/", 1)[0],
                   port=settings.port, credentials=settings.credentials,
                   interface_ids=names.get(did, {}))
            for did, name, address in rows]


def share_of(device_id: int, shares: int) -> int:
    """Return which share (0..shares-1) a device belongs to: stable across processes."""
    return zlib.crc32(str(device_id).encode()) % shares


def split_shares(targets: list[Target], shares: int) -> list[list[Target]]:
    """Split *targets* into *shares* groups by ``share_of`` (stable as devices come and go)."""
    groups: list[list[Target]] = [[] for _ in range(shares)]
    for t in targets:
        groups[share_of(t.device_id, shares)].append(t)
    return groups
