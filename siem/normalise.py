"""From a spooled record to a normalised event: flat ECS-style dotted keys.

Events are plain dicts (``event["source.ip"]``) so enrichment, the rule engine and the
query layer can read any field without a schema object in between; ``to_nested`` turns
one into the nested ECS JSON shape for the API.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from siem.parsers import parse_message, parse_syslog
from siem.parsers.syslog import facility_name, severity_name
from siem.spool import FLAG_FRAMING_ERROR, FLAG_TRUNCATED, Record

Event = dict[str, Any]

MAX_FUTURE = timedelta(days=1)
MAX_PAST = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class NormaliseOptions:
    """What normalisation needs besides the record."""

    epoch: str = ""
    tz: tzinfo = UTC


def event_id_for(rec: Record, epoch: str) -> str:
    """Return the stable ``event.id``: from the spool position, or the file origin + content.

    The same record re-delivered after a crash (same epoch and position), or the same
    file line imported twice (same device, inode, offset and bytes), gets the same id.
    """
    h = hashlib.blake2b(digest_size=16)
    if rec.origin:
        # "file:<dev>:<inode>:<offset>|<path>": the path is informative only, so a line
        # read by the tailer and later imported from the rotated file has one id.
        h.update(rec.origin.split("|", 1)[0].encode())
        h.update(b"\x00")
        h.update(rec.raw)
    else:
        h.update(f"spool:{epoch}:{rec.pos}".encode())
    return h.hexdigest()


def raw_text(raw: bytes) -> tuple[str, str]:
    """Return the raw line as stored: UTF-8 text when it is clean, else base64 (lossless)."""
    if b"\x00" not in raw:
        try:
            return raw.decode("utf-8"), "utf8"
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), "base64"


def _related(event: Event) -> None:
    ips: list[str] = []
    for key in ("source.ip", "destination.ip", "host.ip", "observer.ip"):
        value = event.get(key)
        if value and value not in ips:
            ips.append(value)
    if ips:
        event["related.ip"] = ips
    users = [u for u in (event.get("user.name"), event.get("user.effective.name")) if u]
    if users:
        event["related.user"] = list(dict.fromkeys(users))


# PRI (0-191) -> the six header fields it gives; built on first use, never changed.
_PRIORITY_FIELDS: dict[int, dict[str, Any]] = {}
# The last arrival time converted (records of one read share it); one tuple, replaced
# whole, so threads normalising at once never see a mismatched pair.
_RECEIVED: tuple[float, datetime] = (0.0, datetime.fromtimestamp(0, UTC))


def _received(stamp: float) -> datetime:
    global _RECEIVED
    last = _RECEIVED
    if last[0] == stamp:
        return last[1]
    value = datetime.fromtimestamp(stamp, UTC)
    _RECEIVED = (stamp, value)
    return value


def normalise(rec: Record, options: NormaliseOptions) -> Event:
    """Parse *rec* and return its normalised event (never raises on any input)."""
    received = _received(rec.received)
    msg = parse_syslog(rec.raw, received, tz=options.tz,
                       require_pri=rec.transport not in ("file", "ingest"))
    tags: list[str] = []
    event: Event = {
        "event.id": event_id_for(rec, options.epoch),
        "event.kind": "event",
        "event.created": received,
        "event.module": "syslog",
        "event.dataset": "syslog.generic",
        "message": msg.message,
        "input.type": rec.transport or "unknown",
    }
    if rec.peer_ip:
        event["host.ip"] = rec.peer_ip
        event["log.source.address"] = f"{rec.peer_ip}:{rec.peer_port}"
    if "|" in rec.origin:
        event["log.file.path"] = rec.origin.split("|", 1)[1]
    host = msg.hostname or rec.peer_ip or None
    if host:
        event["host.name"] = host
    if msg.priority is not None:
        fields = _PRIORITY_FIELDS.get(msg.priority)
        if fields is None:
            fields = _PRIORITY_FIELDS[msg.priority] = {
                "log.syslog.priority": msg.priority,
                "log.syslog.facility.code": msg.facility,
                "log.syslog.facility.name": facility_name(msg.facility),
                "log.syslog.severity.code": msg.severity,
                "log.syslog.severity.name": severity_name(msg.severity),
                "event.severity": msg.severity,
            }
        event.update(fields)
    event["log.syslog.format"] = msg.format
    if msg.version is not None:
        event["log.syslog.version"] = msg.version
    if msg.app_name:
        event["log.syslog.appname"] = msg.app_name
        event["process.name"] = msg.app_name
    if msg.procid:
        event["log.syslog.procid"] = msg.procid
        if msg.procid.isdigit() and len(msg.procid) < 10:
            event["process.pid"] = int(msg.procid)
    if msg.msgid:
        event["log.syslog.msgid"] = msg.msgid
    if msg.structured_data:
        event["log.syslog.structured_data"] = msg.structured_data
    if msg.hostname:
        event["log.syslog.hostname"] = msg.hostname
    timestamp = msg.timestamp
    try:
        fields = parse_message(msg) if msg.message else None
    except Exception as exc:  # a parser bug must never lose the line
        fields = None
        msg.errors.append(f"parser error: {type(exc).__name__}")
    if fields:
        stamp = fields.pop("@timestamp", None)
        if isinstance(stamp, datetime) and timestamp is None:
            timestamp = stamp
        extra_tags = fields.pop("tags", None)
        if extra_tags:
            tags.extend(extra_tags)
        event.update(fields)
    else:
        tags.append("unparsed")
    if timestamp is None:
        timestamp = received
    elif timestamp - received > MAX_FUTURE or received - timestamp > MAX_PAST:
        event["log.syslog.original_timestamp"] = timestamp.isoformat()
        timestamp = received
        tags.append("timestamp_out_of_range")
    event["@timestamp"] = timestamp.astimezone(UTC)
    if msg.errors:
        tags.append("parse_error")
        event["error.message"] = "; ".join(msg.errors)
    if rec.flags & FLAG_TRUNCATED:
        tags.append("truncated")
    if rec.flags & FLAG_FRAMING_ERROR:
        tags.append("framing_error")
    if tags:
        event["tags"] = tags
    _related(event)
    return event


def is_parsed(event: Event) -> bool:
    """True when a source parser recognised the line (not just its syslog header)."""
    return "unparsed" not in event.get("tags", ())


def to_nested(event: Event) -> dict[str, Any]:
    """Return *event* as nested ECS JSON (``{"source": {"ip": ...}}``) for API output."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        if key.startswith("@"):
            out[key] = value
            continue
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else {"value": child}
                node[part] = child
            node = child
        if isinstance(node.get(parts[-1]), dict):
            node[parts[-1]]["value"] = value
        else:
            node[parts[-1]] = value
    return out
