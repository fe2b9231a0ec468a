"""DCIM view models: sites, racks with U and power use, devices with interfaces, rack views.

Counts, draws and limits are grouped queries over the racks of a page; a rack view
holds everything the elevation drawing needs, so ``webui.rack_svg`` stays a pure
function of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from inventory.dcim.racks import power_utilisation, rack_power, reserved_power
from inventory.ipam.utilisation import Utilisation
from inventory.models import (
    CableTermination,
    Device,
    DeviceType,
    DeviceUnit,
    Interface,
    IpAddress,
    PowerFeed,
    Prefix,
    Rack,
    RackReservation,
    Site,
)
from inventory.reports.common import Page, like, opd_codes, paginate


@dataclass(frozen=True)
class SiteRow:
    """A site with how many racks, devices and prefixes it holds."""

    site: Site
    opd_code: str
    racks: int
    devices: int
    prefixes: int


def _counts(session: Session, column: Any, ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(select(column, func.count()).where(column.in_(ids))
                           .group_by(column)).all()
    return {k: int(v) for k, v in rows}


def site_page(session: Session, *, opd_id: int | None = None, page: int = 1,
              per_page: int = 100) -> Page[SiteRow]:
    """Return one page of sites by name with their object counts."""
    stmt = select(Site).order_by(Site.name)
    if opd_id is not None:
        stmt = stmt.where(Site.opd_id == opd_id)
    found = paginate(session, stmt, page, per_page)
    ids = [s.id for s in found.items]
    racks = _counts(session, Rack.site_id, ids)
    devices = _counts(session, Device.site_id, ids)
    prefixes = _counts(session, Prefix.site_id, ids)
    codes = opd_codes(session, (s.opd_id for s in found.items))
    rows = [SiteRow(s, codes.get(s.opd_id or 0, ""), racks.get(s.id, 0),
                    devices.get(s.id, 0), prefixes.get(s.id, 0)) for s in found.items]
    return Page(rows, found.total, found.page, found.per_page)


@dataclass(frozen=True)
class RackRow:
    """A rack with its units in use (on either face) and its power against its limit.

    Power use is the devices' draw plus the watts live reservations still hold (see
    ``inventory.dcim.racks.reserved_power``): promised watts are not free.
    """

    rack: Rack
    site_name: str
    opd_code: str
    units: Utilisation
    power_draw_w: int
    power_limit_w: int | None
    power_reserved_w: int = 0

    @property
    def power(self) -> Utilisation | None:
        """Return draw plus reserved over limit, or None when the rack has no known limit."""
        if self.power_limit_w is None:
            return None
        return Utilisation(self.power_draw_w + self.power_reserved_w, self.power_limit_w)


def rack_rows(session: Session, racks: Sequence[Rack]) -> list[RackRow]:
    """Return racks with U and power use (grouped queries for the whole list)."""
    ids = [r.id for r in racks]
    if not ids:
        return []
    used = dict(session.execute(
        select(DeviceUnit.rack_id, func.count(func.distinct(DeviceUnit.unit)))
        .where(DeviceUnit.rack_id.in_(ids)).group_by(DeviceUnit.rack_id)).all())
    draw = dict(session.execute(
        select(Device.rack_id, func.coalesce(func.sum(DeviceType.power_draw_w), 0))
        .join(DeviceType, Device.device_type_id == DeviceType.id)
        .where(Device.rack_id.in_(ids)).group_by(Device.rack_id)).all())
    feeds: dict[int, list[int]] = defaultdict(list)
    for feed in session.scalars(select(PowerFeed).where(PowerFeed.rack_id.in_(ids))):
        feeds[feed.rack_id].append(feed.available_w)
    sites = dict(session.execute(select(Site.id, Site.name).where(
        Site.id.in_({r.site_id for r in racks}))).all())
    codes = opd_codes(session, (r.opd_id for r in racks))
    reserved = reserved_power(session, ids)
    rows = []
    for r in racks:
        limits = feeds.get(r.id, []) + ([r.power_budget_w] if r.power_budget_w is not None
                                        else [])
        rows.append(RackRow(r, sites.get(r.site_id, ""), codes.get(r.opd_id or 0, ""),
                            Utilisation(int(used.get(r.id, 0)), r.u_height),
                            int(draw.get(r.id, 0)), min(limits) if limits else None,
                            reserved.get(r.id, 0)))
    return rows


def rack_page(session: Session, *, site_id: int | None = None, opd_id: int | None = None,
              page: int = 1, per_page: int = 100) -> Page[RackRow]:
    """Return one page of racks (site, name) with U and power use."""
    stmt = select(Rack).join(Site, Rack.site_id == Site.id).order_by(Site.name, Rack.name)
    if site_id is not None:
        stmt = stmt.where(Rack.site_id == site_id)
    if opd_id is not None:
        stmt = stmt.where(Rack.opd_id == opd_id)
    found = paginate(session, stmt, page, per_page)
    return Page(rack_rows(session, found.items), found.total, found.page, found.per_page)


@dataclass(frozen=True)
class DeviceRow:
    """A device with its type, site, rack, tenant and primary address resolved."""

    device: Device
    type_model: str
    site_name: str
    rack_name: str
    opd_code: str
    primary_ip: str


def device_page(session: Session, *, role: str | None = None, site_id: int | None = None,
                status: str | None = None, rack_id: int | None = None,
                opd_id: int | None = None, q: str = "", page: int = 1,
                per_page: int = 100) -> Page[DeviceRow]:
    """Return one page of devices by name, filtered like NetBox's device list."""
    ip4 = aliased(IpAddress)
    stmt = (select(Device, DeviceType.model, Site.name, Rack.name, ip4.address)
            .join(DeviceType, Device.device_type_id == DeviceType.id)
            .join(Site, Device.site_id == Site.id)
            .outerjoin(Rack, Device.rack_id == Rack.id)
            .outerjoin(ip4, Device.primary_ip4_id == ip4.id)
            .order_by(Device.name, Device.id))
    for column, value in ((Device.role, role), (Device.site_id, site_id),
                          (Device.status, status), (Device.rack_id, rack_id),
                          (Device.opd_id, opd_id)):
        if value is not None and value != "":
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(or_(Device.name.ilike(like(q), escape="\\"),
                              Device.serial.ilike(like(q), escape="\\")))
    found = paginate(session, stmt, page, per_page, scalars=False)
    codes = opd_codes(session, (d.opd_id for d, *_r in found.items))
    rows = [DeviceRow(d, model, site, rack or "", codes.get(d.opd_id or 0, ""), ip or "")
            for d, model, site, rack, ip in found.items]
    return Page(rows, found.total, found.page, found.per_page)


