"""Preventive maintenance: recurring warnings per device, ranked, with what to do.

Seed 001 asks for log management "also for preventive maintenance": a disk that keeps
warning, a fan or power supply that keeps complaining, a link that keeps flapping are
failures announcing themselves. Once a day (or on demand) we count warning-or-worse
events per device and problem class over the period, keep those that recur, and rank
them by how often, how severe, and how critical the device is.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from siem.models import SiemEvent

SCAN_LIMIT = 200_000
CLASSES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("disk", re.compile(r"\b(disk|filesystem|file system|no space|smart|i/o error|"
                        r"ext4-fs|xfs|raid|md\d|sector|read-only)\b", re.I),
     "Check disk health (SMART, RAID state) and free space; plan a replacement before it "
     "fails."),
    ("fan_power", re.compile(r"\b(fan|power supply|psu|pwr|envmon|temperature|overheat|"
                             r"thermal|voltage|ups)\b", re.I),
     "Inspect fans, power supplies and room temperature; replace the failing unit and "
     "check the UPS/power feed."),
    ("memory", re.compile(r"\b(memory|mallocfail|out of memory|oom|ecc|swap)\b", re.I),
     "Check memory usage and leaks (process list, ECC errors); schedule a restart or "
     "upgrade during a maintenance window."),
    ("link_flap", re.compile(r"\b(updown|changed state to (up|down)|link (up|down)|"
                             r"carrier|flap|neighbor down|adjchange)\b", re.I),
     "Check the cable, optics and port counters (CRC, duplex); replace the patch cord or "
     "transceiver; ask the provider about the circuit."),
    ("errors", re.compile(r".", re.S),
     "Read the device's recent errors and open a work order for the team that owns it."),
)
ACTIONS = {name: action for name, _, action in CLASSES}
LINK_ACTIONS = ("link_down", "link_up", "line_protocol_down", "line_protocol_up",
                "ospf_neighbor_down", "bgp_neighbor_down")
CRITICALITY_WEIGHT = {"critical": 3.0, "high": 2.0, "medium": 1.0, "low": 0.5}


def classify(message: str, action: str | None) -> str:
    """The problem class of one warning."""
    if action in LINK_ACTIONS:
        return "link_flap"
    for name, pattern, _ in CLASSES:
        if pattern.search(message or ""):
            return name
    return "errors"


@dataclass
class MaintenanceItem:
    """One recurring problem on one device."""

    device: str
    problem: str
    count: int
    worst_severity: int
    first_seen: str
    last_seen: str
    criticality: str
    score: float
    action: str
    examples: list[str] = field(default_factory=list)


def maintenance_report(session: Session, *, days: int = 1, min_count: int = 2,
                       now: datetime | None = None, scope_opd: str | None = None
                       ) -> dict[str, Any]:
    """The ranked report for the last *days* days (JSON-able)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    stmt = (select(SiemEvent.host_name, SiemEvent.action, SiemEvent.severity,
                   SiemEvent.message, SiemEvent.timestamp, SiemEvent.doc)
            .where(SiemEvent.timestamp >= since, SiemEvent.timestamp < now,
                   SiemEvent.host_name.is_not(None),
                   or_(SiemEvent.severity <= 4, SiemEvent.action.in_(LINK_ACTIONS)))
            .order_by(SiemEvent.timestamp).limit(SCAN_LIMIT))
    if scope_opd is not None:
        stmt = stmt.where(cast(SiemEvent.doc["host.asset.opd"].as_string(), String)
                          == scope_opd)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    scanned = 0
    for host, action, severity, message, stamp, doc in session.execute(stmt):
        scanned += 1
        problem = classify(message, action)
        if problem == "errors" and (severity is None or severity > 3):
            continue  # plain warnings of no known class are noise in this report
        key = (host, problem)
        g = groups.get(key)
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        if g is None:
            g = groups[key] = {"count": 0, "worst": 7, "first": stamp, "last": stamp,
                               "crit": (doc or {}).get("host.asset.criticality") or "medium",
                               "examples": []}
        g["count"] += 1
        g["worst"] = min(g["worst"], severity if severity is not None else 7)
        g["last"] = stamp
        if len(g["examples"]) < 3 and message and message not in g["examples"]:
            g["examples"].append(message[:200])
    items = []
    for (host, problem), g in groups.items():
        if g["count"] < min_count:
            continue
        score = g["count"] * (8 - g["worst"]) * CRITICALITY_WEIGHT.get(str(g["crit"]), 1.0)
        items.append(MaintenanceItem(
            device=host, problem=problem, count=g["count"], worst_severity=g["worst"],
            first_seen=g["first"].isoformat(timespec="seconds"),
            last_seen=g["last"].isoformat(timespec="seconds"), criticality=str(g["crit"]),
            score=round(score, 1), action=ACTIONS[problem], examples=g["examples"]))
    items.sort(key=lambda i: (-i.score, i.device, i.problem))
    return {"generated": now.isoformat(timespec="seconds"),
            "since": since.isoformat(timespec="seconds"), "days": days,
            "events_scanned": scanned, "truncated": scanned >= SCAN_LIMIT,
            "items": [asdict(i) for i in items]}
