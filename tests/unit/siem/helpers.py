"""Turn a literal log line into a normalised event the way the writer does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from siem.normalise import NormaliseOptions, normalise
from siem.spool import Record

RECEIVED = datetime(2024, 11, 23, 10, 15, 30, tzinfo=UTC)


def event_of(line: str | bytes, *, transport: str = "udp", peer: str = "192.0.2.1",
             pos: int = 0, flags: int = 0) -> dict[str, Any]:
    """Return the normalised event for one received line."""
    raw = line.encode() if isinstance(line, str) else line
    rec = Record(raw, RECEIVED.timestamp(), transport, peer, 514, "", flags, pos)
    return normalise(rec, NormaliseOptions(epoch="test"))


def subset(event: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Return the part of *event* named in *expected* (for one readable assert)."""
    return {k: event.get(k) for k in expected}
