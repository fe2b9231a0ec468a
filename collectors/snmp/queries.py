"""Read-only queries over the SNMP storage: what alerts, the NOC screens and /metrics use.

Every function takes a SQLAlchemy ``Session`` and returns plain dataclasses, so callers
never depend on table layout. Times going in may be aware ``datetime`` or epoch seconds;
times coming out are aware UTC ``datetime``. Rates are bits/s (octets x 8) and events/s.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from collectors.snmp.models import (
    SnmpDeviceState,
    SnmpHostRollup,
    SnmpHostSample,
    SnmpInterface,
    SnmpInterfaceRollup,
    SnmpInterfaceSample,
    SnmpLldpNeighbour,
    SnmpStatusChange,
    SnmpStorage,
)
from inventory.models import BandwidthAllocation, CableTermination, Device, Interface
from simpul.models.tenancy import Opd

Resolution = Literal["auto", "raw", 300, 3600]
TimeLike = datetime | float | int


def _epoch(value: TimeLike) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value)


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _pct(rate: float | None, speed: int | None) -> float | None:
    if rate is None or not speed:
        return None
    return 100.0 * rate / speed


@dataclass(frozen=True)
class InterfaceStatus:
    """The latest known state of one polled interface."""

    snmp_interface_id: int
    device_id: int
    device_name: str
    interface_id: int | None
    if_index: int
    name: str
    alias: str
    admin_status: str
    oper_status: str
    speed_bps: int | None
    last_change: datetime | None
    in_bps: float | None
    out_bps: float | None
    in_errors_ps: float | None
    out_errors_ps: float | None
    in_discards_ps: float | None
    out_discards_ps: float | None
    in_util_pct: float | None
    out_util_pct: float | None
    rate_at: datetime | None


@dataclass(frozen=True)
class RatePoint:
    """One point of an interface rate series (a raw sample or a roll-up bucket)."""

    ts: datetime
    in_bps: float
    out_bps: float
    in_bps_max: float
    out_bps_max: float
    in_errors_ps: float
    out_errors_ps: float
    in_discards_ps: float
    out_discards_ps: float
    samples: int = 1


@dataclass(frozen=True)
class RateSummary:
    """Minimum, maximum and mean rates of one interface over a window (for sustained rules)."""

    snmp_interface_id: int
    samples: int
    min_in_bps: float
    min_out_bps: float
    max_in_bps: float
    max_out_bps: float
    avg_in_bps: float
    avg_out_bps: float
    max_errors_ps: float
    max_discards_ps: float
    speed_bps: int | None

    @property
    def min_util_pct(self) -> float | None:
        """The lower of the in/out minimum utilisations' maximum: above X all window long."""
        if not self.speed_bps:
            return None
        return 100.0 * max(self.min_in_bps, self.min_out_bps) / self.speed_bps


@dataclass(frozen=True)
class DeviceReachability:
    """Whether SNMP polls of a device succeed, and since when they fail."""

    device_id: int
    device_name: str
    address: str
    reachable: bool
    last_poll: datetime | None
    last_success: datetime | None
    consecutive_failures: int
    last_error: str
    poll_seconds: float | None
    uptime_seconds: float | None
    sys_name: str
    polled_by: str


@dataclass(frozen=True)
class StorageUse:
    """One storage area (disk, RAM, swap) of a device."""

    descr: str
    kind: str
    size_bytes: int
    used_bytes: int

    @property
    def used_pct(self) -> float | None:
        return 100.0 * self.used_bytes / self.size_bytes if self.size_bytes else None


@dataclass(frozen=True)
class HostResources:
    """The latest CPU, memory and disk use of one device."""

    device_id: int
    device_name: str
    at: datetime
    cpu_pct: float | None
    mem_pct: float | None
    mem_total_bytes: int | None
    mem_used_bytes: int | None
    disk_max_pct: float | None
    load1: float | None
    storages: list[StorageUse] = field(default_factory=list)


@dataclass(frozen=True)
class HostPoint:
    """One point of a host-resource series."""

    ts: datetime
    cpu_pct: float | None
    cpu_pct_max: float | None
    mem_pct: float | None
    mem_pct_max: float | None
    disk_max_pct: float | None
    samples: int = 1


@dataclass(frozen=True)
class StatusChange:
    """An interface's oper-status change as first seen by a poll."""

    id: int
    at: datetime
    device_id: int
    device_name: str
    snmp_interface_id: int
    interface_name: str
    old_status: str
    new_status: str


