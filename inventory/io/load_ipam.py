"""Loading the IPAM sections: VRFs, VLAN groups, VLANs, prefixes, addresses, primary IPs."""

from __future__ import annotations

import contextlib
from typing import Any

import netaddr
from sqlalchemy import select

from inventory.addressing import parse_interface_address, parse_network, to_hex
from inventory.dcim.devices import update_device
from inventory.io.context import ImportContext
from inventory.io.document import Item, items
from inventory.io.load_dcim import DEVICE_FIELDS, interface_by_ref, interface_items
from inventory.ipam.addresses import create_ip_address, find_ip_address, update_ip_address
from inventory.ipam.prefixes import create_prefix, update_prefix
from inventory.ipam.vlans import (
    create_vlan,
    create_vlan_group,
    create_vrf,
    update_vlan,
    update_vlan_group,
    update_vrf,
)
from inventory.models import Device, Interface, IpAddress, Prefix, Vlan, VlanGroup, Vrf
from simpul.errors import SimpulError

VRF_FIELDS = frozenset({"name", "rd", "enforce_unique", "opd", "description"})
GROUP_FIELDS = frozenset({"slug", "name", "site", "min_vid", "max_vid", "description"})
VLAN_FIELDS = frozenset({"group", "vid", "name", "status", "role", "opd", "description"})
PREFIX_FIELDS = frozenset({"prefix", "vrf", "status", "role", "is_pool", "site", "opd", "vlan",
                           "vlan_group", "description"})
ADDRESS_FIELDS = frozenset({"address", "vrf", "status", "role", "dns_name", "opd",
                            "description", "interface"})


