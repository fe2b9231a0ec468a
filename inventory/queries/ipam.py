"""Filtered SELECTs over IPAM: VRFs, VLANs, prefixes, ranges and addresses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import netaddr
from sqlalchemy import Select, and_, func, or_, select

from inventory.addressing import parse_interface_address, parse_network, to_hex
from inventory.models import (
    BandwidthAllocation,
    Interface,
    IpAddress,
    IpRange,
    Prefix,
    Vlan,
    VlanGroup,
    Vrf,
)
from inventory.queries.base import (
    Ids,
    Texts,
    in_,
    inside,
    networks,
    search,
    site_slug,
    tenant_of,
    vrf_filter,
)
from inventory.service import invalid


def vrfs_query(*, id: Ids | None = None, name: Texts | None = None, rd: Texts | None = None,
               tenant_id: Ids | None = None, tenant: Texts | None = None,
               q: str | None = None) -> Select[Any]:
    """VRFs by name."""
    stmt = in_(in_(in_(select(Vrf), Vrf.id, id), Vrf.name, name), Vrf.rd, rd)
    stmt = search(tenant_of(stmt, Vrf.opd_id, tenant_id, tenant), q, Vrf.name, Vrf.rd,
                  Vrf.description)
    return stmt.order_by(Vrf.name, Vrf.id)


def vlan_groups_query(*, id: Ids | None = None, slug: Texts | None = None,
                      site_id: Ids | None = None, site: Texts | None = None,
                      q: str | None = None) -> Select[Any]:
    """VLAN groups by name."""
    stmt = in_(in_(in_(select(VlanGroup), VlanGroup.id, id), VlanGroup.slug, slug),
               VlanGroup.site_id, site_id)
    stmt = search(site_slug(stmt, VlanGroup.site_id, site), q, VlanGroup.name,
                  VlanGroup.slug, VlanGroup.description)
    return stmt.order_by(VlanGroup.name, VlanGroup.id)


def vlans_query(*, id: Ids | None = None, vid: Ids | None = None,
                group_id: Ids | None = None, site_id: Ids | None = None,
                status: Texts | None = None, role: Texts | None = None,
                tenant_id: Ids | None = None, tenant: Texts | None = None,
                q: str | None = None) -> Select[Any]:
    """VLANs by group and vid; ``site_id`` matches through the VLAN's group."""
    stmt = select(Vlan)
    for column, values in ((Vlan.id, id), (Vlan.vid, vid), (Vlan.group_id, group_id),
                           (Vlan.status, status), (Vlan.role, role)):
        stmt = in_(stmt, column, values)
    if site_id:
        stmt = stmt.where(Vlan.group_id.in_(select(VlanGroup.id).where(
            VlanGroup.site_id.in_(list(site_id)))))
    stmt = search(tenant_of(stmt, Vlan.opd_id, tenant_id, tenant), q, Vlan.name,
                  Vlan.description)
    return stmt.order_by(Vlan.group_key, Vlan.vid, Vlan.id)


def vlan_counts(group_ids: Ids) -> Select[Any]:
    """Rows (group_id, VLANs in it) for many VLAN groups at once."""
    return (select(Vlan.group_id, func.count()).where(Vlan.group_id.in_(list(group_ids)))
            .group_by(Vlan.group_id))


