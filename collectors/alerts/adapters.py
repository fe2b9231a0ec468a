"""The real MetricSource: the SNMP and flow collectors' published query modules.

``collectors.snmp.queries`` gives device reachability, interface status and rates,
host resources and per-OPD boundary traffic; ``collectors.flows.queries`` per-OPD
traffic and flow volume series. Either may be missing (a part not installed): its
values are then simply absent and the rules that need them observe nothing.

Anomaly series (kept small on purpose: 28 days of hourly points per series):
``snmp:opd:<id>`` (an OPD's boundary interfaces summed, larger direction),
``snmp:if:<id>`` (each of those uplink interfaces), ``flow:opd:<id>`` (an OPD's flow
volume) and ``flow:total`` (all flows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.alerts.sources import (
    DeviceState,
    HostResources,
    InterfaceRate,
    InterfaceState,
    OpdRate,
    Point,
    SeriesRef,
    Where,
)
from simpul.plugins import optional_import

DOWN = ("down", "lowerLayerDown")
RATE_MAX_AGE = timedelta(minutes=10)
FLOW_WINDOW = timedelta(minutes=5)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class CollectorSource:
    """Reads the collectors' query modules (looked up once, at construction)."""

    def __init__(self, snmp: ModuleType | None = None, flows: ModuleType | None = None) -> None:
        self.snmp = snmp if snmp is not None else optional_import("collectors.snmp.queries")
        self.flows = flows if flows is not None else optional_import("collectors.flows.queries")

    # --- inventory context -----------------------------------------------------------

    @staticmethod
    def _where(session: Session) -> dict[int, Where]:
        from inventory.models import Device, Site
        from simpul.models import Opd

        rows = session.execute(select(Device.id, Device.name, Site.slug, Opd.code)
                               .join(Site, Site.id == Device.site_id)
                               .outerjoin(Opd, Opd.id == Device.opd_id))
        return {i: Where(name, slug, code or "") for i, name, slug, code in rows}

    # --- current values --------------------------------------------------------------

    def devices(self, session: Session, now: datetime) -> Sequence[DeviceState]:
        if self.snmp is None:
            return []
        where = self._where(session)
        return [DeviceState(d.device_name, d.reachable,
                            where.get(d.device_id, Where(d.device_name)), d.last_success,
                            d.address)
                for d in self.snmp.list_device_reachability(session)]

    def interfaces(self, session: Session, now: datetime) -> Sequence[InterfaceState]:
        if self.snmp is None:
            return []
        where = self._where(session)
        return [InterfaceState(i.device_name, i.name, i.oper_status not in DOWN,
                               i.admin_status != "down",
                               where.get(i.device_id, Where(i.device_name)), i.alias,
                               i.last_change)
                for i in self.snmp.list_interface_status(session)
                if i.oper_status and i.admin_status]

    def interface_rates(self, session: Session, now: datetime) -> Sequence[InterfaceRate]:
        if self.snmp is None:
            return []
        where = self._where(session)
        out = []
        for i in self.snmp.list_interface_status(session):
            if i.rate_at is None or now - i.rate_at > RATE_MAX_AGE or i.in_bps is None:
                continue
            out.append(InterfaceRate(
                i.device_name, i.name, i.in_bps or 0.0, i.out_bps or 0.0, i.speed_bps,
                i.in_errors_ps or 0.0, i.out_errors_ps or 0.0, i.in_discards_ps or 0.0,
                i.out_discards_ps or 0.0, where.get(i.device_id, Where(i.device_name))))
        return out

    def host_resources(self, session: Session, now: datetime) -> Sequence[HostResources]:
        if self.snmp is None:
            return []
        where = self._where(session)
        out = []
        for h in self.snmp.list_host_resources(session):
            if now - h.at > RATE_MAX_AGE:
                continue
            disks = {s.descr: round(s.used_pct, 2) for s in h.storages
                     if s.kind == "disk" and s.used_pct is not None}
            out.append(HostResources(h.device_name, h.cpu_pct, h.mem_pct, disks,
                                     where.get(h.device_id, Where(h.device_name))))
        return out

    def opd_rates(self, session: Session, now: datetime) -> Sequence[OpdRate]:
        out: list[OpdRate] = []
        seen: set[str] = set()
        if self.snmp is not None:
            for b in self.snmp.list_opd_bandwidth(session):
                out.append(OpdRate(b.code, b.peak_bps, "SNMP boundary interfaces"))
                seen.add(b.code.upper())
        if self.flows is not None:
            until = _minute(now)
            for t in self.flows.opd_traffic(session, since=until - FLOW_WINDOW, until=until,
                                            with_peak=False):
                if t.opd_code.upper() not in seen:
                    out.append(OpdRate(t.opd_code, t.avg_bps, "flows, 5-minute average"))
        return out

    # --- series for anomaly detection ------------------------------------------------

    def anomaly_series(self, session: Session, now: datetime) -> Sequence[SeriesRef]:
        from simpul.models import Opd

        codes = {o.id: o.code for o in session.scalars(select(Opd))}
        refs: list[SeriesRef] = []
        if self.snmp is not None:
            boundary = self.snmp.opd_boundary_interfaces(session)
            where = self._where(session)
            for opd_id in sorted(boundary):
                code = codes.get(opd_id, str(opd_id))
                refs.append(SeriesRef(f"snmp:opd:{opd_id}", f"{code} bandwidth (SNMP)", "bps",
                                      Where(opd=code)))
            uplinks = [i for ids in boundary.values() for i in ids]
            for i in self.snmp.list_interface_status(session, interface_ids=uplinks):
                refs.append(SeriesRef(f"snmp:if:{i.snmp_interface_id}",
                                      f"{i.device_name} {i.name}", "bps",
                                      where.get(i.device_id, Where(i.device_name))))
        if self.flows is not None:
            refs.append(SeriesRef("flow:total", "total flow volume", "bps"))
            until = _minute(now)
            for t in self.flows.opd_traffic(session, since=until - timedelta(days=1),
                                            until=until, with_peak=False):
                refs.append(SeriesRef(f"flow:opd:{t.opd_id}", f"{t.opd_code} flow volume",
                                      "bps", Where(opd=t.opd_code)))
        return refs

    def series(self, session: Session, key: str, since: datetime, until: datetime
               ) -> Sequence[Point]:
        hourly = until - since > timedelta(hours=6)
        parts = key.split(":")
        if parts[0] == "snmp" and self.snmp is not None and len(parts) == 3:
            series = self.snmp.opd_series if parts[1] == "opd" else self.snmp.interface_series
            points: list[Any] = series(session, int(parts[2]), since, until,
                                       3600 if hourly else "raw")
            return [(p.ts, max(p.in_bps, p.out_bps)) for p in points]
        if parts[0] == "flow" and self.flows is not None:
            step = 3600 if hourly else 60
            lo = since.astimezone(UTC).replace(second=0, microsecond=0)
            hi = _minute(until.astimezone(UTC))
            if hourly:
                lo, hi = lo.replace(minute=0), hi.replace(minute=0)
            if hi <= lo:
                return []
            opd_id = int(parts[2]) if len(parts) == 3 and parts[1] == "opd" else None
            vols = self.flows.flow_volume_series(session, since=lo, until=hi, step=step,
                                                 opd_id=opd_id)
            # Steps before the collector saw anything are zeros, not quiet hours: drop them.
            first = next((n for n, v in enumerate(vols) if v.bytes), len(vols))
            return [(v.ts, v.bps) for v in vols[first:]] if hourly else \
                [(v.ts, v.bps) for v in vols]
        return []
