"""Exports of the inventory: simpul's own YAML and an Ansible YAML inventory.

``export_document`` writes exactly what ``import_file`` reads (fields at their default
are left out), so export → import into an empty database → export gives the same text.
``export_ansible`` is the inventory ansible-runner will use: groups by role, site, OPD
and platform, ``ansible_host`` = primary management address, the network OS per
platform, and never a credential (those come from the environment at run time).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.io.clab import interface_sort_key
from inventory.io.document import FORMAT
from inventory.models import (
    Cable,
    CableTermination,
    Device,
    DeviceType,
    Interface,
    IpAddress,
    Location,
    Manufacturer,
    PowerFeed,
    Prefix,
    Rack,
    Site,
    Vlan,
    VlanGroup,
    Vrf,
    WallOutlet,
)
from simpul.models import Opd

# Ansible connection settings per simpul platform. FRR: the frr.frr collection's cliconf
# over network_cli; lab routers log in straight into vtysh (prompt ``core1#``).
ANSIBLE_PLATFORMS: dict[str, dict[str, str]] = {
    "frr": {"ansible_network_os": "frr.frr.frr",
            "ansible_connection": "ansible.netcommon.network_cli"},
    "ios": {"ansible_network_os": "cisco.ios.ios",
            "ansible_connection": "ansible.netcommon.network_cli"},
    "iosxe": {"ansible_network_os": "cisco.ios.ios",
              "ansible_connection": "ansible.netcommon.network_cli"},
    "nxos": {"ansible_network_os": "cisco.nxos.nxos",
             "ansible_connection": "ansible.netcommon.network_cli"},
    "eos": {"ansible_network_os": "arista.eos.eos",
            "ansible_connection": "ansible.netcommon.network_cli"},
    "junos": {"ansible_network_os": "junipernetworks.junos.junos",
              "ansible_connection": "ansible.netcommon.network_cli"},
    "routeros": {"ansible_network_os": "community.routeros.routeros",
                 "ansible_connection": "ansible.netcommon.network_cli"},
    "vyos": {"ansible_network_os": "vyos.vyos.vyos",
             "ansible_connection": "ansible.netcommon.network_cli"},
    "linux": {"ansible_connection": "ssh"},
}


def _compact(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Drop fields that are None or equal to the importer's default."""
    return {k: v for k, v in values.items()
            if v is not None and not (k in defaults and defaults[k] == v)}


def _bare(address: str) -> str:
    return address.split("/")[0]


def _export_interfaces(session: Session, device: Device, vrf_names: dict[int, str],
                       opd_codes: dict[int, str]) -> list[dict[str, Any]]:
    ifaces = session.scalars(select(Interface).where(Interface.device_id == device.id)).all()
    by_id = {i.id: i for i in ifaces}
    out = []
    for iface in sorted(ifaces, key=lambda i: interface_sort_key(i.name)):
        entry = _compact({
            "name": iface.name, "type": iface.type, "enabled": iface.enabled,
            "mac_address": iface.mac_address, "mtu": iface.mtu, "speed_kbps": iface.speed_kbps,
            "lag": by_id[iface.lag_id].name if iface.lag_id in by_id else None,
            "description": iface.description,
        }, {"type": "1000base-t", "enabled": True, "description": ""})
        addresses = []
        for ip in session.scalars(select(IpAddress).where(IpAddress.interface_id == iface.id)
                                  .order_by(IpAddress.family, IpAddress.ip_hex)):
            addr = _address(ip, vrf_names, opd_codes)
            addresses.append(addr["address"] if list(addr) == ["address"] else addr)
        if addresses:
            entry["addresses"] = addresses
        out.append(entry)
    return out


def _address(ip: IpAddress, vrf_names: dict[int, str], opd_codes: dict[int, str]
             ) -> dict[str, Any]:
    return _compact({"address": ip.address, "vrf": vrf_names.get(ip.vrf_id or 0),
                     "status": ip.status, "role": ip.role, "dns_name": ip.dns_name,
                     "opd": opd_codes.get(ip.opd_id or 0), "description": ip.description},
                    {"status": "active", "role": "", "dns_name": "", "description": ""})


