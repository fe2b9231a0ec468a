"""The topology map: devices placed in tiers by role, links from LLDP or the cables.

A NOC wall shows the same picture every day, so the layout is deterministic: one row
per tier (internet and edge at the top, hosts at the bottom), devices in a row ordered
by site and name. Links come from what the devices report over LLDP; where the poller
has not seen LLDP yet, the inventory's cables stand in, so the map is never empty.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from inventory.models import Cable, CableTermination, Device, Interface, Site

# role -> tier (row); roles not listed sit with the access tier
TIERS: dict[str, int] = {
    "internet": 0, "isp": 0, "router": 0, "edge": 1, "firewall": 1, "vpn": 1, "core": 2,
    "distribution": 3, "nac-access": 4, "access": 4, "server": 5, "radius": 5, "host": 6,
}
WIDTH, ROW, MARGIN = 1600, 110, 50


@dataclass(frozen=True)
class Node:
    """One device on the map."""

    id: int
    name: str
    role: str
    site: str
    x: int
    y: int


@dataclass(frozen=True)
class Link:
    """One link between two devices on the map."""

    a: int
    b: int
    a_port: str
    b_port: str
    source: str  # "lldp" or "cable"


def place(devices: list[tuple[int, str, str, str]]) -> list[Node]:
    """Return nodes laid out row by tier; *devices* are (id, name, role, site)."""
    rows: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    for dev in devices:
        rows[TIERS.get(dev[2], TIERS["access"])].append(dev)
    nodes = []
    for row, (_tier, members) in enumerate(sorted(rows.items())):  # no empty rows
        members.sort(key=lambda d: (d[3], d[1]))
        step = (WIDTH - 2 * MARGIN) / max(len(members), 1)
        for i, (dev_id, name, role, site) in enumerate(members):
            nodes.append(Node(dev_id, name, role, site, int(MARGIN + step * (i + 0.5)),
                              MARGIN + row * ROW))
    return nodes


def height(nodes: list[Node]) -> int:
    """The drawing's height for *nodes*."""
    return max((n.y for n in nodes), default=0) + MARGIN


def cable_links(session: Session) -> list[Link]:
    """Device-to-device links from the inventory's cables (both ends on an interface)."""
    a_term, b_term = aliased(CableTermination), aliased(CableTermination)
    a_if, b_if = aliased(Interface), aliased(Interface)
    rows = session.execute(
        select(a_if.device_id, a_if.name, b_if.device_id, b_if.name)
        .select_from(Cable)
        .join(a_term, (a_term.cable_id == Cable.id) & (a_term.cable_end == "A"))
        .join(b_term, (b_term.cable_id == Cable.id) & (b_term.cable_end == "B"))
        .join(a_if, a_if.id == a_term.interface_id)
        .join(b_if, b_if.id == b_term.interface_id)).all()
    return [Link(a, b, ap, bp, "cable") for a, ap, b, bp in rows if a != b]


def build(session: Session, lldp: list[tuple[int, str, int, str]]) -> tuple[list[Node],
                                                                          list[Link]]:
    """Return the map: every active device, LLDP links where known, else cables."""
    devices = session.execute(
        select(Device.id, Device.name, Device.role, Site.name)
        .join(Site, Site.id == Device.site_id)
        .where(Device.status.in_(("active", "staged")))).all()
    nodes = place([(d[0], d[1], d[2], d[3]) for d in devices])
    known = {n.id for n in nodes}
    links = [Link(a, b, ap, bp, "lldp") for a, ap, b, bp in lldp if a in known and b in known]
    seen = {frozenset((link.a, link.b)) for link in links}
    for link in cable_links(session):
        pair = frozenset((link.a, link.b))
        if pair not in seen and link.a in known and link.b in known:
            seen.add(pair)
            links.append(link)
    return nodes, links
