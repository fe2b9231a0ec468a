"""simpul's own alerts and NAC decisions, as JSON inside RFC 5424 syslog.

Shape (APP-NAME ``simpul``, MSGID ``alert``, ``nac`` or ``event``, MSG one JSON object)::

    <PRI>1 2024-11-23T10:15:01.123Z simpul-1 simpul 4242 nac - {"decision": "reject", ...}

NAC keys: ``decision`` (accept/reject/quarantine), ``mac``, ``user``, ``nas_ip``,
``nas_port``, ``vlan``, ``reason``, ``opd``. Alert keys: ``rule``, ``severity``
(critical/high/medium/low/info), ``title``, ``source_ip``, ``host``, ``incident``.
``event`` carries any flat ECS-style event another part of simpul built (see
``siem.submit``). ``format_simpul_syslog`` writes the shape, so emitters and the
parser cannot drift.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from typing import Any

from siem.parsers.base import Fields, is_ip, norm_mac
from siem.parsers.syslog import SyslogMessage

ALERT_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
_PRI = {"alert": (13 << 3), "nac": (10 << 3), "event": (13 << 3)}  # log audit / authpriv
_FIELD = re.compile(r"^[A-Za-z@_][\w.@-]{0,99}$")
_RESERVED = frozenset({"event.id", "event.created", "@timestamp", "input.type", "host.ip",
                       "log.source.address"})


def format_simpul_syslog(kind: str, data: dict[str, Any], *, hostname: str = "simpul",
                         severity: int = 5, when: datetime | None = None) -> bytes:
    """Return one RFC 5424 line carrying *data* as a simpul ``alert`` or ``nac`` event."""
    if kind not in _PRI:
        raise ValueError(f"unknown simpul event kind {kind!r}")
    stamp = (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")
    body = json.dumps(data, separators=(",", ":"), sort_keys=True, default=str)
    pri = _PRI[kind] + max(0, min(7, severity))
    return (f"<{pri}>1 {stamp.replace('+00:00', 'Z')} {hostname} simpul {os.getpid()} "
            f"{kind} - {body}").encode()


def parse_simpul(msg: SyslogMessage) -> Fields | None:
    """Parse a simpul alert or NAC decision; None when the body is not the JSON shape."""
    text = msg.message.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    kind = (msg.msgid or data.get("kind") or "").lower()
    if kind == "nac":
        return _nac(data)
    if kind == "alert":
        return _alert(data)
    if kind == "event":
        return _event(data)
    return None


def _event(data: dict[str, Any]) -> Fields:
    """A flat ECS-style event built by another simpul part (``siem.submit.submit_event``).

    Only well-formed field names with scalar or list values are kept; the ids and
    arrival times stay the pipeline's own. ``@timestamp`` is honoured as the event time.
    """
    out: Fields = {"event.module": "simpul", "event.dataset": "simpul.event"}
    for key, value in data.items():
        if not isinstance(key, str) or not _FIELD.match(key) or key in _RESERVED:
            continue
        if isinstance(value, str | int | float | bool) or value is None:
            out[key] = value
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            out[key] = value[:100]
    stamp = data.get("@timestamp")
    if isinstance(stamp, str):
        try:
            parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            out["@timestamp"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return out


def _nac(data: dict[str, Any]) -> Fields:
    decision = str(data.get("decision", "")).lower()
    out: Fields = {"event.module": "simpul", "event.dataset": "simpul.nac",
                   "event.action": "nac_decision", "event.category": ["network", "iam"],
                   "event.outcome": "success" if decision == "accept" else "failure",
                   "nac.decision": decision}
    mac = norm_mac(str(data.get("mac") or ""))
    if mac:
        out["source.mac"] = mac
    if data.get("user"):
        out["user.name"] = str(data["user"])
    if is_ip(str(data.get("nas_ip") or "")):
        out["observer.ip"] = str(data["nas_ip"])
    for key in ("nas_port", "vlan", "reason", "opd"):
        if data.get(key) not in (None, ""):
            out[f"nac.{key}"] = data[key]
    if data.get("reason"):
        out["event.reason"] = str(data["reason"])
    return out


def _alert(data: dict[str, Any]) -> Fields:
    level = str(data.get("severity", "medium")).lower()
    out: Fields = {"event.module": "simpul", "event.dataset": "simpul.alert",
                   "event.kind": "alert", "event.action": "alert",
                   "event.category": ["intrusion_detection"],
                   "event.severity": ALERT_SEVERITY.get(level, 4), "simpul.alert.severity": level}
    if data.get("rule"):
        out["rule.name"] = str(data["rule"])
    if data.get("title"):
        out["message"] = str(data["title"])
    if is_ip(str(data.get("source_ip") or "")):
        out["source.ip"] = str(data["source_ip"])
    if data.get("host"):
        out["simpul.alert.host"] = str(data["host"])
    if data.get("incident") is not None:
        out["simpul.alert.incident"] = data["incident"]
    return out
