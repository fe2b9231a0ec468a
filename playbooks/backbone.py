"""Playbook ``backbone``: addressing, OSPF and the internet edge's BGP, from the inventory.

What it builds (the lab's province backbone is the reference):

- interfaces: description and addresses of every addressed, non-management interface;
- OSPF: area 0 on every link that touches the backbone (cores, the edge, the DC switch);
  one area per distribution zone (the site's ``area`` label: A=1, B=2, ...; a number is
  taken as is) on the links behind a distribution router, which is the ABR; loopbacks
  and LANs (addressed interfaces not cabled to another router) are passive; point-to-point
  links with 1 s / 3 s timers and MD5 authentication (key ``SIMPUL_OSPF_KEY``; lab
  default ``simpul-ospf``); SPF throttling and 8-way ECMP so both cores carry traffic;
- BGP: the edge peers with the ISP router it is cabled to (eBGP, default route in only,
  nothing out), and originates the default into OSPF; the lab's simulated ISP gets the
  matching side (sends only a default). ASNs: ``SIMPUL_BACKBONE_ASN`` (65001) and
  ``SIMPUL_BACKBONE_ISP_ASN`` (64500, a documentation ASN).

Verification: every OSPF interface has a Full neighbour, BGP sessions are Established
with the default received at the edge, every router has a route to every backbone
loopback, and distribution routers reach the DC and the default over two equal-cost
paths (one per core).
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from playbooks.base import PlaybookError, RenderContext, wait_until
from simpul.logging import register_secret

if TYPE_CHECKING:
    from napalm.base import NetworkDriver
    from nornir.core.inventory import Host
    from sqlalchemy.orm import Session

NAME = "backbone"
DESCRIPTION = "Interfaces, OSPF areas per distribution zone and the edge's BGP"
REPLACE = False

OSPF_ROLES = ("core", "distribution", "access", "edge")
BACKBONE_ROLES = ("core", "edge")          # always area 0
ISP_ROLES = ("router", "internet", "isp")  # an ISP router cabled to an edge: BGP only
PLATFORMS = ("frr", "ios", "iosxe", "eos", "junos", "routeros")
LAYER_OF_PLATFORM = {"frr": "frr", "ios": "ios", "iosxe": "ios", "eos": "eos",
                     "junos": "junos", "routeros": "ros"}
OFFLINE = ("ios", "eos", "junos", "ros")
OSPF_KEY_ENV = "SIMPUL_OSPF_KEY"
LAB_OSPF_KEY = "simpul-ospf"
HELLO, DEAD = 1, 3
DEFAULT_ASN, DEFAULT_ISP_ASN = 65001, 64500

_topology_lock = threading.Lock()


# --- the inventory as the playbook needs it --------------------------------------------


@dataclass
class Port:
    """An interface: its addresses and what its cable leads to."""

    name: str
    addresses: list[str]
    description: str = ""
    management: bool = False
    peer: str | None = None        # device name at the other end
    peer_port: str | None = None


@dataclass
class Node:
    """A device with its ports."""

    name: str
    role: str
    platform: str
    zone: str                      # site area label ("" in the DC)
    ports: dict[str, Port] = field(default_factory=dict)

    @property
    def loopback(self) -> str | None:
        """Return the router-id address (lo's /32), or None."""
        for port in self.ports.values():
            if port.name in ("lo", "Loopback0", "lo0") and port.addresses:
                return port.addresses[0].split("/")[0]
        return None


def load_topology(session: Session) -> dict[str, Node]:
    """Return every device with its ports, addresses and cable peers (one query each)."""
    from inventory.models import (
        CableTermination,
        Device,
        Interface,
        IpAddress,
        Site,
    )

    sites = {s.id: s for s in session.scalars(sa.select(Site))}
    devices = {d.id: d for d in session.scalars(sa.select(Device))}
    interfaces = {i.id: i for i in session.scalars(sa.select(Interface))}
    primary = {d.primary_ip4_id for d in devices.values() if d.primary_ip4_id}
    addresses: dict[int, list[str]] = {}
    management: set[int] = set()
    for ip in session.scalars(sa.select(IpAddress).where(IpAddress.interface_id.is_not(None))
                              .order_by(IpAddress.id)):
        if ip.id in primary:
            management.add(ip.interface_id or 0)
        else:
            addresses.setdefault(ip.interface_id or 0, []).append(ip.address)
    ends: dict[int, list[tuple[str, int]]] = {}
    for term in session.scalars(sa.select(CableTermination)):
        ends.setdefault(term.cable_id, []).append((term.cable_end, term.interface_id))
    peers: dict[int, int] = {}
    for pair in ends.values():
        if len(pair) == 2:
            (_, a), (_, b) = pair
            peers[a], peers[b] = b, a
    nodes: dict[str, Node] = {}
    for device in devices.values():
        nodes[device.name] = Node(device.name, device.role, device.platform or "",
                                  sites[device.site_id].area or "")
    for iface in interfaces.values():
        device = devices[iface.device_id]
        peer_iface = interfaces.get(peers.get(iface.id, 0))
        port = Port(iface.name, addresses.get(iface.id, []), iface.description,
                    management=iface.id in management)
        if peer_iface is not None:
            port.peer = devices[peer_iface.device_id].name
            port.peer_port = peer_iface.name
        nodes[device.name].ports[iface.name] = port
    for node in nodes.values():
        node.ports = dict(sorted(node.ports.items(), key=lambda kv: _port_key(kv[0])))
    return nodes


def _port_key(name: str) -> tuple[str, int, str]:
    stem = name.rstrip("0123456789")
    digits = name[len(stem):]
    return (stem, int(digits) if digits else -1, name)


def topology(ctx: RenderContext) -> dict[str, Node]:
    """Return the run's topology, loaded once per run (ctx.cache) for every host."""
    with _topology_lock:
        if "backbone.topology" not in ctx.cache:
            with ctx.db.session(write=False) as session:
                ctx.cache["backbone.topology"] = load_topology(session)
        return ctx.cache["backbone.topology"]  # type: ignore[no-any-return]


def host_node(host: Host, ctx: RenderContext) -> tuple[Node | None, dict[str, Node]]:
    """Return the run's node for *host* (None when the topology lacks it) and the topology."""
    nodes = topology(ctx)
    return nodes.get(str(host.data.get("device_name") or host.name)), nodes


# --- the plan: what one router should hold ----------------------------------------------


def area_number(zone: str) -> int:
    """Return the OSPF area of a distribution zone label (A=1 ... Z=26, or a number)."""
    zone = zone.strip()
    if not zone:
        return 0
    if zone.isdigit():
        return int(zone)
    if len(zone) == 1 and zone.isalpha():
        return ord(zone.upper()) - ord("A") + 1
    raise PlaybookError(f"site area {zone!r} is neither a letter nor a number")


def node_area(node: Node) -> int:
    """Return the area a router's own networks belong to (0 in the DC and the backbone)."""
    return 0 if node.role in BACKBONE_ROLES else area_number(node.zone)


def is_ospf_router(node: Node | None) -> bool:
    """True for routers that run the backbone's OSPF."""
    return bool(node and node.role in OSPF_ROLES and node.platform in PLATFORMS)


def is_isp(node: Node | None) -> bool:
    """True for an ISP-side router (BGP only)."""
    return bool(node and node.role in ISP_ROLES and node.platform in PLATFORMS)


def ospf_key() -> str:
    """Return the OSPF MD5 key (registered with the log redactor)."""
    key = os.environ.get(OSPF_KEY_ENV) or LAB_OSPF_KEY
    if len(key) > 16:
        raise PlaybookError(f"{OSPF_KEY_ENV} must be at most 16 characters (OSPF MD5)")
    register_secret(key)
    return key


def _peer_address(port: Port, nodes: dict[str, Node]) -> str | None:
    peer = nodes.get(port.peer or "")
    if peer is None or not port.addresses:
        return None
    mine = ipaddress.ip_interface(port.addresses[0])
    for address in peer.ports.get(port.peer_port or "", Port("", [])).addresses:
        theirs = ipaddress.ip_interface(address)
        if theirs.network == mine.network:
            return str(theirs.ip)
    return None


def _address(cidr: str) -> dict[str, Any]:
    iface = ipaddress.ip_interface(cidr)
    return {"cidr": cidr, "ip": str(iface.ip), "mask": str(iface.netmask),
            "prefixlen": iface.network.prefixlen}


def dotted_area(area: int) -> str:
    """Return an area number in dotted form (1 -> 0.0.0.1), as Junos and RouterOS write it."""
    return str(ipaddress.IPv4Address(area))


def plan(node: Node, nodes: dict[str, Node], *, key: str | None = None) -> dict[str, Any]:
    """Return the template variables for *node* ({} when the backbone has nothing for it).

    Pure: everything comes from *nodes*, so golden tests need no database.
    """
    ospf = is_ospf_router(node)
    if not ospf and not is_isp(node):
        return {}
    own_area = node_area(node)
    interfaces = []
    neighbors = []
    for port in node.ports.values():
        if port.management or not port.addresses:
            continue
        peer = nodes.get(port.peer or "")
        entry: dict[str, Any] = {
            "name": port.name, "addresses": port.addresses,
            "ipv4": [_address(a) for a in port.addresses if ":" not in a],
            "loopback": port.name in ("lo", "lo0", "Loopback0"),
            "description": port.description or (
                f"to {port.peer}:{port.peer_port}" if port.peer else ""),
            "ospf": None}
        if ospf and entry["loopback"]:
            # A distribution router is the ABR: its loopback sits in area 0.
            area = 0 if node.role == "distribution" and own_area else own_area
            entry["ospf"] = {"area": area, "passive": True, "p2p": False}
        elif ospf and peer is not None and is_ospf_router(peer):
            area = 0 if 0 in (own_area, node_area(peer)) else own_area
            entry["ospf"] = {"area": area, "passive": False, "p2p": True}
        elif ospf and not is_isp(peer):
            # LANs, server segments, host-facing ports: advertised, no hellos.
            entry["ospf"] = {"area": own_area, "passive": True, "p2p": False}
        if (node.role == "edge" and is_isp(peer)) or (is_isp(node) and peer is not None
                                                      and peer.role == "edge"):
            address = _peer_address(port, nodes)
            if address:
                neighbors.append({"address": address, "peer": peer.name if peer else "",
                                  "port": port.name})
        interfaces.append(entry)
    if is_isp(node) and not neighbors:
        return {}
    for entry in interfaces:
        if entry["ospf"]:
            entry["ospf"]["dotted"] = dotted_area(entry["ospf"]["area"])
    asn = int(os.environ.get("SIMPUL_BACKBONE_ASN") or DEFAULT_ASN)
    isp_asn = int(os.environ.get("SIMPUL_BACKBONE_ISP_ASN") or DEFAULT_ISP_ASN)
    bgp = None
    if neighbors:
        edge = node.role == "edge"
        bgp = {"asn": asn if edge else isp_asn, "remote_as": isp_asn if edge else asn,
               "router_id": node.loopback or "", "side": "customer" if edge else "isp",
               "neighbors": neighbors}
    return {
        "hostname": node.name,
        "interfaces": interfaces,
        "ospf": {"router_id": node.loopback or "", "hello": HELLO, "dead": DEAD,
                 "key": key if key is not None else ospf_key(),
                 "default_originate": node.role == "edge" and bgp is not None,
                 "areas": [{"number": a, "dotted": dotted_area(a)} for a in
                           sorted({i["ospf"]["area"] for i in interfaces if i["ospf"]})]}
        if ospf else None,
        "bgp": bgp,
    }


# --- the playbook contract --------------------------------------------------------------


def select(host: Host) -> bool:
    """Routers of the backbone (and ISP routers, which render() may skip)."""
    return (host.data.get("role") in OSPF_ROLES + ISP_ROLES
            and host.data.get("platform") in PLATFORMS)


def render_for(node: Node, nodes: dict[str, Node], ctx: RenderContext | None,
               layer: str, *, key: str | None = None) -> str:
    """Return *node*'s backbone config for *layer* ('' when nothing applies)."""
    variables = plan(node, nodes, key=key)
    if not variables:
        return ""
    from playbooks.base import render_template

    return render_template(layer, "backbone", **variables)


def render(host: Host, ctx: RenderContext) -> dict[str, str]:
    """Return the candidate for the host's platform layer."""
    node, nodes = host_node(host, ctx)
    layer = LAYER_OF_PLATFORM.get(str(host.data.get("platform")))
    if node is None or layer is None:
        return {}
    text = render_for(node, nodes, ctx, layer)
    return {layer: text} if text else {}


def _ospf_problems(device: NetworkDriver, expected: dict[str, int]) -> list[str]:
    data = json.loads(_json_text(device, "show ip ospf neighbor json") or "{}")
    full: dict[str, int] = {}
    for entries in data.get("neighbors", {}).values():
        for entry in entries:
            state = str(entry.get("nbrState") or entry.get("state") or "")
            iface = str(entry.get("ifaceName") or entry.get("interfaceName") or "")
            iface = iface.split(":")[0]
            if state.startswith("Full"):
                full[iface] = full.get(iface, 0) + 1
    return [f"OSPF: no Full neighbour on {name}" for name in expected if not full.get(name)]


def _json_text(device: NetworkDriver, command: str) -> str:
    text = device.cli([command])[command]
    start = text.find("{")
    return text[start:] if start >= 0 else ""


def _route(device: NetworkDriver, prefix: str) -> list[dict[str, Any]]:
    data = json.loads(_json_text(device, f"show ip route {prefix} json") or "{}")
    return list(data.get(prefix, []))


def _nexthops(routes: list[dict[str, Any]]) -> int:
    return max((sum(1 for hop in r.get("nexthops", []) if hop.get("active"))
                for r in routes if r.get("selected")), default=0)


def verify(host: Host, ctx: RenderContext, devices: dict[str, NetworkDriver]) -> list[str]:
    """Check adjacencies, BGP, loopback routes and two-core ECMP (polling until timeout)."""
    device = devices.get("frr")
    node, nodes = host_node(host, ctx)
    if device is None or node is None:
        return []
    variables = plan(node, nodes, key="")
    if not variables:
        return []
    active = {i["name"]: 1 for i in variables["interfaces"]
              if i["ospf"] and not i["ospf"]["passive"]}
    loopbacks = sorted(f"{n.loopback}/32" for n in nodes.values()
                       if is_ospf_router(n) and n.loopback and n.name != node.name)
    dc_prefixes = sorted({str(ipaddress.ip_interface(a).network)
                          for n in nodes.values()
                          if is_ospf_router(n) and n.role == "distribution" and not n.zone
                          for p in n.ports.values() if not p.management and not p.peer
                          and p.name not in ("lo",) for a in p.addresses})

    def check() -> list[str]:
        problems: list[str] = []
        if variables["ospf"]:
            problems += _ospf_problems(device, active)
            problems += [f"no route to loopback {p}" for p in loopbacks
                         if not _route(device, p)]
        if variables["bgp"]:
            peers = device.get_bgp_neighbors().get("global", {}).get("peers", {})
            for neighbor in variables["bgp"]["neighbors"]:
                peer = peers.get(neighbor["address"])
                if not peer or not peer["is_up"]:
                    problems.append(f"BGP: {neighbor['address']} is not Established")
            if variables["bgp"]["side"] == "customer" and not _route(device, "0.0.0.0/0"):
                problems.append("BGP: no default route from the ISP")
        if node.role == "distribution" and node.zone:
            for prefix in ["0.0.0.0/0", *dc_prefixes]:
                hops = _nexthops(_route(device, prefix))
                if hops < 2:
                    problems.append(f"ECMP: {prefix} has {hops} path(s), expected 2 (both cores)")
        return problems

    return wait_until(check, ctx.verify_timeout)
