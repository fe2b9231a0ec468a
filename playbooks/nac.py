"""Playbook ``nac``: 802.1X + MAB on access switches, RADIUS servers, guest/quarantine VLANs.

Only registered devices join the network (issue 9): the switch asks simpul's FreeRADIUS
(``nac/``) about every host on an access port; FreeRADIUS answers with the VLAN of the
device's OPD and role (Tunnel-Private-Group-Id), or rejects it.

- **Cisco IOS** (golden, offline): AAA with the RADIUS servers, ``dot1x
  system-auth-control``, per access port ``authentication order dot1x mab``, periodic
  re-authentication, the guest VLAN for hosts without a supplicant and the quarantine
  VLAN when authentication fails or the servers are dead; accounting to FreeRADIUS.
  Arista EOS, Junos and RouterOS are rendered too (same plan).
- **The lab's Linux access node** (``linux`` layer of an FRR box): hostapd
  (``driver=wired``) as the 802.1X authenticator per access port, towards the same
  RADIUS servers, with ``dynamic_vlan`` so it keeps the VLAN from the Access-Accept;
  a port-action script moves the port into that VLAN's bridge when the host is
  authorized and back to the quarantine VLAN when it leaves (the lab kernel has no
  802.1Q, so a VLAN is a bridge ``br-vlan<id>``; the lab runs the script through
  ``hostapd_cli -a``). Ports stay in the quarantine VLAN until a host authenticates.
  MAB on this node is not hostapd's (wired hostapd has none); FreeRADIUS' MAB policy
  is the same for any switch and is checked with radclient.

Inputs: access switches are devices with role in ``SIMPUL_NAC_SWITCH_ROLES`` (default
``access,nac-access``; pick single switches with ``--hosts``); access ports are their
interfaces cabled to hosts (role ``host``, ``printer``, ``phone``, ``camera``...);
RADIUS servers ``SIMPUL_NAC_RADIUS_SERVERS`` (``host[:auth[:acct]]``, comma-separated;
default ``SIMPUL_RADIUS_HOST`` when it is not loopback) with the shared secret
``SIMPUL_RADIUS_SECRET_<SWITCH>`` or ``SIMPUL_RADIUS_SECRET`` (the same variables
FreeRADIUS' clients use); guest and quarantine VLANs ``SIMPUL_NAC_GUEST_VLAN`` (20) and
``SIMPUL_NAC_QUARANTINE_VLAN`` (99).
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import TYPE_CHECKING, Any

from playbooks.backbone import Node, host_node
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

NAME = "nac"
DESCRIPTION = "802.1X + MAB on access switches, RADIUS servers, guest and quarantine VLANs"
REPLACE = False

SWITCH_ROLES_ENV = "SIMPUL_NAC_SWITCH_ROLES"
DEFAULT_SWITCH_ROLES = ("access", "nac-access")  # the inventory's access switches
SERVERS_ENV = "SIMPUL_NAC_RADIUS_SERVERS"
GUEST_ENV, QUARANTINE_ENV = "SIMPUL_NAC_GUEST_VLAN", "SIMPUL_NAC_QUARANTINE_VLAN"
DEFAULT_GUEST, DEFAULT_QUARANTINE = 20, 99
HOST_ROLES = ("host", "printer", "phone", "camera", "pc", "laptop", "iot")
REAUTH_SECONDS = 3600
LAYERS_OF_PLATFORM = {"frr": ("linux",), "linux": ("linux",), "ios": ("ios",),
                      "iosxe": ("ios",), "eos": ("eos",), "junos": ("junos",),
                      "routeros": ("ros",)}


def switch_roles() -> tuple[str, ...]:
    """Return the device roles treated as NAC access switches."""
    raw = os.environ.get(SWITCH_ROLES_ENV, "")
    return tuple(r.strip() for r in raw.split(",") if r.strip()) or DEFAULT_SWITCH_ROLES


def _vlan(env: str, default: int) -> int:
    raw = os.environ.get(env) or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 4094:
        raise PlaybookError(f"{env}={raw!r} is not a VLAN id")
    return int(raw)


def radius_servers(ctx_settings: Any = None) -> list[dict[str, Any]]:
    """Return the RADIUS servers the switches use: host, auth and acct ports."""
    auth = int(os.environ.get("SIMPUL_RADIUS_AUTH_PORT") or 1812)
    acct = int(os.environ.get("SIMPUL_RADIUS_ACCT_PORT") or 1813)
    raw = os.environ.get(SERVERS_ENV, "").strip()
    if not raw:
        host = os.environ.get("SIMPUL_RADIUS_HOST", "").strip()
        if not host or ipaddress.ip_address(host).is_loopback:
            raise PlaybookError(f"set {SERVERS_ENV}: switches cannot reach FreeRADIUS on "
                                "a loopback address")
        raw = host
    servers = []
    for item in raw.split(","):
        parts = item.strip().split(":")
        try:
            ipaddress.ip_address(parts[0])
            servers.append({"host": parts[0],
                            "auth_port": int(parts[1]) if len(parts) > 1 else auth,
                            "acct_port": int(parts[2]) if len(parts) > 2 else acct})
        except ValueError as exc:
            raise PlaybookError(f"{SERVERS_ENV}: bad server {item!r} ({exc})") from exc
    return servers


def radius_secret(switch: str, data_dir: Any = None) -> str:
    """Return the switch's RADIUS secret (per-switch variable, else the shared one)."""
    per_switch = "SIMPUL_RADIUS_SECRET_" + re.sub(r"[^A-Z0-9]", "_", switch.upper())
    secret = os.environ.get(per_switch, "").strip()
    if not secret and data_dir is not None:
        from nac.settings import radius_secret as shared

        secret = shared(data_dir)
    secret = secret or os.environ.get("SIMPUL_RADIUS_SECRET", "").strip()
    if not secret:
        raise PlaybookError(f"no RADIUS secret: set {per_switch} or SIMPUL_RADIUS_SECRET")
    register_secret(secret)
    return secret


