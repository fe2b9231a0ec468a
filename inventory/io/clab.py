"""A containerlab topology (``*.clab.yml``) read as an inventory document.

The lab's file stays plain containerlab; what the source of truth needs beyond
containerlab's own fields travels in ``simpul.*`` node labels (see labs/README.md):
role, site, OPD, area, platform, ``simpul.addr.<ifname>``, ``simpul.loopback``,
``simpul.bridge.<name>``, ``simpul.vlan.<vid>``, ``simpul.service``. This module turns
such a file into the same document shape as ``inventory/README.md`` defines, so one
loader validates and writes both, and ``labs.topology.inventory_data`` writes
``inventory/lab/province.yml`` from the same function. Pure: no database, no ``labs``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from inventory.io.document import FORMAT, ImportFileError, LineDict

# The lab's roles that the inventory names differently (inventory.choices.DEVICE_ROLES).
ROLE_MAP = {"nac-access": "access", "internet": "router"}
LABEL = "simpul."


def is_clab(doc: Any) -> bool:
    """Return whether a loaded YAML document is a containerlab topology."""
    return isinstance(doc, dict) and isinstance(doc.get("topology"), dict) \
        and "nodes" in doc["topology"]


def slugify(text: str) -> str:
    """Return *text* as a slug (lower-case letters, digits and '-')."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def interface_sort_key(name: str) -> tuple[int, str, int]:
    """Return a key ordering eth0, lo, eth1..ethN (numerically), then the rest."""
    match = re.match(r"^(\D+)(\d+)$", name)
    if name == "eth0":
        return (0, name, 0)
    if name == "lo":
        return (1, name, 0)
    if match and match.group(1) == "eth":
        return (2, "eth", int(match.group(2)))
    return (3, match.group(1), int(match.group(2))) if match else (3, name, -1)


def _line(value: Any) -> int:
    return getattr(value, "line", 0)


def _with_line(data: dict[str, Any], line: int) -> LineDict:
    out = LineDict(data)
    out.line = line
    return out


