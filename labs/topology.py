"""Load and validate a containerlab topology (``*.clab.yml``) into typed values.

The file stays valid containerlab YAML. What simpul needs beyond containerlab's own
fields travels in node labels:

- ``simpul.role``, ``simpul.site``, ``simpul.opd``, ``simpul.area``, ``simpul.platform``
- ``simpul.loopback``: the router's loopback address (``10.0.0.1/32``)
- ``simpul.addr.<ifname>``: an interface address (``10.255.0.0/31``)
- ``simpul.gateway``: a host's default gateway
- ``simpul.bridge.<name>``: a Linux bridge inside the node and its member ports
- ``simpul.vlan.<id>``: a VLAN gateway (NAC access); the VLAN is a bridge ``br-vlan<id>``
- ``simpul.access-vlan.<ifname>``: the port's access VLAN (the bridge it is in)
- ``simpul.service``: what a server runs (nginx, smtp, proxy, radius)
- ``simpul.nat``: the edge's outside interface for NAT; ``simpul.netflow``: the
  interfaces (comma-separated) a NetFlow exporter watches, one softflowd each
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import yaml

from labs.errors import LabError, TopologyError

ROLES = (
    "core", "distribution", "access", "edge", "internet", "vpn",
    "server", "host", "nac-access", "radius",
)
ROUTER_PLATFORM = "frr"
IFNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
NODE_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
LABEL = "simpul."


@dataclass(frozen=True)
class Endpoint:
    """One end of a link: a node's interface."""

    node: str
    interface: str

    def __str__(self) -> str:
        return f"{self.node}:{self.interface}"


@dataclass(frozen=True)
class Link:
    """A point-to-point link between two node interfaces."""

    a: Endpoint
    b: Endpoint


@dataclass
class Node:
    """A lab node with its simpul role and address plan."""

    name: str
    kind: str
    image: str
    role: str
    mgmt_ipv4: IPv4Address
    site: str
    opd: str
    platform: str
    area: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, IPv4Interface] = field(default_factory=dict)
    loopback: IPv4Interface | None = None
    gateway: IPv4Address | None = None
    bridges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    vlans: dict[int, IPv4Interface] = field(default_factory=dict)
    access_vlans: dict[str, int] = field(default_factory=dict)
    service: str | None = None
    nat_interface: str | None = None
    netflow_interfaces: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()
    exec: tuple[str, ...] = ()

    @property
    def is_router(self) -> bool:
        """True for nodes running FRR."""
        return self.platform == ROUTER_PLATFORM


@dataclass
class Topology:
    """A parsed, validated topology."""

    name: str
    path: Path
    mgmt_network: str
    mgmt_subnet: IPv4Network
    mgmt_gateway: IPv4Address
    nodes: dict[str, Node]
    links: list[Link]

    def node(self, name: str) -> Node:
        """Return the node called *name*.

        Raises:
            LabError: no such node.
        """
        try:
            return self.nodes[name]
        except KeyError:
            known = ", ".join(sorted(self.nodes))
            raise LabError(f"unknown node {name!r} (nodes: {known})") from None

    def interfaces(self, node: str) -> list[str]:
        """Return the link interfaces of *node*, in eth order."""
        names = [e.interface for link in self.links for e in (link.a, link.b) if e.node == node]
        return sorted(names, key=_ifsort)

    def peer(self, endpoint: Endpoint) -> Endpoint | None:
        """Return the far end of the link at *endpoint*."""
        for link in self.links:
            if link.a == endpoint:
                return link.b
            if link.b == endpoint:
                return link.a
        return None


def vlan_bridge(vid: int) -> str:
    """Return the name of the bridge standing for VLAN *vid* on a NAC access node."""
    return f"br-vlan{vid}"


def _ifsort(name: str) -> tuple[str, int]:
    match = re.match(r"^(\D+)(\d+)$", name)
    return (match.group(1), int(match.group(2))) if match else (name, -1)