@dataclass(frozen=True)
class InterfaceRow:
    """An interface with its LAG, the device and port at the cable's far end, and IPs."""

    interface: Interface
    lag_name: str
    peer_device_id: int | None
    peer_device_name: str
    peer_interface_name: str
    addresses: list[str]
    peer_opd_id: int | None = None


def interface_rows(session: Session, device_id: int) -> list[InterfaceRow]:
    """Return a device's interfaces by name, with peers and addresses (three queries)."""
    ifaces = session.scalars(select(Interface).where(Interface.device_id == device_id)
                             .order_by(Interface.name)).all()
    ids = [i.id for i in ifaces]
    names = {i.id: i.name for i in ifaces}
    ips: dict[int, list[str]] = defaultdict(list)
    mine, other = aliased(CableTermination), aliased(CableTermination)
    peers: dict[int, tuple[int, str, str, int | None]] = {}
    if ids:
        for iface_id, address in session.execute(
                select(IpAddress.interface_id, IpAddress.address)
                .where(IpAddress.interface_id.in_(ids))
                .order_by(IpAddress.family, IpAddress.ip_hex)):
            ips[iface_id].append(address)
        for iface_id, dev_id, dev_name, peer_name, peer_opd in session.execute(
                select(mine.interface_id, Device.id, Device.name, Interface.name,
                       Device.opd_id)
                .join(other, (other.cable_id == mine.cable_id) & (other.id != mine.id))
                .join(Interface, other.interface_id == Interface.id)
                .join(Device, Interface.device_id == Device.id)
                .where(mine.interface_id.in_(ids))):
            peers[iface_id] = (dev_id, dev_name, peer_name, peer_opd)
    rows = []
    for i in ifaces:
        peer = peers.get(i.id)
        rows.append(InterfaceRow(i, names.get(i.lag_id or 0, ""), peer[0] if peer else None,
                                 peer[1] if peer else "", peer[2] if peer else "",
                                 ips.get(i.id, []), peer[3] if peer else None))
    return rows


