"""Playbook ``vpn``: site-to-site IPsec (IKEv2) between the DC edge and remote OPD routers.

Roles: devices with role ``edge`` are hubs, role ``vpn`` are spokes (a remote OPD that
reaches the DC only over the internet). Each spoke gets one tunnel to every hub.

- **Linux endpoints** (the ``linux`` layer of FRR boxes): strongSwan ``swanctl``,
  IKEv2, PSK from ``SIMPUL_VPN_PSK`` (lab default :data:`LAB_PSK`), file
  ``/etc/swanctl/conf.d/simpul-vpn.conf`` (mode 0600), reloaded with
  ``swanctl --load-all``; the spoke initiates (``start_action = start``), dead peers
  are detected and restarted. The tunnel is **route-based**: whatever is routed into
  the tunnel interface is protected; the traffic selectors only bound it (intranet
  ↔ the spoke's networks). On this lab's kernel (no ESP, no XFRM interfaces, no VTI)
  strongSwan runs ESP in userspace (kernel-libipsec) behind the TUN interface
  ``ipsec0``, and ESP travels in UDP 4500 (``encap = yes``), which libipsec needs.
- **Routing, under the central routing policy**: the routes into the tunnel are FRR
  static routes pushed through the ``frr`` layer, not routes installed by the IPsec
  daemon (``install_routes = no``): the hub routes each spoke's networks into the
  tunnel and redistributes them into OSPF (so the whole DC learns them from the
  edge, like every other route); the spoke routes the intranet (``SIMPUL_VPN_INTRANET``,
  default ``10.0.0.0/8``) into the tunnel and keeps its own default to its ISP for
  the underlay. Static + redistribution rather than OSPF over the tunnel: the remote
  OPD is a stub with one way in, it need not join the DC's OSPF domain, and a
  compromised remote router cannot inject routes into the intranet.
- **Remote access** (rendered, not exercised in the lab): an IKEv2 EAP profile
  (``SIMPUL_VPN_REMOTE_ACCESS=yes``) with a virtual-IP pool, users authenticated by
  simpul's FreeRADIUS (EAP-TTLS) — on Linux hubs a ``simpul-ra`` connection.
- **Offline platforms**: Cisco IOS (IKEv2 + VTI), Arista EOS, Junos (st0), RouterOS
  (IPIP with IPsec) are rendered for golden tests; we cannot run them here.

Verification: every expected IKE SA is ESTABLISHED with its CHILD SA INSTALLED
(``swanctl --list-sas``), and the spoke reaches each hub's loopback through the tunnel.
Hub and spoke commit in parallel; when the spoke's first attempt met a hub that had not
loaded its side yet (NO_PROPOSAL_CHOSEN, which charon does not retry), the spoke's
verification initiates again.
"""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Any

from playbooks.backbone import ISP_ROLES, Node, Port, host_node
from playbooks.base import (
    PlaybookError,
    RenderContext,
    render_template,
    sudo_prefix,
    wait_until,
)
from simpul.logging import register_secret

if TYPE_CHECKING:
    from napalm.base import NetworkDriver
    from nornir.core.inventory import Host

NAME = "vpn"
DESCRIPTION = "Site-to-site IPsec (IKEv2) from remote OPDs to the DC edge, and remote access"
REPLACE = False

HUB_ROLES = ("edge",)
SPOKE_ROLES = ("vpn",)
PSK_ENV = "SIMPUL_VPN_PSK"
LAB_PSK = "simpul-lab-vpn-psk"
INTRANET_ENV = "SIMPUL_VPN_INTRANET"
REMOTE_ACCESS_ENV = "SIMPUL_VPN_REMOTE_ACCESS"
DEFAULT_INTRANET = "10.0.0.0/8"
LINUX_TUNNEL = "ipsec0"          # kernel-libipsec's TUN device
IKE_PROPOSAL = "aes256-sha256-modp2048"
ESP_PROPOSAL = "aes256-sha256-modp2048"
RA_POOL = "10.254.128.0/24"
# Platform -> layers: the Linux endpoint is two layers (IPsec daemon + FRR routes).
LAYERS_OF_PLATFORM = {"frr": ("linux", "frr"), "linux": ("linux",), "ios": ("ios",),
                      "iosxe": ("ios",), "eos": ("eos",), "junos": ("junos",),
                      "routeros": ("ros",)}


def psk() -> str:
    """Return the pre-shared key (registered with the log redactor)."""
    key = os.environ.get(PSK_ENV) or LAB_PSK
    if len(key) < 16:
        raise PlaybookError(f"{PSK_ENV} must be at least 16 characters")
    register_secret(key)
    return key