def _device_refs(devices: list[Device], site_slugs: dict[int, str]) -> dict[int, str]:
    """Return how cables name each device: its name, or site/name when names repeat."""
    counts = Counter(d.name for d in devices)
    return {d.id: d.name if counts[d.name] == 1 else f"{site_slugs[d.site_id]}/{d.name}"
            for d in devices}


def export_document(session: Session) -> dict[str, Any]:
    """Return the whole inventory as a document in simpul's own format."""
    opds = session.scalars(select(Opd).order_by(Opd.code)).all()
    opd_codes = {o.id: o.code for o in opds}
    sites = session.scalars(select(Site).order_by(Site.slug)).all()
    site_slugs = {s.id: s.slug for s in sites}
    vrfs = session.scalars(select(Vrf).order_by(Vrf.name)).all()
    vrf_names = {v.id: v.name for v in vrfs}
    groups = session.scalars(select(VlanGroup).order_by(VlanGroup.slug)).all()
    group_slugs = {g.id: g.slug for g in groups}
    makers = {m.id: m.name for m in session.scalars(select(Manufacturer))}
    racks = {r.id: r for r in session.scalars(select(Rack))}
    types = session.scalars(select(DeviceType).order_by(DeviceType.slug)).all()
    type_slugs = {t.id: t.slug for t in types}
    vlans = {v.id: v for v in session.scalars(select(Vlan))}
    devices = session.scalars(select(Device).order_by(Device.name, Device.site_id)).all()
    refs = _device_refs(list(devices), site_slugs)
    ips = {ip.id: ip for ip in session.scalars(select(IpAddress).where(
        IpAddress.id.in_([i for d in devices for i in (d.primary_ip4_id, d.primary_ip6_id)
                          if i is not None])))}

    doc: dict[str, Any] = {"format": FORMAT}
    doc["opds"] = [_compact({"code": o.code, "name": o.name, "operator": o.is_operator,
                             "description": o.description},
                            {"operator": False, "description": ""}) for o in opds]
    doc["sites"] = [_compact({
        "slug": s.slug, "name": s.name, "status": s.status, "opd": opd_codes.get(s.opd_id or 0),
        "area": s.area, "physical_address": s.physical_address, "description": s.description,
    }, {"name": s.slug, "status": "active", "area": "", "physical_address": "",
        "description": ""}) for s in sites]
    doc["racks"] = [_compact({
        "site": site_slugs[r.site_id], "name": r.name, "status": r.status,
        "u_height": r.u_height, "desc_units": r.desc_units, "power_budget_w": r.power_budget_w,
        "opd": opd_codes.get(r.opd_id or 0), "description": r.description,
    }, {"status": "active", "u_height": 42, "desc_units": False, "description": ""})
        for r in sorted(racks.values(), key=lambda r: (site_slugs[r.site_id], r.name))]
    locations = session.scalars(select(Location).order_by(Location.site_id, Location.id)).all()
    location_slugs = {loc.id: loc.slug for loc in locations}
    doc["locations"] = [_compact({
        "site": site_slugs[loc.site_id], "slug": loc.slug, "name": loc.name, "kind": loc.kind,
        "parent": location_slugs.get(loc.parent_id or 0), "description": loc.description,
    }, {"name": loc.slug, "kind": "room", "description": ""}) for loc in _parents_first(
        list(locations))]
    doc["power_feeds"] = [_compact({
        "site": site_slugs[racks[f.rack_id].site_id], "rack": racks[f.rack_id].name,
        "name": f.name, "status": f.status, "voltage": f.voltage, "amperage": f.amperage,
        "max_utilization": f.max_utilization,
    }, {"status": "active", "voltage": 230, "amperage": 16, "max_utilization": 80})
        for f in session.scalars(select(PowerFeed).order_by(PowerFeed.rack_id, PowerFeed.name))]
    doc["device_types"] = [_compact({
        "slug": t.slug, "manufacturer": makers[t.manufacturer_id], "model": t.model,
        "u_height": t.u_height, "power_draw_w": t.power_draw_w, "full_depth": t.is_full_depth,
    }, {"model": t.slug, "u_height": 1, "power_draw_w": 0, "full_depth": True}) for t in types]
    doc["vrfs"] = [_compact({"name": v.name, "rd": v.rd, "enforce_unique": v.enforce_unique,
                             "opd": opd_codes.get(v.opd_id or 0), "description": v.description},
                            {"enforce_unique": True, "description": ""}) for v in vrfs]
    doc["vlan_groups"] = [_compact({
        "slug": g.slug, "name": g.name, "site": site_slugs.get(g.site_id or 0),
        "min_vid": g.min_vid, "max_vid": g.max_vid, "description": g.description,
    }, {"name": g.slug, "min_vid": 1, "max_vid": 4094, "description": ""}) for g in groups]
    doc["vlans"] = [_compact({
        "group": group_slugs.get(v.group_id or 0), "vid": v.vid, "name": v.name,
        "status": v.status, "role": v.role, "opd": opd_codes.get(v.opd_id or 0),
        "description": v.description,
    }, {"name": f"VLAN{v.vid}", "status": "active", "role": "", "description": ""})
        for v in sorted(vlans.values(), key=lambda v: (group_slugs.get(v.group_id or 0, ""),
                                                       v.vid))]
    doc["prefixes"] = [_compact({
        "prefix": p.prefix, "vrf": vrf_names.get(p.vrf_id or 0), "status": p.status,
        "role": p.role, "is_pool": p.is_pool, "site": site_slugs.get(p.site_id or 0),
        "opd": opd_codes.get(p.opd_id or 0),
        "vlan": vlans[p.vlan_id].vid if p.vlan_id in vlans else None,
        "vlan_group": group_slugs.get(vlans[p.vlan_id].group_id or 0)
        if p.vlan_id in vlans else None,
        "description": p.description,
    }, {"status": "active", "role": "", "is_pool": False, "description": ""})
        for p in session.scalars(select(Prefix).order_by(
            Prefix.vrf_key, Prefix.family, Prefix.network_hex, Prefix.prefix_length))]
    doc["devices"] = [_compact({
        "name": d.name, "site": site_slugs[d.site_id], "device_type": type_slugs[d.device_type_id],
        "role": d.role, "platform": d.platform, "status": d.status, "serial": d.serial,
        "rack": racks[d.rack_id].name if d.rack_id in racks else None, "position": d.position,
        "face": d.face if d.position is not None else None,
        "opd": opd_codes.get(d.opd_id or 0), "description": d.description,
        "primary_ip4": _bare(ips[d.primary_ip4_id].address) if d.primary_ip4_id in ips else None,
        "primary_ip6": _bare(ips[d.primary_ip6_id].address) if d.primary_ip6_id in ips else None,
        "interfaces": _export_interfaces(session, d, vrf_names, opd_codes) or None,
    }, {"platform": "", "status": "active", "serial": "", "face": "front", "description": ""})
        for d in devices]
    doc["wall_outlets"] = _export_outlets(session, site_slugs, location_slugs, refs, opd_codes)
    doc["ip_addresses"] = [_address(ip, vrf_names, opd_codes) for ip in session.scalars(
        select(IpAddress).where(IpAddress.interface_id.is_(None)).order_by(
            IpAddress.vrf_key, IpAddress.family, IpAddress.ip_hex))]
    doc["cables"] = _export_cables(session, refs)
    return {k: v for k, v in doc.items() if v != []}