@dataclass(frozen=True)
class OpdBandwidth:
    """An OPD's current traffic on its boundary interfaces against its allocation.

    ``in_bps`` is traffic entering the OPD's devices from outside (its download),
    ``out_bps`` traffic leaving them (its upload).
    """

    opd_id: int
    code: str
    name: str
    in_bps: float
    out_bps: float
    allocation_mbps: int | None
    snmp_interface_ids: list[int]

    @property
    def peak_bps(self) -> float:
        return max(self.in_bps, self.out_bps)

    @property
    def allocation_pct(self) -> float | None:
        if not self.allocation_mbps:
            return None
        return 100.0 * self.peak_bps / (self.allocation_mbps * 1_000_000)


@dataclass(frozen=True)
class LldpNeighbour:
    """One LLDP adjacency as a device reports it."""

    device_id: int
    device_name: str
    local_port: str
    remote_sys_name: str
    remote_port_id: str
    remote_port_descr: str
    remote_chassis_id: str
    remote_device_id: int | None
    seen_at: datetime


@dataclass(frozen=True)
class TopologyLink:
    """An undirected link between two inventory devices, from LLDP (deduplicated)."""

    a_device_id: int
    a_port: str
    b_device_id: int
    b_port: str


# --- interfaces -------------------------------------------------------------------------

def _interface_status(row: SnmpInterface, device_name: str) -> InterfaceStatus:
    return InterfaceStatus(
        snmp_interface_id=row.id, device_id=row.device_id, device_name=device_name,
        interface_id=row.interface_id, if_index=row.if_index, name=row.name or row.descr,
        alias=row.alias, admin_status=row.admin_status, oper_status=row.oper_status,
        speed_bps=row.speed_bps, last_change=_dt(row.last_change_ts),
        in_bps=row.in_bps, out_bps=row.out_bps, in_errors_ps=row.in_errors_ps,
        out_errors_ps=row.out_errors_ps, in_discards_ps=row.in_discards_ps,
        out_discards_ps=row.out_discards_ps, in_util_pct=_pct(row.in_bps, row.speed_bps),
        out_util_pct=_pct(row.out_bps, row.speed_bps), rate_at=_dt(row.rate_ts))


def list_interface_status(session: Session, device_id: int | None = None,
                          *, interface_ids: list[int] | None = None) -> list[InterfaceStatus]:
    """Return the latest status and rates of every polled interface (of one device)."""
    stmt = (select(SnmpInterface, Device.name).join(Device, Device.id == SnmpInterface.device_id)
            .order_by(Device.name, SnmpInterface.if_index))
    if device_id is not None:
        stmt = stmt.where(SnmpInterface.device_id == device_id)
    if interface_ids is not None:
        stmt = stmt.where(SnmpInterface.id.in_(interface_ids))
    return [_interface_status(row, name) for row, name in session.execute(stmt)]


def get_interface_status(session: Session, snmp_interface_id: int) -> InterfaceStatus | None:
    """Return one interface's latest status, or None."""
    found = list_interface_status(session, interface_ids=[snmp_interface_id])
    return found[0] if found else None


def find_interface(session: Session, device_name: str, name: str) -> InterfaceStatus | None:
    """Return the interface called *name* (ifName, ifDescr) on the device *device_name*."""
    stmt = (select(SnmpInterface, Device.name).join(Device, Device.id == SnmpInterface.device_id)
            .where(Device.name == device_name)
            .where((SnmpInterface.name == name) | (SnmpInterface.descr == name)))
    row = session.execute(stmt).first()
    return _interface_status(row[0], row[1]) if row else None


def choose_resolution(start: float, end: float, raw_hours: float = 6.0,
                      now: float | None = None) -> int | str:
    """Pick raw for spans up to 6 h (within raw retention), 5 min up to 2 days, else 1 h."""
    span = end - start
    now = time.time() if now is None else now
    if span <= 6 * 3600 and start >= now - raw_hours * 3600:
        return "raw"
    if span <= 2 * 86400:
        return 300
    return 3600


