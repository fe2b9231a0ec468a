"""Write side of the flow tables: batch inserts, exporter counters, roll-up, retention."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from collectors.flows.models import (
    KIND_SOURCE,
    RES_HOUR,
    RES_MINUTE,
    FlowAggregate,
    FlowExporter,
)
from collectors.flows.queries import rollup_cut

FA = FlowAggregate
INSERT_CHUNK = 2000


def yield_gil() -> None:
    """Let the UDP reader thread run: it shares the GIL with this (writer) thread.

    Without this, a long pure-Python loop here makes every ``recvfrom`` of the reader
    wait up to the interpreter's 5 ms switch interval for the GIL, and the socket
    buffer overflows under load.
    """
    time.sleep(0)
ROLLUP_GRACE_S = 600


@dataclass
class ExporterDelta:
    """Counter increments of one exporter since the last flush."""

    version: int = 0
    packets: int = 0
    records: int = 0
    malformed: int = 0
    no_template: int = 0
    sampling_rate: float = 0  # 0: no records since the last flush, keep what is stored
    sampling_source: str = ""


def insert_aggregates(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert minute rows (as ``Aggregator.drain`` makes them); return the row count."""
    for i in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(FA), list(rows[i:i + INSERT_CHUNK]))
        yield_gil()
    return len(rows)


def update_exporters(session: Session, deltas: dict[str, ExporterDelta],
                     now: datetime | None = None) -> None:
    """Add *deltas* to the per-exporter counters (creating rows for new exporters)."""
    now = now or datetime.now(UTC)
    for address, d in deltas.items():
        row = session.get(FlowExporter, address)
        if row is None:
            row = FlowExporter(address=address, version=0, first_seen=now, last_seen=now,
                               packets=0, records=0, malformed=0, no_template=0,
                               sampling_rate=1, sampling_source=None)
            session.add(row)
        if d.version:
            row.version = d.version
        row.last_seen = now
        row.packets += d.packets
        row.records += d.records
        row.malformed += d.malformed
        row.no_template += d.no_template
        if d.sampling_rate:
            # Shown as "sampled 1:N"; a fractional PSAMP rate (1 in 2.5) rounds for display.
            row.sampling_rate = max(1, round(d.sampling_rate))
            row.sampling_source = d.sampling_source or None


def rollup(session: Session, now: float | None = None, max_hours: int = 24) -> int:
    """Fold complete hours of minute rows into hour rows; return how many hours were done.

    An hour is complete ``ROLLUP_GRACE_S`` after it ends (late flows and the flush
    interval). Minute rows that arrive for an hour already rolled up are not counted.
    """
    now = time.time() if now is None else now
    done = 0
    while done < max_hours:
        cut = rollup_cut(session)
        first = session.scalar(select(func.min(FA.ts)).where(
            FA.kind == KIND_SOURCE, FA.resolution == RES_MINUTE, FA.ts >= cut))
        if first is None:
            break
        hour = int(first) - int(first) % RES_HOUR
        if hour + RES_HOUR > now - ROLLUP_GRACE_S:
            break
        keys = [FA.kind, FA.exporter, FA.src_addr, FA.dst_addr, FA.protocol, FA.port,
                FA.src_opd_id, FA.dst_opd_id]
        source = (select(*keys[:1], literal(RES_HOUR, Integer), literal(hour, Integer),
                         *keys[1:],
                         func.sum(FA.bytes), func.sum(FA.packets), func.sum(FA.flows))
                  .where(FA.resolution == RES_MINUTE, FA.ts >= hour, FA.ts < hour + RES_HOUR)
                  .group_by(*keys))
        session.execute(insert(FA).from_select(
            ["kind", "resolution", "ts", "exporter", "src_addr", "dst_addr", "protocol", "port",
             "src_opd_id", "dst_opd_id", "bytes", "packets", "flows"], source))
        session.flush()
        done += 1
    return done


def apply_retention(session: Session, *, minute_hours: int, hour_days: int,
                    now: float | None = None) -> int:
    """Delete minute rows older than *minute_hours* (once rolled up) and hour rows older
    than *hour_days*; return the number of rows deleted. 0 keeps forever."""
    now = time.time() if now is None else now
    deleted = 0
    if minute_hours:
        limit = min(int(now) - minute_hours * 3600, rollup_cut(session))
        deleted += session.execute(delete(FA).where(
            FA.resolution == RES_MINUTE, FA.ts < limit)).rowcount or 0
    if hour_days:
        deleted += session.execute(delete(FA).where(
            FA.resolution == RES_HOUR, FA.ts < int(now) - hour_days * 86400)).rowcount or 0
    return deleted