def _export_cables(session: Session, refs: dict[int, str]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CableTermination.cable_id, CableTermination.cable_end, Interface.name,
               Interface.device_id).join(Interface, Interface.id == CableTermination.interface_id)
    ).all()
    ends: dict[int, dict[str, str]] = {}
    for cable_id, end, ifname, device_id in rows:
        ends.setdefault(cable_id, {})[end] = f"{refs[device_id]}:{ifname}"
    cables = {c.id: c for c in session.scalars(select(Cable))}
    out = [_compact({"a": e["A"], "b": e["B"], "status": cables[cid].status,
                     "label": cables[cid].label, "description": cables[cid].description},
                    {"status": "connected", "label": "", "description": ""})
           for cid, e in ends.items() if "A" in e and "B" in e]
    return sorted(out, key=lambda c: (c["a"], c["b"]))


def _parents_first(locations: list[Location]) -> list[Location]:
    """Order locations so that every parent comes before its children (import order)."""
    done: set[int] = set()
    ordered: list[Location] = []
    pending = list(locations)
    while pending:
        rest = [loc for loc in pending if loc.parent_id is not None and loc.parent_id not in done]
        for loc in pending:
            if loc not in rest:
                ordered.append(loc)
                done.add(loc.id)
        if len(rest) == len(pending):  # a cycle cannot be stored; keep what is left as is
            ordered += rest
            break
        pending = rest
    return ordered