def interface_series(session: Session, snmp_interface_id: int, start: TimeLike, end: TimeLike,
                     resolution: Resolution = "auto") -> list[RatePoint]:
    """Return the rate series of one interface between *start* and *end* (inclusive).

    ``resolution`` is ``raw`` (every poll), ``300`` or ``3600`` (roll-up buckets, whose
    ``ts`` is the bucket start; a bucket still filling is not there yet) or ``auto``.
    """
    lo, hi = _epoch(start), _epoch(end)
    res = choose_resolution(lo, hi) if resolution == "auto" else resolution
    if res == "raw":
        rs = session.scalars(
            select(SnmpInterfaceSample)
            .where(SnmpInterfaceSample.snmp_interface_id == snmp_interface_id)
            .where(SnmpInterfaceSample.ts >= lo, SnmpInterfaceSample.ts <= hi)
            .order_by(SnmpInterfaceSample.ts))
        return [RatePoint(_dt(s.ts), s.in_bps, s.out_bps, s.in_bps, s.out_bps,  # type: ignore[arg-type]
                          s.in_errors_ps, s.out_errors_ps, s.in_discards_ps,
                          s.out_discards_ps) for s in rs]
    rolled = session.scalars(
        select(SnmpInterfaceRollup)
        .where(SnmpInterfaceRollup.resolution == int(res))
        .where(SnmpInterfaceRollup.snmp_interface_id == snmp_interface_id)
        .where(SnmpInterfaceRollup.ts >= lo - int(res), SnmpInterfaceRollup.ts <= hi)
        .order_by(SnmpInterfaceRollup.ts))
    return [RatePoint(_dt(r.ts), r.in_bps, r.out_bps, r.in_bps_max, r.out_bps_max,  # type: ignore[arg-type]
                      r.in_errors_ps, r.out_errors_ps, r.in_discards_ps, r.out_discards_ps,
                      r.samples) for r in rolled]


def rate_summaries_since(session: Session, since: TimeLike,
                         snmp_interface_ids: list[int] | None = None) -> dict[int, RateSummary]:
    """Summarise every interface's raw samples since *since* (one grouped query).

    "Utilisation above X % for N minutes" holds when ``min_util_pct >= X`` over the
    last N minutes and the window holds enough samples.
    """
    s = SnmpInterfaceSample
    stmt = (select(s.snmp_interface_id, func.count(), func.min(s.in_bps), func.min(s.out_bps),
                   func.max(s.in_bps), func.max(s.out_bps), func.avg(s.in_bps),
                   func.avg(s.out_bps), func.max(s.in_errors_ps + s.out_errors_ps),
                   func.max(s.in_discards_ps + s.out_discards_ps), SnmpInterface.speed_bps)
            .join(SnmpInterface, SnmpInterface.id == s.snmp_interface_id)
            .where(s.ts >= _epoch(since)).group_by(s.snmp_interface_id, SnmpInterface.speed_bps))
    if snmp_interface_ids is not None:
        stmt = stmt.where(s.snmp_interface_id.in_(snmp_interface_ids))
    out: dict[int, RateSummary] = {}
    for row in session.execute(stmt):
        out[row[0]] = RateSummary(row[0], int(row[1]), float(row[2]), float(row[3]),
                                  float(row[4]), float(row[5]), float(row[6]), float(row[7]),
                                  float(row[8] or 0.0), float(row[9] or 0.0), row[10])
    return out


def list_status_changes(session: Session, since: TimeLike, *, device_id: int | None = None,
                        snmp_interface_id: int | None = None,
                        after_id: int | None = None) -> list[StatusChange]:
    """Return oper-status changes at or after *since* (and with id > *after_id*), oldest first.

    ``after_id`` lets a rule engine consume changes exactly once by remembering the last id.
    """
    stmt = (select(SnmpStatusChange, Device.name, SnmpInterface.name, SnmpInterface.descr)
            .join(Device, Device.id == SnmpStatusChange.device_id)
            .join(SnmpInterface, SnmpInterface.id == SnmpStatusChange.snmp_interface_id)
            .where(SnmpStatusChange.ts >= _epoch(since)).order_by(SnmpStatusChange.id))
    if device_id is not None:
        stmt = stmt.where(SnmpStatusChange.device_id == device_id)
    if snmp_interface_id is not None:
        stmt = stmt.where(SnmpStatusChange.snmp_interface_id == snmp_interface_id)
    if after_id is not None:
        stmt = stmt.where(SnmpStatusChange.id > after_id)
    return [StatusChange(c.id, _dt(c.ts), c.device_id, dname, c.snmp_interface_id,  # type: ignore[arg-type]
                         iname or idescr, c.old_status, c.new_status)
            for c, dname, iname, idescr in session.execute(stmt)]


# --- devices ----------------------------------------------------------------------------

def list_device_reachability(session: Session) -> list[DeviceReachability]:
    """Return the poll state of every device polled at least once."""
    stmt = (select(SnmpDeviceState, Device.name)
            .join(Device, Device.id == SnmpDeviceState.device_id).order_by(Device.name))
    return [DeviceReachability(
        device_id=st.device_id, device_name=name, address=st.address, reachable=st.reachable,
        last_poll=_dt(st.last_poll_ts), last_success=_dt(st.last_success_ts),
        consecutive_failures=st.consecutive_failures, last_error=st.last_error,
        poll_seconds=st.poll_seconds,
        uptime_seconds=None if st.sys_uptime_cs is None else st.sys_uptime_cs / 100.0,
        sys_name=st.sys_name, polled_by=st.polled_by)
        for st, name in session.execute(stmt)]