def plain(value: Any) -> Any:
    """Return *value* with LineDicts turned into plain dicts (for yaml.safe_dump)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _fail(file: str, line: int, what: str, message: str) -> ImportFileError:
    return ImportFileError(f"{file}:{line}: {what}: {message}", errors={what: [message]})


def _node_interfaces(name: str, spec: dict[str, Any], labels: dict[str, str],
                     link_ifs: list[str], mgmt_len: int) -> list[dict[str, Any]]:
    addrs = {k[len(LABEL + "addr."):]: v for k, v in labels.items()
             if k.startswith(LABEL + "addr.")}
    bridges = {k[len(LABEL + "bridge."):]: v for k, v in labels.items()
               if k.startswith(LABEL + "bridge.")}
    vlans = {k[len(LABEL + "vlan."):]: v for k, v in labels.items()
             if k.startswith(LABEL + "vlan.")}
    access = {k[len(LABEL + "access-vlan."):]: v for k, v in labels.items()
              if k.startswith(LABEL + "access-vlan.")}
    found: dict[str, dict[str, Any]] = {}
    mgmt = spec.get("mgmt-ipv4")
    found["eth0"] = {"name": "eth0", "description": "management"}
    if mgmt:
        found["eth0"]["addresses"] = [f"{mgmt}/{mgmt_len}"]
    if labels.get(LABEL + "loopback"):
        found["lo"] = {"name": "lo", "type": "virtual",
                       "addresses": [labels[LABEL + "loopback"]]}
    for ifname in link_ifs:
        found[ifname] = {"name": ifname}
        if ifname in access:
            found[ifname]["description"] = f"access VLAN {access[ifname]}"
    for bridge, members in bridges.items():
        found[bridge] = {"name": bridge, "type": "virtual",
                         "description": f"bridge: {members.replace(' ', '')}"}
    for vid, addr in vlans.items():
        bridge = f"br-vlan{vid}"
        found[bridge] = {"name": bridge, "type": "virtual", "description": f"VLAN {vid}",
                         "addresses": [addr]}
    for ifname, addr in addrs.items():
        found.setdefault(ifname, {"name": ifname}).setdefault("addresses", []).append(addr)
    return [found[k] for k in sorted(found, key=interface_sort_key)]


def _prefix_of(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_interface(text).network
    except ValueError:
        return None  # the loader reports the bad address against its device


def clab_document(raw: dict[str, Any], file: str) -> dict[str, Any]:
    """Return the inventory document a containerlab topology describes.

    Raises:
        ImportFileError: the topology lacks what the inventory needs (names the node).
    """
    nodes = raw["topology"].get("nodes") or {}
    links = raw["topology"].get("links") or []
    if not isinstance(nodes, dict) or not isinstance(links, list):
        raise _fail(file, _line(raw["topology"]), "topology", "nodes must be a mapping and "
                    "links a list")
    mgmt = raw.get("mgmt") or {}
    subnet_text = str(mgmt.get("ipv4-subnet", "172.20.20.0/24"))
    try:
        subnet = ipaddress.IPv4Network(subnet_text)
    except ValueError:
        raise _fail(file, _line(mgmt), "mgmt", f"ipv4-subnet {subnet_text!r} is not a "
                    "prefix") from None
    ends: dict[str, list[str]] = {}
    cables = []
    for index, link in enumerate(links):
        eps = link.get("endpoints") if isinstance(link, dict) else None
        if not isinstance(eps, list) or len(eps) != 2 or not all(":" in str(e) for e in eps):
            raise _fail(file, _line(link), f"links[{index}]", "endpoints must be two "
                        "'node:interface' strings")
        for ep in eps:
            node, _sep, ifname = str(ep).partition(":")
            ends.setdefault(node, []).append(ifname)
        cables.append(_with_line({"a": str(eps[0]), "b": str(eps[1])}, _line(link)))

    opds: dict[str, dict[str, Any]] = {}
    sites: dict[str, dict[str, Any]] = {}
    types: dict[str, dict[str, Any]] = {}
    devices = []
    owners: dict[Any, list[tuple[str, str]]] = {}
    for name, spec in nodes.items():
        if not isinstance(spec, dict):
            raise _fail(file, _line(nodes), f"node {name}", "must be a mapping")
        labels = {str(k): str(v) for k, v in (spec.get("labels") or {}).items()}
        image = str(spec.get("image") or spec.get("kind") or "linux")
        platform = labels.get(LABEL + "platform") or ("frr" if "frr" in image else "linux")
        role = labels.get(LABEL + "role") or ("router" if platform == "frr" else "host")
        site = labels.get(LABEL + "site") or str(raw.get("name") or "lab")
        opd = labels.get(LABEL + "opd", "").upper() or None
        if opd:
            entry = opds.setdefault(opd, {"code": opd, "name": opd})
            if role == "core":
                entry["operator"] = True
        site_entry = sites.setdefault(site, {"slug": site, "opd": opd})
        if labels.get(LABEL + "area") and not site_entry.get("area"):
            site_entry["area"] = labels[LABEL + "area"]
        type_slug = slugify(image)
        maker = image.split("/")[0] if "/" in image else "containerlab"
        types.setdefault(type_slug, {"slug": type_slug, "manufacturer": maker, "model": image})
        interfaces = _node_interfaces(str(name), spec, labels, ends.get(str(name), []),
                                      subnet.prefixlen)
        device: dict[str, Any] = {"name": str(name), "site": site, "device_type": type_slug,
                                  "role": ROLE_MAP.get(role, role), "platform": platform}
        if opd:
            device["opd"] = opd
        if labels.get(LABEL + "service"):
            device["description"] = f"service: {labels[LABEL + 'service']}"
        if spec.get("mgmt-ipv4"):
            device["primary_ip4"] = str(spec["mgmt-ipv4"])
        device["interfaces"] = interfaces
        devices.append(_with_line(device, _line(spec)))
        for iface in interfaces:
            if iface["name"] == "eth0":
                continue
            for addr in iface.get("addresses", []):
                net = _prefix_of(addr)
                if net is not None:
                    owners.setdefault(net, []).append((site, role))
    prefixes = [{"prefix": str(subnet), "role": "management",
                 "description": f"{raw.get('name', 'lab')} management network"}]
    for net in sorted(owners, key=lambda n: (n.version, int(n.network_address), n.prefixlen)):
        members = owners[net]
        kind = "loopback" if net.prefixlen == net.max_prefixlen else (
            "p2p" if net.max_prefixlen - net.prefixlen <= 2 else "lan")
        if any(r == "internet" for _s, r in members):
            kind = "internet"
        entry: dict[str, Any] = {"prefix": str(net), "role": kind}
        member_sites = {s for s, _r in members}
        if len(member_sites) == 1 and kind != "loopback":
            entry["site"] = member_sites.pop()
        prefixes.append(entry)
    return {
        "format": FORMAT,
        "opds": [opds[k] for k in sorted(opds)],
        "sites": [sites[k] for k in sorted(sites)],
        "device_types": [types[k] for k in sorted(types)],
        "prefixes": prefixes,
        "devices": sorted(devices, key=lambda d: d["name"]),
        "cables": cables,
    }