def _export_outlets(session: Session, site_slugs: dict[int, str], location_slugs: dict[int, str],
                    refs: dict[int, str], opd_codes: dict[int, str]) -> list[dict[str, Any]]:
    ifaces = {i.id: i for i in session.scalars(select(Interface).where(Interface.id.in_(
        select(WallOutlet.interface_id).where(WallOutlet.interface_id.is_not(None)))))}
    out = []
    for o in session.scalars(select(WallOutlet).order_by(WallOutlet.site_id, WallOutlet.label)):
        iface = ifaces.get(o.interface_id or 0)
        out.append(_compact({
            "site": site_slugs[o.site_id], "label": o.label,
            "location": location_slugs.get(o.location_id or 0), "kind": o.kind,
            "status": o.status, "interface": f"{refs[iface.device_id]}:{iface.name}"
            if iface is not None else None,
            "opd": opd_codes.get(o.opd_id or 0), "description": o.description,
        }, {"kind": "wall-outlet", "description": ""}))
    return out


def export_yaml(session: Session) -> str:
    """Return :func:`export_document` as YAML text."""
    return yaml.safe_dump(export_document(session), sort_keys=False, width=100)


def group_name(kind: str, value: str) -> str:
    """Return an Ansible-safe group name (``site:dc-x`` → ``site_dc_x``)."""
    return re.sub(r"[^a-z0-9_]", "_", f"{kind}_{value}".lower())


def export_ansible(session: Session) -> dict[str, Any]:
    """Return an Ansible YAML inventory: every device under ``all.hosts``, grouped.

    Groups ``role_<role>``, ``site_<slug>``, ``opd_<code>`` and ``platform_<platform>``;
    platform groups carry ``ansible_network_os``/``ansible_connection``. No secrets:
    credentials come from the environment when a playbook runs.
    """
    sites = {s.id: s.slug for s in session.scalars(select(Site))}
    opds = {o.id: o.code for o in session.scalars(select(Opd))}
    devices = session.scalars(select(Device).order_by(Device.name, Device.site_id)).all()
    refs = _device_refs(list(devices), sites)
    primary = {ip.id: _bare(ip.address) for ip in session.scalars(select(IpAddress).where(
        IpAddress.id.in_([d.primary_ip4_id or d.primary_ip6_id for d in devices
                          if d.primary_ip4_id or d.primary_ip6_id])))}
    hosts: dict[str, Any] = {}
    children: dict[str, dict[str, Any]] = {}
    for d in devices:
        name = refs[d.id].replace("/", "-")
        hostvars: dict[str, Any] = {}
        ip_id = d.primary_ip4_id or d.primary_ip6_id
        if ip_id in primary:
            hostvars["ansible_host"] = primary[ip_id]
        hostvars.update({"simpul_device_id": d.id, "simpul_role": d.role,
                         "simpul_site": sites[d.site_id], "simpul_platform": d.platform,
                         "simpul_status": d.status})
        if d.opd_id:
            hostvars["simpul_opd"] = opds[d.opd_id]
        hosts[name] = hostvars
        memberships = [("role", d.role), ("site", sites[d.site_id])]
        if d.opd_id:
            memberships.append(("opd", opds[d.opd_id]))
        if d.platform:
            memberships.append(("platform", d.platform))
        for kind, value in memberships:
            group = children.setdefault(group_name(kind, value), {"hosts": {}})
            group["hosts"][name] = None
            if kind == "platform" and value in ANSIBLE_PLATFORMS:
                group["vars"] = dict(ANSIBLE_PLATFORMS[value])
    return {"all": {"hosts": hosts, "children": dict(sorted(children.items()))}}


def ansible_yaml(session: Session) -> str:
    """Return :func:`export_ansible` as YAML text."""
    return yaml.safe_dump(export_ansible(session), sort_keys=False, width=100)