def prefixes_query(*, id: Ids | None = None, prefix: Texts | None = None,
                   vrf_id: Sequence[int | None] | None = None, family: int | None = None,
                   within: Texts | None = None, within_include: Texts | None = None,
                   parent: Texts | None = None, contains: Texts | None = None,
                   mask_length: Ids | None = None, status: Texts | None = None,
                   role: Texts | None = None, is_pool: bool | None = None,
                   site_id: Ids | None = None, site: Texts | None = None,
                   vlan_id: Ids | None = None, tenant_id: Ids | None = None,
                   tenant: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Prefixes in address order (VRF, family, network, shorter first).

    ``within``/``parent``: strictly inside; ``within_include``: inside or equal;
    ``contains``: prefixes holding an address or prefix (NetBox's filters).
    """
    stmt = vrf_filter(in_(select(Prefix), Prefix.id, id), Prefix.vrf_key, vrf_id)
    for column, values in ((Prefix.prefix_length, mask_length), (Prefix.status, status),
                           (Prefix.role, role), (Prefix.site_id, site_id),
                           (Prefix.vlan_id, vlan_id)):
        stmt = in_(stmt, column, values)
    if prefix:
        stmt = in_(stmt, Prefix.prefix, [str(n) for n in networks("prefix", prefix)])
    if family is not None:
        stmt = stmt.where(Prefix.family == family)
    strict = networks("within", within) + networks("parent", parent)
    if strict:
        stmt = stmt.where(inside(Prefix.family, Prefix.network_hex, Prefix.last_hex, strict,
                                 Prefix.prefix_length))
    loose = networks("within_include", within_include)
    if loose:
        stmt = stmt.where(inside(Prefix.family, Prefix.network_hex, Prefix.last_hex, loose))
    if contains:
        terms = []
        for text in contains:
            try:
                net = (parse_network(text) if "/" in text
                       else netaddr.IPNetwork(str(parse_interface_address(text)[0])))
            except (ValueError, netaddr.AddrFormatError):
                raise invalid("contains", f"{text!r} is not an address or prefix") from None
            terms.append(and_(Prefix.family == net.version,
                              Prefix.network_hex <= to_hex(net.first),
                              Prefix.last_hex >= to_hex(net.last)))
        stmt = stmt.where(or_(*terms))
    if is_pool is not None:
        stmt = stmt.where(Prefix.is_pool.is_(is_pool))
    stmt = tenant_of(site_slug(stmt, Prefix.site_id, site), Prefix.opd_id, tenant_id, tenant)
    stmt = search(stmt, q, Prefix.prefix, Prefix.description)
    return stmt.order_by(Prefix.vrf_key, Prefix.family, Prefix.network_hex,
                         Prefix.prefix_length, Prefix.id)


def ip_ranges_query(*, id: Ids | None = None, vrf_id: Sequence[int | None] | None = None,
                    family: int | None = None, parent: Texts | None = None,
                    status: Texts | None = None, role: Texts | None = None,
                    tenant_id: Ids | None = None, tenant: Texts | None = None,
                    q: str | None = None) -> Select[Any]:
    """IP ranges in address order; ``parent`` keeps ranges inside a prefix."""
    stmt = vrf_filter(in_(select(IpRange), IpRange.id, id), IpRange.vrf_key, vrf_id)
    stmt = in_(in_(stmt, IpRange.status, status), IpRange.role, role)
    if family is not None:
        stmt = stmt.where(IpRange.family == family)
    nets = networks("parent", parent)
    if nets:
        stmt = stmt.where(inside(IpRange.family, IpRange.start_hex, IpRange.end_hex, nets))
    stmt = search(tenant_of(stmt, IpRange.opd_id, tenant_id, tenant), q,
                  IpRange.start_address, IpRange.description)
    return stmt.order_by(IpRange.vrf_key, IpRange.family, IpRange.start_hex, IpRange.id)


def ip_addresses_query(*, id: Ids | None = None,
                       vrf_id: Sequence[int | None] | None = None, family: int | None = None,
                       parent: Texts | None = None, address: Texts | None = None,
                       mask_length: Ids | None = None, status: Texts | None = None,
                       role: Texts | None = None, dns_name: Texts | None = None,
                       interface_id: Ids | None = None, device_id: Ids | None = None,
                       assigned: bool | None = None, tenant_id: Ids | None = None,
                       tenant: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Addresses in numeric order (VRF, family, address, id).

    ``parent``: inside a prefix (any VRF unless ``vrf_id`` narrows it); ``address``: the
    host part, whatever the mask, as NetBox matches it.
    """
    stmt = vrf_filter(in_(select(IpAddress), IpAddress.id, id), IpAddress.vrf_key, vrf_id)
    for column, values in ((IpAddress.status, status), (IpAddress.role, role),
                           (IpAddress.dns_name, dns_name),
                           (IpAddress.interface_id, interface_id)):
        stmt = in_(stmt, column, values)
    if family is not None:
        stmt = stmt.where(IpAddress.family == family)
    nets = networks("parent", parent)
    if nets:
        stmt = stmt.where(inside(IpAddress.family, IpAddress.ip_hex, IpAddress.ip_hex, nets))
    if address:
        hosts = []
        for text in address:
            try:
                hosts.append(parse_interface_address(text)[0])
            except ValueError as exc:
                raise invalid("address", str(exc)) from None
        stmt = stmt.where(or_(*(and_(IpAddress.family == h.version,
                                     IpAddress.ip_hex == to_hex(int(h))) for h in hosts)))
    if mask_length:
        stmt = stmt.where(or_(*(IpAddress.address.endswith(f"/{n}") for n in mask_length)))
    if device_id:
        stmt = stmt.where(IpAddress.interface_id.in_(select(Interface.id).where(
            Interface.device_id.in_(list(device_id)))))
    if assigned is not None:
        column = IpAddress.interface_id
        stmt = stmt.where(column.is_not(None) if assigned else column.is_(None))
    stmt = tenant_of(stmt, IpAddress.opd_id, tenant_id, tenant)
    if q and q.strip():
        text = q.strip()
        stmt = stmt.where(or_(IpAddress.address.startswith(text, autoescape=True),
                              IpAddress.dns_name.icontains(text, autoescape=True),
                              IpAddress.description.icontains(text, autoescape=True)))
    return stmt.order_by(IpAddress.vrf_key, IpAddress.family, IpAddress.ip_hex, IpAddress.id)


def bandwidth_allocations_query(*, id: Ids | None = None, site_id: Ids | None = None,
                                site: Texts | None = None, tenant_id: Ids | None = None,
                                tenant: Texts | None = None, q: str | None = None
                                ) -> Select[Any]:
    """OPDs' internet quotas by tenant and site (not a NetBox object; same filter names)."""
    stmt = in_(in_(select(BandwidthAllocation), BandwidthAllocation.id, id),
               BandwidthAllocation.site_id, site_id)
    stmt = tenant_of(site_slug(stmt, BandwidthAllocation.site_id, site),
                     BandwidthAllocation.opd_id, tenant_id, tenant)
    stmt = search(stmt, q, BandwidthAllocation.description)
    return stmt.order_by(BandwidthAllocation.opd_id, BandwidthAllocation.id)