def get_device_reachability(session: Session, device_id: int) -> DeviceReachability | None:
    """Return one device's poll state, or None when never polled."""
    for item in list_device_reachability(session):
        if item.device_id == device_id:
            return item
    return None


def list_host_resources(session: Session, device_id: int | None = None) -> list[HostResources]:
    """Return the latest host-resource sample (and storage areas) of every device."""
    latest = (select(SnmpHostSample.device_id, func.max(SnmpHostSample.ts).label("ts"))
              .group_by(SnmpHostSample.device_id))
    if device_id is not None:
        latest = latest.where(SnmpHostSample.device_id == device_id)
    sub = latest.subquery()
    stmt = (select(SnmpHostSample, Device.name)
            .join(sub, (sub.c.device_id == SnmpHostSample.device_id)
                  & (sub.c.ts == SnmpHostSample.ts))
            .join(Device, Device.id == SnmpHostSample.device_id).order_by(Device.name))
    storages: dict[int, list[StorageUse]] = defaultdict(list)
    sst = select(SnmpStorage).order_by(SnmpStorage.descr)
    if device_id is not None:
        sst = sst.where(SnmpStorage.device_id == device_id)
    for st in session.scalars(sst):
        storages[st.device_id].append(StorageUse(st.descr, st.kind, st.size_bytes, st.used_bytes))
    return [HostResources(h.device_id, name, _dt(h.ts), h.cpu_pct, h.mem_pct,  # type: ignore[arg-type]
                          h.mem_total_bytes, h.mem_used_bytes, h.disk_max_pct, h.load1,
                          storages.get(h.device_id, []))
            for h, name in session.execute(stmt)]


def host_series(session: Session, device_id: int, start: TimeLike, end: TimeLike,
                resolution: Resolution = "auto") -> list[HostPoint]:
    """Return a device's CPU/memory/disk series between *start* and *end*."""
    lo, hi = _epoch(start), _epoch(end)
    res = choose_resolution(lo, hi) if resolution == "auto" else resolution
    if res == "raw":
        rows = session.scalars(select(SnmpHostSample).where(SnmpHostSample.device_id == device_id)
                               .where(SnmpHostSample.ts >= lo, SnmpHostSample.ts <= hi)
                               .order_by(SnmpHostSample.ts))
        return [HostPoint(_dt(r.ts), r.cpu_pct, r.cpu_pct, r.mem_pct, r.mem_pct,  # type: ignore[arg-type]
                          r.disk_max_pct) for r in rows]
    rolled = session.scalars(
        select(SnmpHostRollup).where(SnmpHostRollup.resolution == int(res))
        .where(SnmpHostRollup.device_id == device_id)
        .where(SnmpHostRollup.ts >= lo - int(res), SnmpHostRollup.ts <= hi)
        .order_by(SnmpHostRollup.ts))
    return [HostPoint(_dt(r.ts), r.cpu_pct, r.cpu_pct_max, r.mem_pct, r.mem_pct_max,  # type: ignore[arg-type]
                      r.disk_max_pct, r.samples) for r in rolled]


# --- OPDs -------------------------------------------------------------------------------

def opd_boundary_interfaces(session: Session) -> dict[int, list[int]]:
    """Map each OPD id to the polled interfaces that carry its traffic in and out.

    An interface belongs to OPD X when its device is X's (``dcim_device.opd_id``) and its
    cable leads to a device that is not X's: the OPD's uplinks. Traffic inside the OPD
    (access port to host) is therefore not counted twice.
    """
    mine, peer_t = aliased(CableTermination), aliased(CableTermination)
    peer_if, peer_dev = aliased(Interface), aliased(Device)
    stmt = (select(Device.opd_id, SnmpInterface.id)
            .join(Device, Device.id == SnmpInterface.device_id)
            .join(mine, mine.interface_id == SnmpInterface.interface_id)
            .join(peer_t, (peer_t.cable_id == mine.cable_id) & (peer_t.id != mine.id))
            .join(peer_if, peer_if.id == peer_t.interface_id)
            .join(peer_dev, peer_dev.id == peer_if.device_id)
            .where(Device.opd_id.is_not(None))
            .where((peer_dev.opd_id.is_(None)) | (peer_dev.opd_id != Device.opd_id)))
    out: dict[int, list[int]] = defaultdict(list)
    for opd_id, sid in session.execute(stmt):
        out[int(opd_id)].append(int(sid))
    return {k: sorted(v) for k, v in out.items()}