# --- rack elevation ------------------------------------------------------------------------

@dataclass(frozen=True)
class RackDevice:
    """A mounted device as the drawing needs it; ``hidden`` hides another OPD's name."""

    id: int
    name: str
    position: int
    u_height: int
    face: str
    full_depth: bool
    role: str
    status: str
    opd_code: str
    hidden: bool = False


@dataclass(frozen=True)
class RackHold:
    """Units (and watts) reserved for an OPD."""

    units: tuple[int, ...]
    opd_code: str
    description: str
    power_w: int = 0


@dataclass(frozen=True)
class RackView:
    """A rack with everything mounted on and reserved in it, and its power figures."""

    id: int
    name: str
    site_name: str
    u_height: int
    desc_units: bool
    devices: tuple[RackDevice, ...]
    reservations: tuple[RackHold, ...]
    unmounted: tuple[str, ...]  # in the rack but without a position (0U, not yet placed)
    power_draw_w: int
    power_limit_w: int | None
    power_by_feed: tuple[tuple[str, Utilisation], ...] = ()
    power_reserved_w: int = 0  # promised to reservations, not yet drawn by their devices

    @property
    def units_used(self) -> int:
        """Return how many units hold a device on at least one face."""
        return len({u for d in self.devices
                    for u in range(d.position, d.position + d.u_height)})

    @property
    def power_percent(self) -> float | None:
        """Return draw plus reserved as a share of the limit, or None without a limit."""
        if not self.power_limit_w:
            return None
        return Utilisation(self.power_draw_w + self.power_reserved_w,
                           self.power_limit_w).percent


def rack_view(session: Session, rack: Rack, *, viewer_opd_id: int | None = None) -> RackView:
    """Return the drawing's model of *rack*; other OPDs' device names are hidden from
    an OPD viewer (*viewer_opd_id*), who still sees that the units are taken."""
    rows = session.execute(
        select(Device, DeviceType).join(DeviceType, Device.device_type_id == DeviceType.id)
        .where(Device.rack_id == rack.id).order_by(Device.position, Device.name)).all()
    holds = session.scalars(select(RackReservation).where(
        RackReservation.rack_id == rack.id).order_by(RackReservation.id)).all()
    codes = opd_codes(session, [d.opd_id for d, _t in rows] + [h.opd_id for h in holds])
    site = session.get(Site, rack.site_id)
    devices, unmounted = [], []
    for dev, dtype in rows:
        hidden = viewer_opd_id is not None and dev.opd_id != viewer_opd_id
        if dev.position is None or dtype.u_height == 0:
            if not hidden:
                unmounted.append(dev.name)
            continue
        devices.append(RackDevice(dev.id, dev.name, dev.position, dtype.u_height,
                                  dev.face or "front", dtype.is_full_depth, dev.role,
                                  dev.status, codes.get(dev.opd_id or 0, ""), hidden))
    feeds = tuple((k, v) for k, v in power_utilisation(session, rack).items() if k != "budget")
    acct = rack_power(session, rack)
    return RackView(
        rack.id, rack.name, site.name if site else "", rack.u_height, rack.desc_units,
        tuple(devices),
        tuple(RackHold(tuple(h.units), codes.get(h.opd_id or 0, ""), h.description,
                       h.power_w) for h in holds),
        tuple(unmounted), acct.draw_w, acct.limit_w, feeds, acct.reserved_w)