def intranet() -> list[str]:
    """Return the central routing policy's intranet prefixes (what spokes route in)."""
    raw = os.environ.get(INTRANET_ENV) or DEFAULT_INTRANET
    try:
        return [str(ipaddress.ip_network(p.strip())) for p in raw.split(",") if p.strip()]
    except ValueError as exc:
        raise PlaybookError(f"{INTRANET_ENV}: {exc}") from exc


def underlay(node: Node, nodes: dict[str, Node]) -> str | None:
    """Return the node's internet-side address: the port cabled to an ISP router, else
    the first address outside private space."""
    ports = [p for p in node.ports.values() if p.addresses and not p.management]
    for port in ports:
        peer = nodes.get(port.peer or "")
        if peer is not None and peer.role in ISP_ROLES:
            return port.addresses[0].split("/")[0]
    for port in ports:
        ip = ipaddress.ip_interface(port.addresses[0]).ip
        if ip.is_global or ip in ipaddress.ip_network("100.64.0.0/10"):
            return str(ip)
    return None


def _underlay_port(node: Node, nodes: dict[str, Node]) -> Port | None:
    address = underlay(node, nodes)
    for port in node.ports.values():
        if address and any(a.split("/")[0] == address for a in port.addresses):
            return port
    return None


def underlay_gateway(node: Node, nodes: dict[str, Node]) -> str | None:
    """Return the ISP router's address on the node's underlay link (its next hop)."""
    port = _underlay_port(node, nodes)
    peer = nodes.get(port.peer or "") if port else None
    if port is None or peer is None:
        return None
    mine = ipaddress.ip_interface(port.addresses[0])
    for address in peer.ports.get(port.peer_port or "", Port("", [])).addresses:
        theirs = ipaddress.ip_interface(address)
        if theirs.network == mine.network:
            return str(theirs.ip)
    return None


def site_networks(node: Node, nodes: dict[str, Node]) -> list[str]:
    """Return the networks behind a spoke: every addressed port but the underlay and
    management (loopbacks as /32)."""
    skip = _underlay_port(node, nodes)
    nets: list[str] = []
    for port in node.ports.values():
        if port is skip or port.management:
            continue
        for address in port.addresses:
            net = str(ipaddress.ip_interface(address).network)
            if net not in nets:
                nets.append(net)
    return nets


def _loopback_net(node: Node) -> list[str]:
    return [f"{node.loopback}/32"] if node.loopback else []


def plan(node: Node, nodes: dict[str, Node], *, key: str,
         remote_access: bool = False) -> dict[str, Any]:
    """Return the template variables for *node* ({} when it is no VPN end).

    Pure: everything comes from *nodes*, so golden tests need no database.
    """
    hub = node.role in HUB_ROLES
    if not hub and node.role not in SPOKE_ROLES:
        return {}
    mine = underlay(node, nodes)
    if mine is None:
        return {}
    others = sorted((n for n in nodes.values()
                     if n.role in (SPOKE_ROLES if hub else HUB_ROLES)), key=lambda n: n.name)
    peers: list[dict[str, Any]] = []
    routes: list[str] = []
    for index, other in enumerate(others, 1):
        theirs = underlay(other, nodes)
        if theirs is None:
            continue
        if hub:
            local_ts, remote_ts = intranet(), site_networks(other, nodes)
        else:
            local_ts, remote_ts = site_networks(node, nodes), intranet()
        routes += [r for r in remote_ts if r not in routes]
        peers.append({
            "name": other.name, "conn": f"s2s-{other.name}", "index": index,
            "local_addr": mine, "remote_addr": theirs,
            "local_id": node.name, "remote_id": other.name,
            "local_ts": local_ts, "remote_ts": remote_ts, "initiator": not hub,
            "remote_loopback": other.loopback, "remote_ts_mask": _masks(remote_ts),
        })
    if not peers:
        return {}
    gateway = underlay_gateway(node, nodes)
    # The tunnel's own transport: a host route to each peer's underlay address via the
    # ISP, so IKE/ESP never follow an intranet route (or a route into the tunnel).
    underlay_routes = [f"{p['remote_addr']}/32 {gateway}" for p in peers] if gateway else []
    return {
        "underlay_routes": underlay_routes,
        "hostname": node.name, "hub": hub, "psk": key, "peers": peers, "routes": routes,
        "tunnel_if": LINUX_TUNNEL, "loopback": node.loopback,
        "underlay_if": (_underlay_port(node, nodes) or Port("", [])).name,
        "ike_proposal": IKE_PROPOSAL, "esp_proposal": ESP_PROPOSAL,
        "redistribute": hub,
        "remote_access": _remote_access(mine) if hub and remote_access else None,
    }


