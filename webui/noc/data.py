"""What the NOC screens show, as JSON-ready dicts built from the collectors' query APIs.

One function per screen, used by the page (first paint) and its JSON endpoint (live
updates), so the wall and the API never disagree. Everything here only reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from collectors.alerts.service import list_alerts
from collectors.flows import queries as flows
from collectors.probes.models import Probe, ProbeResult
from collectors.snmp import queries as snmp
from simpul.models import User
from webui.noc import topology

TALKER_WINDOW = timedelta(minutes=15)
SERVICE_WINDOW = timedelta(hours=24)
SEVERITY_ORDER = {"critical": 0, "major": 1, "warning": 2, "minor": 3, "info": 4}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def device_states(session: Session) -> dict[int, dict[str, Any]]:
    """device id -> reachability and resources; devices never polled are absent."""
    states: dict[int, dict[str, Any]] = {}
    for r in snmp.list_device_reachability(session):
        states[r.device_id] = {"status": "up" if r.reachable else "down",
                               "last_poll": _iso(r.last_poll), "error": r.last_error,
                               "uptime_s": _r(r.uptime_seconds, 0)}
    for h in snmp.list_host_resources(session):
        states.setdefault(h.device_id, {"status": "unknown"}).update(
            cpu_pct=_r(h.cpu_pct), mem_pct=_r(h.mem_pct), disk_pct=_r(h.disk_max_pct))
    return states


def _link_status(ifs: dict[tuple[int, str], str], link: topology.Link) -> str:
    ends = [ifs.get((link.a, link.a_port)), ifs.get((link.b, link.b_port))]
    if "down" in ends:
        return "down"
    return "up" if "up" in ends else "unknown"


def topology_map(session: Session, states: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Nodes with position and status, links with status (an end down = link down)."""
    lldp = [(link.a_device_id, link.a_port, link.b_device_id, link.b_port)
            for link in snmp.list_topology_links(session)]
    nodes, links = topology.build(session, lldp)
    ifs = {(i.device_id, i.name): i.oper_status for i in snmp.list_interface_status(session)}
    return {
        "width": topology.WIDTH, "height": topology.height(nodes),
        "nodes": [{"id": n.id, "name": n.name, "role": n.role, "site": n.site, "x": n.x,
                   "y": n.y, "status": states.get(n.id, {}).get("status", "unknown")}
                  for n in nodes],
        "links": [{"a": link.a, "b": link.b, "a_port": link.a_port, "b_port": link.b_port,
                   "source": link.source, "status": _link_status(ifs, link)}
                  for link in links],
    }


def current_alerts(session: Session, user: User, limit: int = 25) -> list[dict[str, Any]]:
    """Alerts not resolved yet, most severe and newest first."""
    rows = [a for a in list_alerts(session, user) if a.state in ("firing", "acknowledged")]
    rows.sort(key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), -a.fired_at.timestamp()))
    return [{"id": a.id, "severity": a.severity, "state": a.state, "title": a.title,
             "device": a.device, "service": a.service, "fired_at": _iso(a.fired_at),
             "flapping": a.flapping} for a in rows[:limit]]


def talkers(session: Session, now: datetime, limit: int = 8) -> dict[str, list[dict[str, Any]]]:
    """Top talkers of the last 15 minutes by source, destination and service."""
    since = now - TALKER_WINDOW
    found = {}
    for by in ("source", "destination", "service"):
        found[by] = [{"key": t.key, "label": t.label, "bps": _r(t.bps, 0), "bytes": t.bytes,
                      "opd": t.opd_code or ""}
                     for t in flows.top_talkers(session, by=by, since=since, until=now,
                                                limit=limit)]
    return found


