"""What the poller remembers about a device between polls: the columns that rarely change.

An interface's name, description, alias, type and speed, and a storage area's type,
description and allocation unit, change seldom; counters and status change every
cycle. Re-walking the static columns each cycle costs about as much as the counters
themselves (most of a poll's CPU goes to decoding varbinds), so — like LibreNMS and
Cacti — they are read on a device's first poll and then only when they may have
changed:

* every ``SIMPUL_SNMP_STATIC_EVERY`` polls of that device (an alias edited on a router
  shows up within that many cycles);
* when sysUpTime went back (the agent or device restarted: ifIndex may be renumbered);
* when ifNumber or ifTableLastChange changed (an interface was added or removed);
* when the set of ifIndex in the per-cycle status column differs from the one seen at
  the last refresh (the same, for agents that do not keep ifTableLastChange), and
  likewise for hrStorageTable's indexes.

The cache lives in the poller (one per process); a new process — a restarted service,
another Celery worker — simply starts with a full read. Nothing here touches the
database: readings leave the poller complete, so what is stored does not depend on
whether a cycle refreshed the static columns or reused them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collectors.snmp.mibs import OID


@dataclass(frozen=True)
class InterfaceStatics:
    """The slow-changing IF-MIB columns of one ifIndex, already decoded."""

    name: str
    descr: str
    alias: str
    if_type: int | None
    speed_bps: int | None


@dataclass
class DeviceStatics:
    """One device's static columns as of its last refresh, and what that refresh saw.

    ``interfaces`` is ordered by ifIndex. ``status_indexes`` are the ifOperStatus
    indexes seen then; ``storage`` holds the raw hrStorageTable static columns (column
    -> index -> value) and ``storage_indexes`` the hrStorageSize indexes seen with them.
    """

    uptime_cs: int | None
    if_number: int | None
    table_last_change: int | None
    interfaces: dict[int, InterfaceStatics]
    status_indexes: frozenset[OID]
    storage: dict[OID, dict[OID, Any]] | None = None
    storage_indexes: frozenset[OID] = field(default_factory=frozenset)
    polls: int = 0  # successful polls since the refresh (the refresh itself is poll 1)


DeviceKey = tuple[int, str, int]


def refresh_reason(cached: DeviceStatics | None, *, uptime_cs: int | None,
                   if_number: int | None, table_last_change: int | None,
                   every: int) -> str:
    """Return why the static columns must be read this poll, or "" to reuse *cached*.

    Args:
        uptime_cs: sysUpTime just read (1/100 s).
        if_number, table_last_change: ifNumber and ifTableLastChange just read (None
            when the agent does not serve them).
        every: ``SIMPUL_SNMP_STATIC_EVERY``; 1 reads them on every poll.
    """
    if cached is None:
        return "first poll"
    if cached.polls >= every:
        return f"every {every} polls"
    if uptime_cs is not None and cached.uptime_cs is not None and uptime_cs < cached.uptime_cs:
        return "sysUpTime went back (restart)"
    if if_number != cached.if_number:
        return "ifNumber changed"
    if table_last_change != cached.table_last_change:
        return "ifTableLastChange changed"
    return ""


class StaticsCache:
    """Per-device ``DeviceStatics``, keyed by device id, address and port."""

    def __init__(self) -> None:
        self._by_device: dict[DeviceKey, DeviceStatics] = {}

    def get(self, key: DeviceKey) -> DeviceStatics | None:
        return self._by_device.get(key)

    def put(self, key: DeviceKey, statics: DeviceStatics) -> None:
        self._by_device[key] = statics

    def clear(self) -> None:
        """Forget everything: the next poll of every device reads its static columns."""
        self._by_device.clear()

    def __len__(self) -> int:
        return len(self._by_device)