def load_vrfs(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync VRFs by name."""
    for item in items(doc, "vrfs", "vrf", "name", ctx.file, VRF_FIELDS):
        name = item.text("name")
        desired = {"name": name, "rd": item.get("rd"),
                   "enforce_unique": item.boolean("enforce_unique", True),
                   "opd_id": ctx.opd_id(item), "description": item.text("description")}
        vrf = ctx.session.scalar(select(Vrf).where(Vrf.name == name))
        ctx.sync(item, vrf, desired, create_vrf, update_vrf, fixed=frozenset({"name"}))


def _group_id(ctx: ImportContext, item: Item, field_name: str) -> int | None:
    slug = item.text(field_name)
    if not slug:
        return None
    group = ctx.session.scalar(select(VlanGroup).where(VlanGroup.slug == slug))
    if group is None:
        raise item.fail(field_name, f"unknown VLAN group {slug!r}")
    return group.id


def load_vlans(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync VLAN groups by slug, then VLANs by (group, vid)."""
    for item in items(doc, "vlan_groups", "VLAN group", "slug", ctx.file, GROUP_FIELDS):
        slug = item.text("slug")
        site = ctx.site(item, required=False)
        desired = {"slug": slug, "name": item.text("name", slug),
                   "site_id": site.id if site else None,
                   "min_vid": item.integer("min_vid", 1), "max_vid": item.integer("max_vid", 4094),
                   "description": item.text("description")}
        group = ctx.session.scalar(select(VlanGroup).where(VlanGroup.slug == slug))
        ctx.sync(item, group, desired, create_vlan_group, update_vlan_group,
                 fixed=frozenset({"slug"}))
    for item in items(doc, "vlans", "VLAN", ("group", "vid"), ctx.file, VLAN_FIELDS):
        group_id = _group_id(ctx, item, "group")
        vid = item.integer("vid")
        if vid is None:
            raise item.fail("vid", "required")
        desired = {"group_id": group_id, "vid": vid, "name": item.text("name", f"VLAN{vid}"),
                   "status": item.text("status", "active"), "role": item.text("role"),
                   "opd_id": ctx.opd_id(item), "description": item.text("description")}
        vlan = ctx.session.scalar(select(Vlan).where(Vlan.group_key == (group_id or 0),
                                                     Vlan.vid == vid))
        ctx.sync(item, vlan, desired, create_vlan, update_vlan,
                 fixed=frozenset({"group_id", "vid"}))


def _prefix_order(item: Item) -> tuple[str, int, int, int]:
    try:
        net = parse_network(item.text("prefix"))
    except ValueError:
        return (item.text("vrf"), 0, 0, -1)  # reported when it is loaded
    return (item.text("vrf"), net.version, net.first, net.prefixlen)


def load_prefixes(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync prefixes by (VRF, prefix); wider prefixes first, so containers precede children."""
    found = list(items(doc, "prefixes", "prefix", "prefix", ctx.file, PREFIX_FIELDS))
    for item in sorted(found, key=_prefix_order):
        text = item.text("prefix")
        vrf_id = ctx.vrf_id(item, item.text("vrf"))
        vlan_id = None
        if item.get("vlan") is not None:
            group_id = _group_id(ctx, item, "vlan_group")
            vlan = ctx.session.scalar(select(Vlan).where(Vlan.group_key == (group_id or 0),
                                                         Vlan.vid == item.integer("vlan")))
            if vlan is None:
                raise item.fail("vlan", f"unknown VLAN {item.get('vlan')}")
            vlan_id = vlan.id
        site = ctx.site(item, required=False)
        desired = {"prefix": text, "vrf_id": vrf_id, "status": item.text("status", "active"),
                   "role": item.text("role"), "is_pool": item.boolean("is_pool", False),
                   "opd_id": ctx.opd_id(item), "vlan_id": vlan_id,
                   "site_id": site.id if site else None,
                   "description": item.text("description")}
        existing = None
        with contextlib.suppress(ValueError):  # a bad prefix: create_prefix names the problem
            existing = ctx.session.scalar(select(Prefix).where(
                Prefix.vrf_key == (vrf_id or 0), Prefix.prefix == str(parse_network(text))))
        ctx.sync(item, existing, desired, create_prefix, update_prefix,
                 fixed=frozenset({"prefix", "vrf_id"}))


def _address_item(parent: Item, entry: Any, index: int) -> Item:
    data = {"address": entry} if isinstance(entry, str) else entry
    if not isinstance(data, dict):
        raise parent.fail(f"addresses[{index}]", "must be an address or a mapping")
    item = Item("address", f"{data.get('address')} ({parent.kind} {parent.key})", parent.where,
                dict(data))
    unknown = sorted(set(data) - ADDRESS_FIELDS)
    if unknown:
        raise item.fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(ADDRESS_FIELDS))})")
    return item


def _sync_address(ctx: ImportContext, item: Item, interface_id: int | None) -> IpAddress:
    text = item.text("address")
    fixed = {"vrf_id"}
    try:
        ip, mask = parse_interface_address(text)
    except ValueError as exc:
        raise item.fail("address", str(exc)) from None
    if mask is None:
        fixed.add("address")  # the service takes the prefix's length; keep what it chose
    else:
        text = f"{ip}/{mask}"
    vrf_id = ctx.vrf_id(item, item.text("vrf"))
    desired = {"address": text, "vrf_id": vrf_id, "status": item.text("status", "active"),
               "role": item.text("role"), "dns_name": item.text("dns_name"),
               "interface_id": interface_id, "opd_id": ctx.opd_id(item),
               "description": item.text("description")}
    existing = find_ip_address(ctx.session, text, vrf_id)
    return ctx.sync(item, existing, desired, create_ip_address, update_ip_address,
                    fixed=frozenset(fixed))


def load_addresses(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync the addresses on the file's interfaces, then the free-standing ones."""
    for item in items(doc, "devices", "device", "name", ctx.file, DEVICE_FIELDS):
        device = ctx.devices[item.text("name")]
        for sub in interface_items(item):
            raw = sub.get("addresses", [])
            if not isinstance(raw, list):
                raise sub.fail("addresses", "must be a list")
            iface = ctx.session.scalar(select(Interface).where(
                Interface.device_id == device.id, Interface.name == sub.text("name")))
            assert iface is not None
            for index, entry in enumerate(raw):
                _sync_address(ctx, _address_item(sub, entry, index), iface.id)
    for item in items(doc, "ip_addresses", "address", "address", ctx.file, ADDRESS_FIELDS):
        iface_id = None
        if item.get("interface") is not None:
            iface_id = interface_by_ref(ctx, item, "interface", item.get("interface")).id
        _sync_address(ctx, item, iface_id)


def _device_address(ctx: ImportContext, device: Device, text: str) -> IpAddress | None:
    ip, _mask = parse_interface_address(text)
    return ctx.session.scalar(
        select(IpAddress).join(Interface, Interface.id == IpAddress.interface_id)
        .where(Interface.device_id == device.id, IpAddress.family == ip.version,
               IpAddress.ip_hex == to_hex(int(ip))).limit(1))


def load_primary_ips(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Point each device's primary IPv4/IPv6 at one of its interface addresses."""
    raw = doc.get("devices") or []
    for entry in raw if isinstance(raw, list) else []:
        name = str(entry.get("name"))
        device = ctx.devices[name]
        line = getattr(entry, "line", 0)
        item = Item("device", name, f"{ctx.file}:{line}" if line else ctx.file, dict(entry))
        for field_name, family in (("primary_ip4", 4), ("primary_ip6", 6)):
            text = item.text(field_name)
            column = f"{field_name}_id"
            if not text:
                continue
            try:
                ip = _device_address(ctx, device, text)
            except ValueError as exc:
                raise item.fail(field_name, str(exc)) from None
            if ip is None or netaddr.IPAddress(ip.address.split("/")[0]).version != family:
                raise item.fail(field_name, f"{text} is not an IPv{family} address on an "
                                            f"interface of {name}")
            if getattr(device, column) == ip.id:
                ctx.report.count("primary ip", "unchanged")
                continue
            outcome = "created" if getattr(device, column) is None else "updated"
            try:
                update_device(ctx.session, ctx.actor, device.id, **{column: ip.id})
                ctx.session.flush()
            except SimpulError as exc:
                raise item.wrap(exc) from None
            ctx.report.count("primary ip", outcome)