def opd_bandwidth(session: Session) -> list[dict[str, Any]]:
    """Each OPD's current rate against its committed allocation, fullest first."""
    rows = [{"code": o.code, "name": o.name, "in_bps": _r(o.in_bps, 0),
             "out_bps": _r(o.out_bps, 0), "allocation_mbps": o.allocation_mbps,
             "pct": _r(o.allocation_pct)} for o in snmp.list_opd_bandwidth(session)]
    rows.sort(key=lambda r: -(r["pct"] or 0))
    return rows


def services(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every enabled probe: its latest result and availability over 24 hours."""
    since = now - SERVICE_WINDOW
    stats = dict((pid, (ok, total)) for pid, ok, total in session.execute(
        select(ProbeResult.probe_id,
               func.sum(case((ProbeResult.ok.is_(True), 1), else_=0)), func.count())
        .where(ProbeResult.at >= since).group_by(ProbeResult.probe_id)).all())
    latest_at = (select(ProbeResult.probe_id, func.max(ProbeResult.at).label("at"))
                 .group_by(ProbeResult.probe_id).subquery())
    latest = {r.probe_id: r for r in session.scalars(
        select(ProbeResult).join(latest_at, (latest_at.c.probe_id == ProbeResult.probe_id)
                                 & (latest_at.c.at == ProbeResult.at)))}
    rows = []
    for probe in session.scalars(select(Probe).where(Probe.enabled.is_(True))
                                 .order_by(Probe.service, Probe.name)):
        ok, total = stats.get(probe.id, (0, 0))
        last = latest.get(probe.id)
        rows.append({"name": probe.name, "service": probe.service, "kind": probe.kind,
                     "opd": probe.opd.code if probe.opd else "",
                     "up": None if last is None else bool(last.ok),
                     "rtt_ms": _r(last.rtt_ms) if last else None,
                     "detail": last.detail if last else "",
                     "availability_pct": _r(100.0 * ok / total, 2) if total else None})
    return rows


def wallboard(session: Session, user: User, now: datetime) -> dict[str, Any]:
    """Everything the operation-room wall shows, in one document."""
    states = device_states(session)
    topo = topology_map(session, states)
    counts = {"up": 0, "down": 0, "unknown": 0}
    for node in topo["nodes"]:
        counts[node["status"]] += 1
    alerts = current_alerts(session, user)
    return {"generated_at": now.isoformat(), "devices": counts, "topology": topo,
            "alerts": alerts, "alert_counts": _alert_counts(alerts),
            "talkers": talkers(session, now), "opds": opd_bandwidth(session),
            "services": services(session, now)}


def _alert_counts(alerts: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert["severity"]] = counts.get(alert["severity"], 0) + 1
    return counts


def device_detail(session: Session, device_id: int) -> dict[str, Any]:
    """One device: its state, resources and every polled interface's latest rates."""
    states = device_states(session)
    interfaces = [{"id": i.snmp_interface_id, "name": i.name, "alias": i.alias,
                   "admin": i.admin_status, "oper": i.oper_status, "speed_bps": i.speed_bps,
                   "in_bps": _r(i.in_bps, 0), "out_bps": _r(i.out_bps, 0),
                   "in_util_pct": _r(i.in_util_pct), "out_util_pct": _r(i.out_util_pct),
                   "errors_ps": _r((i.in_errors_ps or 0) + (i.out_errors_ps or 0), 3),
                   "last_change": _iso(i.last_change)}
                  for i in snmp.list_interface_status(session, device_id)]
    return {"state": states.get(device_id, {"status": "unknown"}), "interfaces": interfaces}


def interface_graph(session: Session, snmp_interface_id: int, start: datetime,
                    end: datetime) -> dict[str, Any]:
    """Columns for the chart: epoch seconds, in and out bits/s (averages and peaks)."""
    points = snmp.interface_series(session, snmp_interface_id, start, end)
    return {"t": [int(p.ts.timestamp()) for p in points],
            "in_bps": [p.in_bps for p in points], "out_bps": [p.out_bps for p in points],
            "in_bps_max": [p.in_bps_max for p in points],
            "out_bps_max": [p.out_bps_max for p in points]}
