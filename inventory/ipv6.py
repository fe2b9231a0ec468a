"""IPv4 → IPv6 migration: a dual-stack plan per IPv4 prefix and what still lacks IPv6.

REQUIREMENTS.md ("Network evaluation") asks for the migration stages. Each IPv4 prefix
is at one stage:

* ``ipv4-only`` — nothing IPv6 yet; the plan names the /64 it will get;
* ``planned`` — that /64 is reserved in IPAM, no interface of the subnet has IPv6 yet;
* ``dual-stack`` — an interface holding an address of the subnet also holds a global
  IPv6 address (or a /64 with addresses exists on the same VLAN).

The /64 comes from an IPv6 block: the ``block`` argument, else ``SIMPUL_IPV6_BLOCK``,
else the widest IPv6 container prefix of the global table. The mapping is
deterministic, so re-running the plan never moves a subnet: with a block of /32 or
wider the 32-bit IPv4 network address *is* the subnet id (``10.1.10.0/24`` in
``2001:db8::/32`` → ``2001:db8:a01:a00::/64``), readable from either side; with a longer
block (up to /56) the subnet id is the IPv4 network without its last octet, modulo
the ids available, and collisions (e.g. /31 links of one /24) take the next free id in
address order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import netaddr
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.errors import InventoryValidationError
from inventory.ipam.prefixes import create_prefix
from inventory.models import Device, Interface, IpAddress, Prefix, Site, Vrf
from simpul.audit import Actor

ENV_BLOCK = "SIMPUL_IPV6_BLOCK"
STAGES = ("ipv4-only", "planned", "dual-stack")
_LINK_LOCAL = netaddr.IPNetwork("fe80::/10")


@dataclass(frozen=True)
class PrefixPlan:
    """One IPv4 prefix, the IPv6 /64 planned (or found) for it, and its stage."""

    ipv4: str
    vrf: str
    site: str | None
    role: str
    ipv6: str | None
    stage: str


@dataclass
class Ipv6Report:
    """The dual-stack plan and the devices that still have no IPv6 address."""

    block: str | None
    prefixes: list[PrefixPlan] = field(default_factory=list)
    devices_without_ipv6: list[str] = field(default_factory=list)
    devices_total: int = 0

    def stage_counts(self) -> dict[str, int]:
        """Return how many IPv4 prefixes are at each stage."""
        return {stage: sum(p.stage == stage for p in self.prefixes) for stage in STAGES}

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {"block": self.block, "stages": self.stage_counts(),
                "prefixes": [asdict(p) for p in self.prefixes],
                "devices_total": self.devices_total,
                "devices_without_ipv6": self.devices_without_ipv6}


def ipv6_block(session: Session, block: str | None = None,
               env: Mapping[str, str] | None = None) -> netaddr.IPNetwork | None:
    """Return the IPv6 block plans are cut from, or None when none is configured.

    Raises:
        InventoryValidationError: the configured block is not an IPv6 prefix of /56 or
            wider.
    """
    env = os.environ if env is None else env
    text = block or env.get(ENV_BLOCK)
    if not text:
        text = session.scalar(select(Prefix.prefix).where(
            Prefix.family == 6, Prefix.vrf_key == 0, Prefix.status == "container")
            .order_by(Prefix.prefix_length, Prefix.network_hex).limit(1))
        if text is None:
            return None
    try:
        net = netaddr.IPNetwork(text).cidr
    except (netaddr.AddrFormatError, ValueError, TypeError):
        net = None
    if net is None or net.version != 6 or net.prefixlen > 56:
        raise InventoryValidationError(
            f"IPv6 block {text!r} must be an IPv6 prefix of /56 or wider "
            f"(set {ENV_BLOCK}, e.g. 2001:db8::/32)", errors={"block": ["not an IPv6 /56+"]})
    return net


def subnet_id(ipv4: netaddr.IPNetwork, block: netaddr.IPNetwork) -> int:
    """Return the preferred /64 subnet id of *ipv4* inside *block* (see module doc)."""
    bits = 64 - block.prefixlen
    if bits >= 32:
        return ipv4.first
    return (ipv4.first >> 8) % (1 << bits)


def plan_subnets(ipv4s: Sequence[netaddr.IPNetwork], block: netaddr.IPNetwork,
                 taken: set[int] | None = None) -> dict[netaddr.IPNetwork, netaddr.IPNetwork]:
    """Return a /64 for each IPv4 prefix, in address order, never two the same."""
    size = 1 << (64 - block.prefixlen)
    used = set(taken or ())
    plan = {}
    for net in sorted(set(ipv4s)):
        sid = subnet_id(net, block)
        for _ in range(size):
            if sid not in used:
                break
            sid = (sid + 1) % size
        else:
            raise InventoryValidationError(f"IPv6 block {block} has no free /64 left",
                                           errors={"block": ["full"]})
        used.add(sid)
        plan[net] = netaddr.IPNetwork(f"{netaddr.IPAddress(block.first | (sid << 64), 6)}/64")
    return plan


def _v6_by_interface(session: Session) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for iface_id, address in session.execute(select(IpAddress.interface_id, IpAddress.address)
                                             .where(IpAddress.family == 6,
                                                    IpAddress.interface_id.is_not(None))):
        if netaddr.IPNetwork(address).ip not in _LINK_LOCAL:
            found.setdefault(iface_id, []).append(address)
    return found


def ipv6_report(session: Session, *, block: str | None = None,
                env: Mapping[str, str] | None = None) -> Ipv6Report:
    """Return the dual-stack plan per IPv4 prefix and the devices without IPv6."""
    net_block = ipv6_block(session, block, env)
    v4 = session.scalars(select(Prefix).where(
        Prefix.family == 4, Prefix.status.in_(("active", "reserved")))
        .order_by(Prefix.vrf_key, Prefix.network_hex, Prefix.prefix_length)).all()
    v6_prefixes = session.scalars(select(Prefix).where(Prefix.family == 6)).all()
    v6_by_net = {(p.vrf_key, p.prefix): p for p in v6_prefixes}
    v6_vlans = {p.vlan_id for p in v6_prefixes if p.vlan_id is not None}
    v6_ifaces = _v6_by_interface(session)
    v6_used = {(p.vrf_key, p.prefix) for p in v6_prefixes}
    vrfs = {v.id: v.name for v in session.scalars(select(Vrf))}
    sites = {s.id: s.slug for s in session.scalars(select(Site))}
    taken = set()
    if net_block is not None:
        for p in v6_prefixes:
            net = netaddr.IPNetwork(p.prefix)
            if p.prefix_length == 64 and net in net_block:
                taken.add((net.first - net_block.first) >> 64)
    plan = plan_subnets([netaddr.IPNetwork(p.prefix) for p in v4], net_block,
                        taken - _planned_ids(v4, v6_used, net_block)) if net_block else {}
    report = Ipv6Report(block=str(net_block) if net_block else None)
    for p in v4:
        inside = session.scalars(select(IpAddress.interface_id).where(
            IpAddress.vrf_key == p.vrf_key, IpAddress.family == 4,
            IpAddress.interface_id.is_not(None),
            IpAddress.ip_hex.between(p.network_hex, p.last_hex))).all()
        live = next((v6_ifaces[i][0] for i in inside if i in v6_ifaces), None)
        target = plan.get(netaddr.IPNetwork(p.prefix))
        stage = "ipv4-only"
        if live is not None or (p.vlan_id is not None and p.vlan_id in v6_vlans):
            stage = "dual-stack"
        elif target is not None and (p.vrf_key, str(target)) in v6_by_net:
            stage = "planned"
        ipv6 = str(target) if target is not None else (
            str(netaddr.IPNetwork(live).cidr) if live else None)
        report.prefixes.append(PrefixPlan(ipv4=p.prefix, vrf=vrfs.get(p.vrf_key, "global"),
                                          site=sites.get(p.site_id or 0), role=p.role,
                                          ipv6=ipv6, stage=stage))
    _devices_without_ipv6(session, report)
    return report


def _planned_ids(v4: Sequence[Prefix], v6_used: set[tuple[int, str]],
                 block: netaddr.IPNetwork | None) -> set[int]:
    """Return subnet ids already reserved *for* these IPv4 prefixes (not collisions)."""
    if block is None:
        return set()
    ids = set()
    for p in v4:
        preferred = plan_subnets([netaddr.IPNetwork(p.prefix)], block)
        for net in preferred.values():
            if (p.vrf_key, str(net)) in v6_used:
                ids.add((net.first - block.first) >> 64)
    return ids


def _devices_without_ipv6(session: Session, report: Ipv6Report) -> None:
    rows = session.execute(select(Device.name, IpAddress.family, IpAddress.address)
                           .join(Interface, Interface.device_id == Device.id)
                           .join(IpAddress, IpAddress.interface_id == Interface.id)).all()
    has_v4 = {name for name, family, _a in rows if family == 4}
    has_v6 = {name for name, family, address in rows
              if family == 6 and netaddr.IPNetwork(address).ip not in _LINK_LOCAL}
    report.devices_total = len(session.scalars(select(Device.id)).all())
    report.devices_without_ipv6 = sorted(has_v4 - has_v6)


def reserve_plan(session: Session, actor: Actor, report: Ipv6Report) -> list[Prefix]:
    """Reserve in IPAM each planned /64 of an ``ipv4-only`` prefix (stage → planned)."""
    created = []
    vrf_ids = {v.name: v.id for v in session.scalars(select(Vrf))}
    site_ids = {s.slug: s.id for s in session.scalars(select(Site))}
    for plan in report.prefixes:
        if plan.stage != "ipv4-only" or plan.ipv6 is None:
            continue
        created.append(create_prefix(
            session, actor, prefix=plan.ipv6, vrf_id=vrf_ids.get(plan.vrf),
            status="reserved", role=plan.role, site_id=site_ids.get(plan.site or ""),
            description=f"IPv6 plan for {plan.ipv4}"))
    return created
