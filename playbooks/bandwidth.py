"""Playbook ``bandwidth``: each OPD's committed rate from the inventory, on its access node.

The rate is the sum of the OPD's bandwidth allocations (``inventory`` IPAM: committed
Mbps, for the node's site or for every site of the OPD). It is enforced on the node's
OPD-facing interfaces — those with a LAN address (not the management address, not a
loopback, not a /31 or /32 backbone link): shaped towards the OPD (on network OSes
also policed from it).

Layers: Linux ``tc`` (a token-bucket shaper, ``tbf``, on the OPD-facing interface) for
the lab's FRR access nodes (their Linux side) and Linux routers — the lab kernel has
no ``act_police``/``matchall``, so the Linux layer limits the download direction only;
``ios``, ``eos``, ``junos``, ``ros`` are rendered and golden-tested only. The tc batch
files go to ``SIMPUL_BANDWIDTH_TC_DIR`` (default ``/etc/simpul/tc``).

Known limit: rolling back the very first limit on a node restores "no file", and the
replayed ``tc -batch`` then finds none, so that rollback reports failure (the shaper
stays; ``tc qdisc del dev IFACE root`` removes it).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select as sql_select

from playbooks.base import RenderContext, render_template

if TYPE_CHECKING:
    from napalm.base import NetworkDriver
    from nornir.core.inventory import Host
    from sqlalchemy.orm import Session

NAME = "bandwidth"
DESCRIPTION = "Per-OPD rate limits from the inventory's bandwidth allocations"
# simpul platform -> layer (FRR boxes: tc on their Linux side)
LAYER_OF_PLATFORM = {"frr": "linux", "linux": "linux", "ios": "ios", "iosxe": "ios",
                     "eos": "eos", "junos": "junos", "routeros": "ros", "ros": "ros"}
ROLES = ("access", "nac-access", "distribution")
DEFAULT_TC_DIR = "/etc/simpul/tc"


@dataclass(frozen=True)
class LanInterface:
    """An OPD-facing interface and its LAN prefix."""

    name: str
    address: str

    @property
    def file_id(self) -> str:
        """The name as a file-name part (``Gi0/1`` → ``Gi0_1``)."""
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in self.name)

    @property
    def prefix(self) -> str:
        return str(ipaddress.ip_interface(self.address).network)


def burst_bytes(rate_mbps: int) -> int:
    """Return a burst of 10 ms at *rate_mbps*, at least 32 kB (what a policer needs)."""
    return max(32_000, rate_mbps * 1_000_000 // 8 // 100)


def render_bandwidth(layer: str, *, opd: str, rate_mbps: int,
                     interfaces: list[LanInterface], tc_dir: str = DEFAULT_TC_DIR) -> str:
    """Render the rate limit of one OPD on *interfaces* for *layer*."""
    return render_template(
        layer, "bandwidth", opd=opd, rate_mbps=rate_mbps, rate_kbps=rate_mbps * 1000,
        rate_bps=rate_mbps * 1_000_000, burst_bytes=burst_bytes(rate_mbps),
        interfaces=interfaces, prefixes=[i.prefix for i in interfaces], tc_dir=tc_dir)


def committed_mbps(session: Session, opd_code: str, site_slug: str | None) -> int:
    """Return the OPD's committed Mbps for *site_slug* (allocations without a site count)."""
    from inventory.ipam.utilisation import list_bandwidth_allocations
    from inventory.models import Site
    from simpul.models import Opd

    opd_id = session.scalar(sql_select(Opd.id).where(Opd.code == opd_code))
    if opd_id is None:
        return 0
    site_id = (session.scalar(sql_select(Site.id).where(Site.slug == site_slug))
               if site_slug else None)
    return sum(a.committed_mbps for a in list_bandwidth_allocations(session, opd_id=opd_id)
               if a.site_id is None or a.site_id == site_id)


def lan_interfaces(session: Session, device_id: int, primary_ip: str | None) -> list[LanInterface]:
    """Return the device's OPD-facing interfaces (see module doc)."""
    from inventory.models import Interface, IpAddress

    rows = session.execute(
        sql_select(Interface.name, IpAddress.address)
        .join(IpAddress, IpAddress.interface_id == Interface.id)
        .where(Interface.device_id == device_id).order_by(Interface.name)).all()
    found = []
    for name, address in rows:
        iface = ipaddress.ip_interface(address)
        if name == "lo" or iface.version != 4 or iface.network.prefixlen >= 31 \
                or str(iface.ip) == primary_ip:
            continue
        found.append(LanInterface(name, address))
    return found


def select(host: Host) -> bool:
    """OPD access (and distribution) nodes of a platform the playbook renders."""
    return (host.data.get("role") in ROLES and bool(host.data.get("opd"))
            and str(host.data.get("platform") or "") in LAYER_OF_PLATFORM)


def plan(host: Host, ctx: RenderContext) -> dict[str, Any] | None:
    """Return the rate and interfaces of *host*, or None when it has nothing to limit."""
    with ctx.db.session(write=False) as session:
        rate = committed_mbps(session, str(host.data["opd"]), host.data.get("site"))
        interfaces = lan_interfaces(session, int(host.data["device_id"]),
                                    host.data.get("primary_ip"))
    if rate <= 0 or not interfaces:
        return None
    return {"opd": str(host.data["opd"]), "rate_mbps": rate, "interfaces": interfaces}


def render(host: Host, ctx: RenderContext) -> dict[str, str]:
    """Return the rate-limit candidate of *host* ({} without an allocation)."""
    found = plan(host, ctx)
    if found is None:
        return {}
    layer = LAYER_OF_PLATFORM[str(host.data.get("platform"))]
    tc_dir = os.environ.get("SIMPUL_BANDWIDTH_TC_DIR") or DEFAULT_TC_DIR
    return {layer: render_bandwidth(layer, tc_dir=tc_dir, **found)}


def verify(host: Host, ctx: RenderContext, devices: dict[str, NetworkDriver]) -> list[str]:
    """Check that every OPD-facing interface shows the shaper at the committed rate."""
    found = plan(host, ctx)
    if found is None or "linux" not in devices:
        return []
    problems = []
    for iface in found["interfaces"]:
        # tc lives in /usr/sbin, often not on a non-root login's PATH
        out = devices["linux"].cli(
            [f'PATH="$PATH:/usr/sbin:/sbin" tc qdisc show dev {iface.name}'])
        text = next(iter(out.values()), "") if isinstance(out, dict) else str(out)
        rate = f"rate {found['rate_mbps']}Mbit"
        if rate not in text:
            problems.append(f"{iface.name}: no shaper at {found['rate_mbps']} Mbit")
    return problems
