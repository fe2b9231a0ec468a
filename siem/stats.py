"""Per-source counters: received, parsed, unparsed, dropped, truncated, bytes, last seen.

Receivers and the writer count in memory (one lock, no I/O on the hot path); the writer
flushes the deltas to ``siem_sources`` every few seconds so ``simpul siem stats`` in
another process sees them. ``get_source_stats()`` answers for this process, live.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

COUNTERS = ("received", "parsed", "unparsed", "dropped", "truncated", "bytes")


@dataclass(slots=True)
class SourceCounters:
    """The counters of one source (an IP address, or ``file:<path>``)."""

    transport: str = ""
    received: int = 0
    parsed: int = 0
    unparsed: int = 0
    dropped: int = 0
    truncated: int = 0
    bytes: int = 0
    last_seen: float = 0.0


class SourceStats:
    """Thread-safe counters keyed by source, with delta extraction for flushing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, SourceCounters] = {}
        self._flushed: dict[str, SourceCounters] = {}

    def _get(self, key: str, transport: str) -> SourceCounters:
        entry = self._live.get(key)
        if entry is None:
            entry = self._live[key] = SourceCounters(transport=transport)
        return entry

    def received(self, key: str, transport: str, count: int, nbytes: int,
                 truncated: int = 0) -> None:
        """Count *count* messages of *nbytes* accepted from *key*."""
        with self._lock:
            entry = self._get(key, transport)
            entry.received += count
            entry.bytes += nbytes
            entry.truncated += truncated
            entry.last_seen = time.time()

    def dropped(self, key: str, transport: str, count: int = 1) -> None:
        """Count messages from *key* that were refused (UDP with a full queue)."""
        with self._lock:
            entry = self._get(key, transport)
            entry.dropped += count
            entry.last_seen = time.time()

    def processed(self, key: str, transport: str, parsed: int, unparsed: int) -> None:
        """Count events stored, split by whether a source parser recognised them."""
        with self._lock:
            entry = self._get(key, transport)
            entry.parsed += parsed
            entry.unparsed += unparsed

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Return a copy of every source's counters."""
        with self._lock:
            return {key: asdict(value) for key, value in self._live.items()}

    def take_deltas(self) -> dict[str, SourceCounters]:
        """Return what changed since the last call (for flushing to the database)."""
        out: dict[str, SourceCounters] = {}
        with self._lock:
            for key, live in self._live.items():
                old = self._flushed.get(key) or SourceCounters(transport=live.transport)
                delta = SourceCounters(transport=live.transport, last_seen=live.last_seen)
                changed = False
                for name in COUNTERS:
                    diff = getattr(live, name) - getattr(old, name)
                    setattr(delta, name, diff)
                    changed = changed or diff != 0
                if changed:
                    out[key] = delta
                    self._flushed[key] = SourceCounters(**asdict(live))
        return out

    def restore(self, deltas: dict[str, SourceCounters]) -> None:
        """Put back deltas whose flush failed, so they are retried next time."""
        with self._lock:
            for key, delta in deltas.items():
                flushed = self._flushed.get(key)
                if flushed is not None:
                    for name in COUNTERS:
                        setattr(flushed, name, getattr(flushed, name) - getattr(delta, name))


_DEFAULT = SourceStats()


def default_stats() -> SourceStats:
    """The process-wide counters that the running service uses."""
    return _DEFAULT


def get_source_stats() -> dict[str, dict[str, object]]:
    """Return this process's live per-source counters (for the console and tests)."""
    return _DEFAULT.snapshot()