def load_topology(path: str | Path) -> Topology:
    """Read and validate the topology at *path*.

    Raises:
        TopologyError: the file is missing, not YAML, or inconsistent.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise TopologyError(f"{path}: cannot read topology ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise TopologyError(f"{path}: not valid YAML ({_first_line(exc)})") from exc
    return parse_topology(raw, path)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def parse_topology(raw: Any, path: Path) -> Topology:
    """Validate a loaded YAML document *raw* read from *path*."""

    def fail(msg: str) -> TopologyError:
        return TopologyError(f"{path.name}: {msg}")

    if not isinstance(raw, dict):
        raise fail("top level must be a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not NODE_RE.match(name):
        raise fail("'name' must be a short lower-case name")
    mgmt = raw.get("mgmt") or {}
    if not isinstance(mgmt, dict):
        raise fail("'mgmt' must be a mapping")
    try:
        subnet = IPv4Network(str(mgmt.get("ipv4-subnet", "172.20.20.0/24")))
        gateway = IPv4Address(str(mgmt.get("ipv4-gw", subnet.network_address + 1)))
    except ValueError as exc:
        raise fail(f"mgmt: {exc}") from exc
    topo = raw.get("topology")
    if not isinstance(topo, dict) or not isinstance(topo.get("nodes"), dict):
        raise fail("'topology.nodes' must be a mapping of node name to node")
    if not topo["nodes"]:
        raise fail("'topology.nodes' is empty")

    nodes: dict[str, Node] = {}
    seen_mgmt: dict[IPv4Address, str] = {gateway: "the management gateway"}
    for node_name, spec in topo["nodes"].items():
        node = _parse_node(str(node_name), spec, subnet, fail)
        if node.mgmt_ipv4 in seen_mgmt:
            raise fail(f"node {node.name}: mgmt-ipv4 {node.mgmt_ipv4} already used by "
                       f"{seen_mgmt[node.mgmt_ipv4]}")
        seen_mgmt[node.mgmt_ipv4] = node.name
        nodes[node.name] = node

    links = _parse_links(topo.get("links") or [], nodes, fail)
    topology = Topology(
        name=name, path=path.resolve(), mgmt_network=str(mgmt.get("network", "clab")),
        mgmt_subnet=subnet, mgmt_gateway=gateway, nodes=nodes, links=links,
    )
    _check_addresses(topology, fail)
    return topology


def _parse_node(name: str, spec: Any, subnet: IPv4Network, fail: Any) -> Node:
    if not NODE_RE.match(name):
        raise fail(f"node name {name!r} must match {NODE_RE.pattern}")
    if not isinstance(spec, dict):
        raise fail(f"node {name}: must be a mapping")
    kind = spec.get("kind")
    if kind != "linux":
        raise fail(f"node {name}: kind {kind!r} is not supported (use 'linux'; model LANs "
                   "with simpul.bridge.<name> labels)")
    labels = spec.get("labels") or {}
    if not isinstance(labels, dict):
        raise fail(f"node {name}: labels must be a mapping")
    labels = {str(k): str(v) for k, v in labels.items()}
    role = labels.get(LABEL + "role")
    if role not in ROLES:
        raise fail(f"node {name}: label simpul.role must be one of {', '.join(ROLES)}")
    for key in ("site", "opd"):
        if not labels.get(LABEL + key):
            raise fail(f"node {name}: label simpul.{key} is required")
    try:
        mgmt_ipv4 = IPv4Address(str(spec.get("mgmt-ipv4")))
    except ValueError:
        raise fail(f"node {name}: mgmt-ipv4 must be an IPv4 address") from None
    if mgmt_ipv4 not in subnet or mgmt_ipv4 in (subnet.network_address, subnet.broadcast_address):
        raise fail(f"node {name}: mgmt-ipv4 {mgmt_ipv4} is not a host of {subnet}")

    node = Node(
        name=name, kind=kind, image=str(spec.get("image", "")), role=role,
        mgmt_ipv4=mgmt_ipv4, site=labels[LABEL + "site"], opd=labels[LABEL + "opd"],
        platform=labels.get(LABEL + "platform", "linux"), area=labels.get(LABEL + "area"),
        labels=labels, service=labels.get(LABEL + "service"),
        nat_interface=labels.get(LABEL + "nat"), netflow_interfaces=tuple(
            i.strip() for i in labels.get(LABEL + "netflow", "").split(",") if i.strip()),
        binds=tuple(str(b) for b in spec.get("binds") or ()),
        exec=tuple(str(e) for e in spec.get("exec") or ()),
    )
    try:
        for key, value in labels.items():
            if key.startswith(LABEL + "addr."):
                node.addresses[_ifname(key[len(LABEL + "addr."):], name, fail)] = (
                    IPv4Interface(value))
            elif key.startswith(LABEL + "bridge."):
                ports = tuple(p.strip() for p in value.split(",") if p.strip())
                node.bridges[_ifname(key[len(LABEL + "bridge."):], name, fail)] = ports
            elif key.startswith(LABEL + "vlan."):
                node.vlans[_vlan_id(key[len(LABEL + "vlan."):], name, fail)] = (
                    IPv4Interface(value))
            elif key.startswith(LABEL + "access-vlan."):
                port = _ifname(key[len(LABEL + "access-vlan."):], name, fail)
                node.access_vlans[port] = _vlan_id(value, name, fail)
        if LABEL + "loopback" in labels:
            node.loopback = IPv4Interface(labels[LABEL + "loopback"])
        if LABEL + "gateway" in labels:
            node.gateway = IPv4Address(labels[LABEL + "gateway"])
    except ipaddress.AddressValueError as exc:
        raise fail(f"node {name}: bad address ({exc})") from exc
    except ValueError as exc:
        raise fail(f"node {name}: bad address ({exc})") from exc
    if node.access_vlans and not node.vlans:
        raise fail(f"node {name}: simpul.access-vlan.* needs simpul.vlan.* gateways")
    for port, vid in node.access_vlans.items():
        if vid not in node.vlans:
            raise fail(f"node {name}: port {port} is in VLAN {vid} which has no simpul.vlan.{vid}")
    return node


def _ifname(value: str, node: str, fail: Any) -> str:
    if not IFNAME_RE.match(value) or value == "eth0":
        raise fail(f"node {node}: bad interface name {value!r} (eth0 is management; "
                   "names are at most 15 characters)")
    return value


def _vlan_id(value: str, node: str, fail: Any) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 4094:
        raise fail(f"node {node}: bad VLAN id {value!r}")
    return int(value)


def _parse_links(raw: Any, nodes: dict[str, Node], fail: Any) -> list[Link]:
    if not isinstance(raw, list):
        raise fail("'topology.links' must be a list")
    links: list[Link] = []
    used: set[Endpoint] = set()
    for i, item in enumerate(raw):
        endpoints = item.get("endpoints") if isinstance(item, dict) else None
        if not isinstance(endpoints, list) or len(endpoints) != 2:
            raise fail(f"link {i + 1}: 'endpoints' must list two 'node:interface' strings")
        ends: list[Endpoint] = []
        for text in endpoints:
            node, sep, ifname = str(text).partition(":")
            if not sep or node not in nodes:
                raise fail(f"link {i + 1}: endpoint {text!r} names no known node")
            endpoint = Endpoint(node, _ifname(ifname, node, fail))
            if endpoint in used:
                raise fail(f"link {i + 1}: endpoint {endpoint} is used twice")
            used.add(endpoint)
            ends.append(endpoint)
        if ends[0].node == ends[1].node:
            raise fail(f"link {i + 1}: both ends are on node {ends[0].node}")
        links.append(Link(ends[0], ends[1]))
    return links


def _check_addresses(topology: Topology, fail: Any) -> None:
    for node in topology.nodes.values():
        ports = set(topology.interfaces(node.name))
        for bridge, members in node.bridges.items():
            for port in members:
                if port not in ports:
                    raise fail(f"node {node.name}: bridge {bridge} port {port} is not a link")
        for port in node.access_vlans:
            if port not in ports:
                raise fail(f"node {node.name}: access port {port} is not a link")
        in_bridge = {p for members in node.bridges.values() for p in members}
        for ifname in node.addresses:
            if ifname not in ports and ifname not in node.bridges:
                raise fail(f"node {node.name}: address on {ifname}, which is neither a link "
                           "nor a bridge of the node")
            if ifname in in_bridge:
                raise fail(f"node {node.name}: {ifname} is a bridge port and cannot hold an "
                           "address")
        if node.gateway is not None and not any(
            node.gateway in a.network for a in node.addresses.values()
        ):
            raise fail(f"node {node.name}: gateway {node.gateway} is on no connected subnet")


# --- derived data ---------------------------------------------------------------------


def connected_prefixes(topology: Topology) -> list[dict[str, Any]]:
    """Return every data-plane prefix of the lab with its kind and owners.

    Point-to-point /31 links, LAN segments, VLANs and loopbacks; the management subnet
    comes first. Sorted by address.
    """
    found: dict[IPv4Network, dict[str, Any]] = {}

    def add(net: IPv4Network, role: str, node: Node, ifname: str) -> None:
        entry = found.setdefault(net, {"prefix": str(net), "role": role, "site": node.site,
                                       "members": []})
        entry["members"].append(f"{node.name}:{ifname}")

    for node in topology.nodes.values():
        for ifname, addr in node.addresses.items():
            add(addr.network, "p2p" if addr.network.prefixlen >= 30 else "lan", node, ifname)
        for vid, addr in node.vlans.items():
            add(addr.network, "vlan", node, vlan_bridge(vid))
        if node.loopback is not None:
            add(node.loopback.network, "loopback", node, "lo")
    for entry in found.values():
        entry["members"].sort()
        owners = {topology.nodes[m.split(":")[0]].role for m in entry["members"]}
        if "internet" in owners:
            entry["role"] = "internet"
    mgmt = {"prefix": str(topology.mgmt_subnet), "role": "management", "site": None,
            "members": [f"host:{topology.mgmt_gateway}"]}
    return [mgmt] + [found[k] for k in sorted(found)]


def inventory_data(topology: Topology) -> dict[str, Any]:
    """Return the source-of-truth document of *topology* in simpul's inventory format.

    This is what ``inventory/lab/<name>.yml`` holds, so ``simpul inventory import`` of
    that file loads the same lab as importing the ``.clab.yml`` itself: both go through
    ``inventory.io.clab.clab_document`` (labs is tooling and may use the inventory's
    pure converter; the inventory never imports labs). A test checks the committed
    file equals this; regenerate it with ``simpul lab inventory`` after editing the
    topology.
    """
    from inventory.io.clab import clab_document, plain

    raw = yaml.safe_load(topology.path.read_text())
    return plain(clab_document(raw, topology.path.name))


def inventory_yaml(topology: Topology) -> str:
    """Return :func:`inventory_data` as the YAML text committed under ``inventory/lab``."""
    header = (f"# Generated from labs/{topology.path.parent.name}/{topology.path.name} by "
              "`simpul lab inventory`; do not edit by hand.\n")
    return header + yaml.safe_dump(inventory_data(topology), sort_keys=False, width=100)