def list_opd_bandwidth(session: Session) -> list[OpdBandwidth]:
    """Return every OPD with boundary interfaces: current in/out bps and its allocation."""
    mapping = opd_boundary_interfaces(session)
    if not mapping:
        return []
    rates = {s.snmp_interface_id: s for s in list_interface_status(
        session, interface_ids=[i for ids in mapping.values() for i in ids])}
    alloc: dict[int, int] = defaultdict(int)
    for opd_id, mbps in session.execute(
            select(BandwidthAllocation.opd_id, func.sum(BandwidthAllocation.committed_mbps))
            .group_by(BandwidthAllocation.opd_id)):
        alloc[int(opd_id)] = int(mbps or 0)
    out = []
    for opd in session.scalars(select(Opd).where(Opd.id.in_(list(mapping))).order_by(Opd.code)):
        ids = mapping[opd.id]
        out.append(OpdBandwidth(
            opd.id, opd.code, opd.name,
            sum(rates[i].in_bps or 0.0 for i in ids if i in rates),
            sum(rates[i].out_bps or 0.0 for i in ids if i in rates),
            alloc.get(opd.id) or None, ids))
    return out


def opd_series(session: Session, opd_id: int, start: TimeLike, end: TimeLike,
               resolution: Resolution = "auto") -> list[RatePoint]:
    """Return the summed rate series of an OPD's boundary interfaces."""
    ids = opd_boundary_interfaces(session).get(opd_id, [])
    buckets: dict[datetime, list[float]] = {}
    lo, hi = _epoch(start), _epoch(end)
    res = choose_resolution(lo, hi) if resolution == "auto" else resolution
    step = 60 if res == "raw" else int(res)
    for sid in ids:
        for p in interface_series(session, sid, lo, hi, res):  # type: ignore[arg-type]
            key = datetime.fromtimestamp(int(p.ts.timestamp()) // step * step, UTC)
            acc = buckets.setdefault(key, [0.0] * 8)
            for i, v in enumerate((p.in_bps, p.out_bps, p.in_bps_max, p.out_bps_max,
                                   p.in_errors_ps, p.out_errors_ps, p.in_discards_ps,
                                   p.out_discards_ps)):
                acc[i] += v
    return [RatePoint(ts, *vals) for ts, vals in sorted(buckets.items())]


# --- topology ---------------------------------------------------------------------------

def list_lldp_neighbours(session: Session, device_id: int | None = None) -> list[LldpNeighbour]:
    """Return LLDP neighbours as last polled (of one device)."""
    stmt = (select(SnmpLldpNeighbour, Device.name)
            .join(Device, Device.id == SnmpLldpNeighbour.device_id)
            .order_by(Device.name, SnmpLldpNeighbour.local_port_num))
    if device_id is not None:
        stmt = stmt.where(SnmpLldpNeighbour.device_id == device_id)
    return [LldpNeighbour(n.device_id, name, n.local_port, n.remote_sys_name, n.remote_port_id,
                          n.remote_port_descr, n.remote_chassis_id, n.remote_device_id,
                          _dt(n.updated_ts))  # type: ignore[arg-type]
            for n, name in session.execute(stmt)]


def list_topology_links(session: Session) -> list[TopologyLink]:
    """Return device-to-device links seen by LLDP, each once (a < b by device id)."""
    seen: dict[tuple[int, str, int, str], TopologyLink] = {}
    for n in list_lldp_neighbours(session):
        if n.remote_device_id is None:
            continue
        remote_port = n.remote_port_descr or n.remote_port_id
        a, b = (n.device_id, n.local_port), (n.remote_device_id, remote_port)
        if a > b:
            a, b = b, a
        seen.setdefault((a[0], a[1], b[0], b[1]), TopologyLink(a[0], a[1], b[0], b[1]))
    return sorted(seen.values(), key=lambda link: (link.a_device_id, link.a_port))


__all__ = [
    "DeviceReachability",
    "HostPoint",
    "HostResources",
    "InterfaceStatus",
    "LldpNeighbour",
    "OpdBandwidth",
    "RatePoint",
    "RateSummary",
    "StatusChange",
    "StorageUse",
    "TopologyLink",
    "choose_resolution",
    "find_interface",
    "get_device_reachability",
    "get_interface_status",
    "host_series",
    "interface_series",
    "list_device_reachability",
    "list_host_resources",
    "list_interface_status",
    "list_lldp_neighbours",
    "list_opd_bandwidth",
    "list_status_changes",
    "list_topology_links",
    "opd_boundary_interfaces",
    "opd_series",
    "rate_summaries_since",
]
