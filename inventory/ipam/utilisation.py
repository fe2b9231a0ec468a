"""Utilisation of prefixes and VLAN groups, and OPD bandwidth allocations.

Prefix utilisation follows NetBox: a container counts the space of its child prefixes,
any other prefix counts its addresses plus its ranges (each address once), over the
usable size (IPv4 non-pool prefixes below /31 lose network and broadcast).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import netaddr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.choices import CAPACITY_STEPS_MBPS, MBPS_PER_USER
from inventory.ipam.allocation import child_space, range_space
from inventory.models import BandwidthAllocation, IpAddress, Prefix, Site, Vlan, VlanGroup
from inventory.service import (
    FieldErrors,
    apply,
    audit,
    check_ref,
    merge,
    require,
    snapshot,
)
from simpul.audit import Actor
from simpul.models import Opd


@dataclass(frozen=True)
class Utilisation:
    """``used`` of ``total`` units (addresses, vids, rack units, watts)."""

    used: int
    total: int

    @property
    def percent(self) -> float:
        """Return the share used, 0-100, to one decimal."""
        return round(self.used * 100 / self.total, 1) if self.total else 0.0


def prefix_utilisation(session: Session, prefix: Prefix) -> Utilisation:
    """Return how much of *prefix* is used (see module docstring)."""
    net = netaddr.IPNetwork(prefix.prefix)
    if prefix.status == "container":
        return Utilisation(child_space(session, prefix).size, net.size)
    ranges = range_space(session, prefix) & netaddr.IPSet([net])
    in_prefix = (IpAddress.vrf_key == prefix.vrf_key, IpAddress.family == prefix.family,
                 IpAddress.ip_hex.between(prefix.network_hex, prefix.last_hex))
    count = session.scalar(select(func.count(func.distinct(IpAddress.ip_hex))).where(*in_prefix))
    in_ranges = 0
    for cidr in ranges.iter_cidrs():  # addresses inside ranges are counted once
        first, last = f"{cidr.first:032x}", f"{cidr.last:032x}"
        in_ranges += session.scalar(select(func.count(func.distinct(IpAddress.ip_hex))).where(
            *in_prefix, IpAddress.ip_hex.between(first, last))) or 0
    size = net.size
    if net.version == 4 and net.prefixlen < 31 and not prefix.is_pool:
        size -= 2
    return Utilisation(int(count or 0) - in_ranges + ranges.size, size)


def vlan_group_utilisation(session: Session, group: VlanGroup) -> Utilisation:
    """Return used vids of a group over the size of its vid range."""
    used = session.scalar(select(func.count()).select_from(Vlan).where(
        Vlan.group_id == group.id)) or 0
    return Utilisation(used, group.max_vid - group.min_vid + 1)


# --- bandwidth -----------------------------------------------------------------------------

_BW_FIELDS = frozenset({"opd_id", "site_id", "users", "committed_mbps", "description"})


def planned_mbps(users: int) -> int:
    """Return the planned bandwidth for *users* (REQUIREMENTS.md: 5 Mbps per user)."""
    return users * MBPS_PER_USER


def capacity_step(mbps: int) -> int | None:
    """Return the smallest capacity step (200, 300, 1000 Mbps) covering *mbps*, or None."""
    return next((step for step in CAPACITY_STEPS_MBPS if mbps <= step), None)


@dataclass(frozen=True)
class BandwidthSummary:
    """Totals over allocations and the capacity step they need."""

    users: int
    planned_mbps: int
    committed_mbps: int
    capacity_step_mbps: int | None  # None: above the largest step


def _validate_bw(session: Session, v: dict[str, Any]) -> None:
    errs = FieldErrors()
    if v["opd_id"] is None:
        errs.add("opd_id", "required")
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    check_ref(session, errs, Site, "site_id", v["site_id"])
    for field in ("users", "committed_mbps"):
        value = v[field]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errs.add(field, "must be a whole number of at least 0")
    errs.raise_if_any()


def create_bandwidth_allocation(session: Session, actor: Actor, *, opd_id: int, users: int,
                                committed_mbps: int | None = None,
                                site_id: int | None = None,
                                description: str = "") -> BandwidthAllocation:
    """Record an OPD's quota; committed defaults to the planned 5 Mbps per user."""
    values = {"opd_id": opd_id, "site_id": site_id, "users": users,
              "committed_mbps": planned_mbps(users) if committed_mbps is None and
              isinstance(users, int) else committed_mbps, "description": description}
    _validate_bw(session, values)
    alloc = BandwidthAllocation(**values)
    session.add(alloc)
    audit(session, actor, "create", alloc)
    return alloc


def update_bandwidth_allocation(session: Session, actor: Actor, alloc_id: int,
                                **changes: Any) -> BandwidthAllocation:
    """Change a quota."""
    alloc = require(session, BandwidthAllocation, alloc_id)
    values = merge(alloc, changes, _BW_FIELDS)
    _validate_bw(session, values)
    before = snapshot(alloc)
    apply(alloc, values)
    audit(session, actor, "update", alloc, before=before)
    return alloc


def delete_bandwidth_allocation(session: Session, actor: Actor, alloc_id: int) -> None:
    """Delete a quota."""
    alloc = require(session, BandwidthAllocation, alloc_id)
    audit(session, actor, "delete", alloc, before=snapshot(alloc), deleted=True)
    session.delete(alloc)


def list_bandwidth_allocations(session: Session, *, opd_id: int | None = None,
                               site_id: int | None = None) -> Sequence[BandwidthAllocation]:
    """Return quotas, optionally of one OPD or site."""
    stmt = select(BandwidthAllocation).order_by(BandwidthAllocation.id)
    if opd_id is not None:
        stmt = stmt.where(BandwidthAllocation.opd_id == opd_id)
    if site_id is not None:
        stmt = stmt.where(BandwidthAllocation.site_id == site_id)
    return session.scalars(stmt).all()


def bandwidth_summary(session: Session, *, site_id: int | None = None) -> BandwidthSummary:
    """Return total users, planned and committed Mbps, and the capacity step needed."""
    stmt = select(func.coalesce(func.sum(BandwidthAllocation.users), 0),
                  func.coalesce(func.sum(BandwidthAllocation.committed_mbps), 0))
    if site_id is not None:
        stmt = stmt.where(BandwidthAllocation.site_id == site_id)
    users, committed = session.execute(stmt).one()
    planned = planned_mbps(int(users))
    return BandwidthSummary(int(users), planned, int(committed),
                            capacity_step(max(planned, int(committed))))