def access_ports(node: Node, nodes: dict[str, Node]) -> list[str]:
    """Return the node's ports cabled to hosts (end devices), in port order."""
    return [p.name for p in node.ports.values()
            if not p.management and p.peer and nodes.get(p.peer) is not None
            and nodes[p.peer].role in HOST_ROLES]


def node_vlans(node: Node) -> list[int]:
    """Return the VLANs the node has a bridge for (``br-vlan<id>``), sorted."""
    return sorted(int(m.group(1)) for name in node.ports
                  if (m := re.fullmatch(r"br-vlan(\d+)", name)))


def plan(node: Node, nodes: dict[str, Node], *, servers: list[dict[str, Any]], secret: str,
         nas_ip: str, guest: int = DEFAULT_GUEST, quarantine: int = DEFAULT_QUARANTINE
         ) -> dict[str, Any]:
    """Return the template variables for *node* ({} when it has no access port).

    Pure: golden tests need no database.
    """
    ports = access_ports(node, nodes)
    if not ports:
        return {}
    return {"hostname": node.name, "ports": ports, "servers": servers, "secret": secret,
            "nas_ip": nas_ip, "guest": guest, "quarantine": quarantine,
            "vlans": node_vlans(node) or [quarantine, guest], "reauth": REAUTH_SECONDS}


def select(host: Host) -> bool:
    """Access switches (role in SIMPUL_NAC_SWITCH_ROLES) on a supported platform."""
    return (host.data.get("role") in switch_roles()
            and host.data.get("platform") in LAYERS_OF_PLATFORM)


def render(host: Host, ctx: RenderContext) -> dict[str, str]:
    """Return the switch's NAC candidate per layer."""
    node, nodes = host_node(host, ctx)
    layers = LAYERS_OF_PLATFORM.get(str(host.data.get("platform")))
    if node is None or layers is None:
        return {}
    variables = plan(node, nodes, servers=radius_servers(),
                     secret=radius_secret(node.name, ctx.settings.data_dir),
                     nas_ip=str(host.data.get("primary_ip") or host.hostname),
                     guest=_vlan(GUEST_ENV, DEFAULT_GUEST),
                     quarantine=_vlan(QUARANTINE_ENV, DEFAULT_QUARANTINE))
    if not variables:
        return {}
    return {layer: render_template(layer, "nac", **variables) for layer in layers}


def verify(host: Host, ctx: RenderContext, devices: dict[str, NetworkDriver]) -> list[str]:
    """Every access port has an enabled 802.1X authenticator (hostapd) on Linux nodes."""
    device = devices.get("linux")
    node, nodes = host_node(host, ctx)
    if device is None or node is None:
        return []
    prefix = sudo_prefix(device)

    def check() -> list[str]:
        problems = []
        for port in access_ports(node, nodes):
            command = f"{prefix}hostapd_cli -p /run/hostapd -i {port} status"
            if "state=ENABLED" not in device.cli([command])[command]:
                problems.append(f"802.1X authenticator on {port} is not enabled")
        return problems

    return wait_until(check, ctx.verify_timeout)
