"""Known-good routing and VPN for the lab, applied through vtysh.

Stands in for the playbooks until they configure the lab: OSPF area 0 on the backbone
and one area per distribution zone (configs/<router>.conf), a static default at the edge
originated into OSPF, and a WireGuard (wireguard-go) site-to-site tunnel between the
edge and the remote OPD router with static routes over it (configs/vpn-*.conf).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.integration.lab.labhelpers import CONFIGS, in_ns, parallel

OPD_HOSTS = ("ha1", "ha2", "hb1", "hb2", "hc1", "hc2", "hd1", "hd2", "nac-h1")
DC_SERVERS = {"web": "10.10.20.10", "mail": "10.10.20.11", "proxy": "10.10.20.12"}
WG_PORT = 51820


def vtysh_file(node: str, path: Path) -> None:
    """Apply the config file *path* to *node* through vtysh."""
    proc = in_ns(node, "vtysh", "-N", node, "-f", str(path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Unknown command" not in out, f"{node}: {out}"


def apply_routing() -> None:
    """Apply every router's OSPF/static config in parallel."""
    files = [p for p in sorted(CONFIGS.glob("*.conf")) if not p.name.startswith("vpn-")]
    parallel(lambda p: vtysh_file(p.stem, p), files)


def ping(node: str, address: str, count: int = 1, wait: int = 1) -> bool:
    """True when *node* gets an echo reply from *address*."""
    proc = in_ns(node, "ping", "-n", "-q", "-c", str(count), "-W", str(wait), address)
    return proc.returncode == 0


def reachability() -> dict[tuple[str, str], bool]:
    """Ping every DC server from every OPD host."""
    pairs = [(h, s) for h in OPD_HOSTS for s in DC_SERVERS]
    results = parallel(lambda p: ping(p[0], DC_SERVERS[p[1]]), pairs)
    return dict(zip(pairs, results, strict=True))


@dataclass
class Tunnel:
    """One WireGuard end."""

    node: str
    ifname: str
    address: str
    underlay: str
    allowed: str


EDGE = Tunnel("edge", "wg-edge", "10.254.0.0/31", "100.64.0.0", "10.60.10.0/24,10.254.0.1/32")
REMOTE = Tunnel("rmt-r1", "wg-rmt", "10.254.0.1/31", "100.64.0.2", "10.0.0.0/8")


def _keypair() -> tuple[str, str]:
    private = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                             check=True).stdout.strip()
    public = subprocess.run(["wg", "pubkey"], input=private, capture_output=True, text=True,
                            check=True).stdout.strip()
    return private, public


def start_vpn() -> None:
    """Bring the site-to-site tunnel up (wireguard-go in both namespaces) with routes."""
    keys = {EDGE.node: _keypair(), REMOTE.node: _keypair()}
    for end, peer in ((EDGE, REMOTE), (REMOTE, EDGE)):
        proc = in_ns(end.node, "wireguard-go", end.ifname)  # daemonises itself
        assert proc.returncode == 0, proc.stderr
        private = keys[end.node][0]
        proc = subprocess.run(
            ["ip", "netns", "exec", f"sl-{end.node}", "wg", "set", end.ifname, "listen-port",
             str(WG_PORT), "private-key", "/dev/stdin", "peer", keys[peer.node][1],
             "endpoint", f"{peer.underlay}:{WG_PORT}", "allowed-ips", end.allowed,
             "persistent-keepalive", "5"], input=private + "\n", capture_output=True,
            text=True)
        assert proc.returncode == 0, proc.stderr
        for argv in (["ip", "addr", "add", end.address, "dev", end.ifname],
                     ["ip", "link", "set", end.ifname, "up"]):
            proc = in_ns(end.node, *argv)
            assert proc.returncode == 0, proc.stderr
        vtysh_file(end.node, CONFIGS / f"vpn-{end.node}.conf")


def set_tunnel(up: bool) -> None:
    """Set both tunnel interfaces up or down."""
    for end in (EDGE, REMOTE):
        in_ns(end.node, "ip", "link", "set", end.ifname, "up" if up else "down")


def transfer_bytes(end: Tunnel) -> tuple[int, int]:
    """Return (received, sent) bytes of the tunnel peer at *end*."""
    out = in_ns(end.node, "wg", "show", end.ifname, "transfer").stdout.split()
    return (int(out[1]), int(out[2])) if len(out) >= 3 else (0, 0)


INTERNET_COUNTERS = """table ip simpul_test {
  counter plain_intranet { }
  counter wireguard { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr 10.0.0.0/8 ip daddr 10.0.0.0/8 counter name plain_intranet
    udp dport 51820 counter name wireguard
  }
}
"""


def nft_counters(node: str, table: str, ruleset: str) -> dict[str, int]:
    """Return the packet counters of nftables *table* on *node* (*ruleset* on first call)."""
    listing = in_ns(node, "nft", "list", "counters", "table", "ip", table)
    if listing.returncode != 0:
        proc = subprocess.run(["ip", "netns", "exec", f"sl-{node}", "nft", "-f", "-"],
                              input=ruleset, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        listing = in_ns(node, "nft", "list", "counters", "table", "ip", table)
    counters: dict[str, int] = {}
    name = None
    for line in listing.stdout.splitlines():
        words = line.split()
        if words[:1] == ["counter"] and len(words) > 1:
            name = words[1]
        elif words[:1] == ["packets"] and name:
            counters[name] = int(words[1])
    return counters


def internet_counters() -> dict[str, int]:
    """Return the packet counters on the simulated internet (installed on first call)."""
    return nft_counters("internet", "simpul_test", INTERNET_COUNTERS)
