"""Firewalls: FortiGate key=value logs and iptables/nftables LOG-target lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from siem.parsers.base import LEVELS, Fields, is_ip, key_values
from siem.parsers.syslog import SyslogMessage

_PROTO = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "47": "gre", "50": "esp"}
_DENY = frozenset({"deny", "drop", "blocked", "block", "reject", "dropped"})
_FGT_COPY = {
    "srcip": "source.ip", "dstip": "destination.ip", "srcintf": "observer.ingress.interface.name",
    "dstintf": "observer.egress.interface.name", "devname": "observer.name",
    "devid": "observer.serial_number", "policyid": "rule.id", "service": "network.protocol",
    "logdesc": "event.reason", "msg": "message", "user": "user.name", "vd": "fortinet.vdom",
    "logid": "event.code", "type": "fortinet.type", "subtype": "fortinet.subtype",
    "attack": "threat.technique.name", "srcmac": "source.mac", "sentbyte": "source.bytes",
    "rcvdbyte": "destination.bytes", "srcport": "source.port", "dstport": "destination.port",
}
_INTS = {"rule.id", "source.port", "destination.port", "source.bytes", "destination.bytes"}
_FGT_TZ = re.compile(r"([+-])(\d\d):?(\d\d)$")


def _fgt_time(kv: dict[str, str]) -> datetime | None:
    date, time = kv.get("date"), kv.get("time")
    if not date or not time:
        return None
    tz = UTC
    m = _FGT_TZ.match(kv.get("tz", ""))
    if m:
        sign = -1 if m.group(1) == "-" else 1
        tz = timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=tz)
    except ValueError:
        return None


def parse_fortigate(msg: SyslogMessage) -> Fields | None:
    """FortiOS ``key=value`` logs: traffic allow/deny, admin logins, UTM detections."""
    text = msg.message
    if "logid=" not in text or ("devname=" not in text and "devid=" not in text):
        return None
    kv = key_values(text)
    out: Fields = {"event.module": "fortinet", "event.dataset": "fortinet.firewall",
                   "observer.vendor": "Fortinet", "observer.product": "FortiGate",
                   "observer.type": "firewall"}
    for key, field in _FGT_COPY.items():
        value = kv.get(key)
        if value:
            if field in _INTS:
                if value.isdigit():
                    out[field] = int(value)
            else:
                out[field] = value
    if "level" in kv and kv["level"] in LEVELS:
        out["event.severity"] = LEVELS[kv["level"]]
    if kv.get("proto"):
        out["network.transport"] = _PROTO.get(kv["proto"], kv["proto"])
    when = _fgt_time(kv)
    if when is not None:
        out["@timestamp"] = when
    action, kind = kv.get("action", ""), kv.get("type", "")
    if kind == "traffic":
        deny = action in _DENY
        out.update({"event.action": "firewall_deny" if deny else "firewall_allow",
                    "event.category": ["network"],
                    "event.type": ["connection", "denied" if deny else "allowed"],
                    "event.outcome": "failure" if deny else "success",
                    "fortinet.action": action})
    elif action == "login" or "login" in kv.get("logdesc", "").lower():
        ok = kv.get("status", "") == "success"
        out.update({"event.action": "login", "event.category": ["authentication"],
                    "event.outcome": "success" if ok else "failure"})
        ui = re.search(r"\(([^)]+)\)", kv.get("ui", ""))
        if "source.ip" not in out and ui and is_ip(ui.group(1)):
            out["source.ip"] = ui.group(1)
    elif kind == "utm":
        out.update({"event.action": f"utm_{kv.get('subtype', 'event')}",
                    "event.category": ["intrusion_detection"],
                    "event.outcome": "failure" if action in _DENY else "unknown",
                    "fortinet.action": action})
    else:
        out.update({"event.action": kv.get("action") or kv.get("subtype") or "fortinet_event",
                    "event.category": ["host"]})
    return out


_NF_KEYS = re.compile(r"\b(IN|OUT|SRC|DST|PROTO|SPT|DPT|MAC|LEN|TTL)=(\S*)")
_NF_PREFIX = re.compile(r"^(?:\[\s*\d+\.\d+\] )?(?P<prefix>.*?)\s*IN=")


def parse_netfilter(msg: SyslogMessage) -> Fields | None:
    """Kernel LOG lines from iptables/nftables (``IN= OUT= SRC= DST= PROTO= SPT= DPT=``)."""
    text = msg.message
    if "SRC=" not in text or "IN=" not in text:
        return None
    kv = dict(_NF_KEYS.findall(text))
    if "SRC" not in kv or "DST" not in kv:
        return None
    m = _NF_PREFIX.search(text)
    prefix = m.group("prefix").strip() if m else ""
    low = prefix.lower()
    allow = any(w in low for w in ("accept", "allow", "permit"))
    out: Fields = {"event.module": "netfilter", "event.dataset": "netfilter.log",
                   "event.category": ["network"], "source.ip": kv["SRC"],
                   "destination.ip": kv["DST"], "observer.type": "firewall",
                   "event.action": "firewall_allow" if allow else "firewall_deny",
                   "event.outcome": "success" if allow else "failure",
                   "event.type": ["connection", "allowed" if allow else "denied"]}
    if prefix:
        out["rule.name"] = prefix.rstrip(":").strip()
    if kv.get("IN"):
        out["observer.ingress.interface.name"] = kv["IN"]
    if kv.get("OUT"):
        out["observer.egress.interface.name"] = kv["OUT"]
    if kv.get("PROTO"):
        out["network.transport"] = kv["PROTO"].lower()
    for key, field in (("SPT", "source.port"), ("DPT", "destination.port")):
        if kv.get(key, "").isdigit():
            out[field] = int(kv[key])
    return out