def _masks(prefixes: list[str]) -> list[str]:
    """Return prefixes as 'network netmask' (IOS, RouterOS-style static routes)."""
    nets = [ipaddress.ip_network(p) for p in prefixes]
    return [f"{n.network_address} {n.netmask}" for n in nets]


def _remote_access(local_addr: str) -> dict[str, Any]:
    pool = ipaddress.ip_network(RA_POOL)
    hosts = list(pool.hosts())
    return {"pool": RA_POOL, "pool_first": str(hosts[0]), "pool_last": str(hosts[-1]),
            "intranet": intranet(), "intranet_mask": _masks(intranet()),
            "local_addr": local_addr}


def render_for(node: Node, nodes: dict[str, Node], layers: tuple[str, ...], *, key: str,
               remote_access: bool = False) -> dict[str, str]:
    """Return *node*'s VPN candidate per layer ({} when nothing applies)."""
    variables = plan(node, nodes, key=key, remote_access=remote_access)
    if not variables:
        return {}
    return {layer: render_template(layer, "vpn", **variables) for layer in layers}


def select(host: Host) -> bool:
    """Hub (edge) and spoke (vpn) routers."""
    return (host.data.get("role") in HUB_ROLES + SPOKE_ROLES
            and host.data.get("platform") in LAYERS_OF_PLATFORM)


def render(host: Host, ctx: RenderContext) -> dict[str, str]:
    """Return the candidates: ``linux`` (swanctl) then ``frr`` (routes) on FRR boxes."""
    node, nodes = host_node(host, ctx)
    layers = LAYERS_OF_PLATFORM.get(str(host.data.get("platform")))
    if node is None or layers is None:
        return {}
    remote_access = (os.environ.get(REMOTE_ACCESS_ENV) or "no").lower() in ("1", "yes", "true")
    return render_for(node, nodes, layers, key=psk(), remote_access=remote_access)


def sas(device: NetworkDriver) -> str:
    """Return ``swanctl --list-sas`` from a Linux-layer driver (through sudo if it uses it)."""
    prefix = sudo_prefix(device)
    command = f"{prefix}swanctl --list-sas 2>/dev/null"
    return str(device.cli([command])[command])


def sa_problems(text: str, conns: list[str]) -> list[str]:
    """Return the connections of *conns* without an ESTABLISHED IKE SA and an INSTALLED
    CHILD SA in ``swanctl --list-sas`` output *text*."""
    problems = []
    blocks: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            current = line.split(":", 1)[0]
            blocks[current] = line + "\n"
        elif current is not None:
            blocks[current] += line + "\n"
    for conn in conns:
        block = blocks.get(conn, "")
        if "ESTABLISHED" not in block.split("\n", 1)[0]:
            problems.append(f"IKE SA {conn} is not established")
        elif "INSTALLED" not in block:
            problems.append(f"IKE SA {conn} has no installed CHILD SA")
    return problems


def verify(host: Host, ctx: RenderContext, devices: dict[str, NetworkDriver]) -> list[str]:
    """Tunnels up (IKE + CHILD SA) and, from a spoke, each hub's loopback answers."""
    device = devices.get("linux")
    node, nodes = host_node(host, ctx)
    if device is None or node is None:
        return []
    variables = plan(node, nodes, key="-")
    if not variables:
        return []
    conns = [p["conn"] for p in variables["peers"]]

    def check() -> list[str]:
        problems = sa_problems(sas(device), conns)
        if problems and not variables["hub"]:
            # The spoke initiates on load; if the hub had not loaded its side yet, the
            # attempt ended in NO_PROPOSAL_CHOSEN, which charon does not retry. Kick it.
            prefix = sudo_prefix(device)
            for conn in conns:
                device.cli([f"{prefix}swanctl --initiate --child {conn} --timeout 5"])
            problems = sa_problems(sas(device), conns)
        if problems or variables["hub"] or not node.loopback:
            return problems
        for peer in variables["peers"]:
            if peer["remote_loopback"]:
                command = (f"ping -n -q -c 1 -W 1 -I {node.loopback} "
                           f"{peer['remote_loopback']} >/dev/null && echo ok")
                if "ok" not in device.cli([command])[command]:
                    problems.append(f"{peer['name']} loopback {peer['remote_loopback']} "
                                    "does not answer through the tunnel")
        return problems

    return wait_until(check, ctx.verify_timeout)
