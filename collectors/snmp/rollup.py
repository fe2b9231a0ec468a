"""Roll-ups (raw -> 5 min -> 1 h) and retention, each one set-based SQL statement.

A bucket is rolled once it is complete: its end plus a settling delay (one poll cycle)
has passed, so late samples of a slow cycle still land in it. The newest rolled bucket
of each resolution is the watermark; the next run starts after it, so running twice
never duplicates and a pause catches up in one go. Only one process should run roll-ups
(``simpul up``'s SNMP service or the Celery scheduler, never the workers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from collectors.snmp.models import (
    SnmpHostRollup,
    SnmpHostSample,
    SnmpInterfaceRollup,
    SnmpInterfaceSample,
    SnmpStatusChange,
)

FIVE_MIN = 300
HOUR = 3600


@dataclass
class RollupStats:
    """Rows written by one ``run_rollups`` call and deleted by one ``apply_retention``."""

    rolled_5m: int = 0
    rolled_1h: int = 0
    host_5m: int = 0
    host_1h: int = 0
    deleted: int = 0


def _window(session: Session, table: type, source_min: int | None, resolution: int,
            now: float, settle_s: float) -> tuple[int, int] | None:
    last = session.scalar(select(func.max(table.ts)).where(table.resolution == resolution))
    if last is not None:
        lo = int(last) + resolution
    elif source_min is not None:
        lo = int(source_min) // resolution * resolution
    else:
        return None
    hi = int(now - settle_s) // resolution * resolution
    return (lo, hi) if hi > lo else None


def _count(session: Session, table: type, resolution: int, lo: int, hi: int) -> int:
    # rowcount of INSERT ... SELECT is -1 under psycopg 3; count the window instead.
    return int(session.scalar(select(func.count()).select_from(table).where(
        table.resolution == resolution, table.ts >= lo, table.ts < hi)) or 0)


def rollup_interfaces(session: Session, resolution: int, now: float, settle_s: float) -> int:
    """Roll raw samples into 5-min buckets, or 5-min buckets into 1-h buckets."""
    if resolution == FIVE_MIN:
        src = SnmpInterfaceSample
        source_min = session.scalar(select(func.min(src.ts)))
    else:
        src = SnmpInterfaceRollup
        source_min = session.scalar(select(func.min(src.ts)).where(src.resolution == FIVE_MIN))
    window = _window(session, SnmpInterfaceRollup, source_min, resolution, now, settle_s)
    if window is None:
        return 0
    lo, hi = window
    bucket = (src.ts // resolution) * resolution
    if resolution == FIVE_MIN:
        s = SnmpInterfaceSample
        query = (select(literal(resolution), s.snmp_interface_id, bucket, func.count(),
                        func.avg(s.in_bps), func.avg(s.out_bps), func.max(s.in_bps),
                        func.max(s.out_bps), func.avg(s.in_errors_ps), func.avg(s.out_errors_ps),
                        func.avg(s.in_discards_ps), func.avg(s.out_discards_ps))
                 .where(s.ts >= lo, s.ts < hi).group_by(s.snmp_interface_id, bucket))
    else:
        r = SnmpInterfaceRollup
        n = func.sum(r.samples)

        def weighted(col: object) -> object:
            return func.sum(col * r.samples) / n  # type: ignore[operator]

        query = (select(literal(resolution), r.snmp_interface_id, bucket, n,
                        weighted(r.in_bps), weighted(r.out_bps), func.max(r.in_bps_max),
                        func.max(r.out_bps_max), weighted(r.in_errors_ps),
                        weighted(r.out_errors_ps), weighted(r.in_discards_ps),
                        weighted(r.out_discards_ps))
                 .where(r.resolution == FIVE_MIN, r.ts >= lo, r.ts < hi)
                 .group_by(r.snmp_interface_id, bucket))
    t = SnmpInterfaceRollup
    cols = [t.resolution, t.snmp_interface_id, t.ts, t.samples, t.in_bps, t.out_bps,
            t.in_bps_max, t.out_bps_max, t.in_errors_ps, t.out_errors_ps, t.in_discards_ps,
            t.out_discards_ps]
    session.connection().execute(insert(t).from_select([c.key for c in cols], query))
    return _count(session, t, resolution, lo, hi)


def rollup_hosts(session: Session, resolution: int, now: float, settle_s: float) -> int:
    """Roll host-resource samples (or 5-min host buckets) up one resolution."""
    if resolution == FIVE_MIN:
        src = SnmpHostSample
        source_min = session.scalar(select(func.min(src.ts)))
    else:
        src = SnmpHostRollup
        source_min = session.scalar(select(func.min(src.ts)).where(src.resolution == FIVE_MIN))
    window = _window(session, SnmpHostRollup, source_min, resolution, now, settle_s)
    if window is None:
        return 0
    lo, hi = window
    bucket = (src.ts // resolution) * resolution
    if resolution == FIVE_MIN:
        s = SnmpHostSample
        query = (select(literal(resolution), s.device_id, bucket, func.count(), func.avg(s.cpu_pct),
                        func.max(s.cpu_pct), func.avg(s.mem_pct), func.max(s.mem_pct),
                        func.max(s.disk_max_pct))
                 .where(s.ts >= lo, s.ts < hi).group_by(s.device_id, bucket))
    else:
        r = SnmpHostRollup
        query = (select(literal(resolution), r.device_id, bucket, func.sum(r.samples),
                        func.avg(r.cpu_pct), func.max(r.cpu_pct_max), func.avg(r.mem_pct),
                        func.max(r.mem_pct_max), func.max(r.disk_max_pct))
                 .where(r.resolution == FIVE_MIN, r.ts >= lo, r.ts < hi)
                 .group_by(r.device_id, bucket))
    t = SnmpHostRollup
    cols = [t.resolution, t.device_id, t.ts, t.samples, t.cpu_pct, t.cpu_pct_max, t.mem_pct,
            t.mem_pct_max, t.disk_max_pct]
    session.connection().execute(insert(t).from_select([c.key for c in cols], query))
    return _count(session, t, resolution, lo, hi)


def run_rollups(session: Session, *, now: float | None = None,
                settle_s: float = 90.0) -> RollupStats:
    """Roll every complete bucket: raw -> 5 min, then 5 min -> 1 h (caller commits)."""
    now = time.time() if now is None else now
    stats = RollupStats()
    stats.rolled_5m = rollup_interfaces(session, FIVE_MIN, now, settle_s)
    stats.host_5m = rollup_hosts(session, FIVE_MIN, now, settle_s)
    # An hour is complete once its last 5-minute bucket is rolled.
    stats.rolled_1h = rollup_interfaces(session, HOUR, now, settle_s + FIVE_MIN)
    stats.host_1h = rollup_hosts(session, HOUR, now, settle_s + FIVE_MIN)
    return stats


def apply_retention(session: Session, *, raw_hours: float, five_min_days: float,
                    hour_days: float, now: float | None = None) -> int:
    """Delete what is older than each resolution keeps; return the rows deleted."""
    now = time.time() if now is None else now
    raw_cut = int(now - raw_hours * 3600)
    cut_5m = int(now - five_min_days * 86400)
    cut_1h = int(now - hour_days * 86400)
    deleted = 0
    for stmt in (
        delete(SnmpInterfaceSample).where(SnmpInterfaceSample.ts < raw_cut),
        delete(SnmpHostSample).where(SnmpHostSample.ts < raw_cut),
        delete(SnmpInterfaceRollup).where(SnmpInterfaceRollup.resolution == FIVE_MIN,
                                          SnmpInterfaceRollup.ts < cut_5m),
        delete(SnmpHostRollup).where(SnmpHostRollup.resolution == FIVE_MIN,
                                     SnmpHostRollup.ts < cut_5m),
        delete(SnmpInterfaceRollup).where(SnmpInterfaceRollup.resolution == HOUR,
                                          SnmpInterfaceRollup.ts < cut_1h),
        delete(SnmpHostRollup).where(SnmpHostRollup.resolution == HOUR,
                                     SnmpHostRollup.ts < cut_1h),
        delete(SnmpStatusChange).where(SnmpStatusChange.ts < cut_1h),
    ):
        deleted += int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
    return deleted
