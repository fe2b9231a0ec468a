"""Read side of the flow collector and the trap receiver: what the NOC screens and the
alert rules ask.

These functions are a stable API (listed in ``collectors/flows/README.md``): the web UI,
the CLI and ``collectors.alerts`` (OPD over its bandwidth allocation, flow-volume
anomalies) all call them with an open session. Times are timezone-aware datetimes (naive
ones are taken as UTC); windows are half-open ``[since, until)`` on bucket starts.

Which rows are read: the roll-up folds 1-minute rows into 1-hour rows and then the
minute rows expire. Every query reads hour rows before the *cut* (the end of the newest
rolled-up hour) and minute rows from the cut on, so nothing is counted twice and long
windows stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from collectors.flows.models import (
    KIND_CONVERSATION,
    KIND_DESTINATION,
    KIND_SERVICE,
    KIND_SOURCE,
    RES_HOUR,
    RES_MINUTE,
    FlowAggregate,
    FlowExporter,
    TrapEvent,
)
from simpul.errors import ValidationError
from simpul.models.tenancy import Opd

Dimension = Literal["source", "destination", "service", "opd", "conversation", "exporter"]
DIMENSIONS: tuple[str, ...] = ("source", "destination", "service", "opd", "conversation",
                               "exporter")
PROTOCOL_NAMES = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah",
                  58: "ipv6-icmp", 89: "ospf", 132: "sctp"}
MAX_LIMIT = 1000

FA = FlowAggregate


@dataclass(frozen=True)
class Talker:
    """One row of a top-talkers list.

    ``key`` is machine-readable (an address, ``tcp/443``, ``a>b``, an OPD id as text),
    ``label`` is what a screen shows. ``bps`` is the average over the whole window.
    """

    key: str
    label: str
    bytes: int
    packets: int
    flows: int
    bps: float
    opd_id: int | None = None
    opd_code: str | None = None


@dataclass(frozen=True)
class OpdTraffic:
    """An OPD's traffic over a window: *in* = to its prefixes, *out* = from them."""

    opd_id: int
    opd_code: str
    opd_name: str
    bytes_in: int
    bytes_out: int
    bytes_total: int
    avg_bps: float
    peak_bps: float
    peak_ts: datetime | None


@dataclass(frozen=True)
class VolumePoint:
    """Traffic in one step of a series (``ts`` = step start)."""

    ts: datetime
    bytes: int
    packets: int
    flows: int
    bps: float
    bytes_in: int = 0
    bytes_out: int = 0


def utc(value: datetime) -> datetime:
    """Return *value* as an aware UTC datetime (naive values are UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _epoch(value: datetime) -> int:
    return int(utc(value).timestamp())


def _window(since: datetime, until: datetime) -> tuple[int, int]:
    start, end = _epoch(since), _epoch(until)
    if end <= start:
        raise ValidationError("the time range is empty: 'until' must be after 'since'")
    return start, end


def service_label(protocol: int, port: int) -> str:
    """Return ``tcp/443`` style text for a protocol number and service port."""
    name = PROTOCOL_NAMES.get(protocol, str(protocol))
    return f"{name}/{port}" if port else name


def rollup_cut(session: Session) -> int:
    """Return the UNIX time from which minute rows are authoritative (0 = no hour rows)."""
    newest = session.scalar(select(func.max(FA.ts)).where(FA.kind == KIND_SOURCE,
                                                          FA.resolution == RES_HOUR))
    return int(newest) + RES_HOUR if newest is not None else 0


def _rows_in_window(session: Session, start: int, end: int, kind: str = KIND_SOURCE,
                    step: int | None = None) -> ColumnElement[bool]:
    """Rows of *kind* in the window: hour rows before the roll-up cut, minute rows after.

    A series finer than an hour (*step* < 3600) reads minute rows only — they are kept
    ``SIMPUL_FLOW_MINUTE_RETENTION_H`` after their hour was rolled up — so an hour row
    never lands whole in one minute step.
    """
    if step is not None and step < RES_HOUR:
        return and_(FA.kind == kind, FA.resolution == RES_MINUTE, FA.ts >= start, FA.ts < end)
    cut = rollup_cut(session)
    return and_(FA.kind == kind, or_(
        and_(FA.resolution == RES_MINUTE, FA.ts >= max(start, cut), FA.ts < end),
        and_(FA.resolution == RES_HOUR, FA.ts >= start - start % RES_HOUR,
             FA.ts < min(end, cut)),
    ))


def _opd_filter(opd_id: int | None) -> ColumnElement[bool] | None:
    if opd_id is None:
        return None
    return or_(FA.src_opd_id == opd_id, FA.dst_opd_id == opd_id)


def _sums() -> tuple[Any, Any, Any]:
    return (func.coalesce(func.sum(FA.bytes), 0), func.coalesce(func.sum(FA.packets), 0),
            func.coalesce(func.sum(FA.flows), 0))


def _opd_codes(session: Session, ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Opd.id, Opd.code, Opd.name).where(Opd.id.in_(wanted)))
    return {r.id: (r.code, r.name) for r in rows}


def top_talkers(session: Session, *, by: str, since: datetime, until: datetime,
                limit: int = 10, opd_id: int | None = None,
                exporter: str | None = None) -> list[Talker]:
    """Return the *limit* biggest talkers by bytes over ``[since, until)``.

    Args:
        by: ``source`` (source address), ``destination``, ``service`` (protocol and
            service port), ``conversation`` (source > destination; only the biggest
            conversations of each minute are kept, so small ones may be missing), ``opd``
            (each OPD's in + out traffic) or ``exporter``.
        opd_id: only flows from or to this OPD's prefixes (the tenancy filter).
        exporter: only flows reported by this exporter address.

    Raises:
        ValidationError: unknown dimension, empty window or a limit out of range.
    """
    if by not in DIMENSIONS:
        raise ValidationError(f"unknown grouping {by!r} (use one of: {', '.join(DIMENSIONS)})")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
    start, end = _window(since, until)
    seconds = end - start
    if by == "opd":
        rows = opd_traffic(session, since=since, until=until, exporter=exporter,
                           opd_ids=None if opd_id is None else [opd_id], with_peak=False)
        rows.sort(key=lambda r: r.bytes_total, reverse=True)
        return [Talker(key=str(r.opd_id), label=r.opd_code, bytes=r.bytes_total, packets=0,
                       flows=0, bps=r.avg_bps, opd_id=r.opd_id, opd_code=r.opd_code)
                for r in rows[:limit]]
    group: list[Any] = {
        "source": [FA.src_addr, FA.src_opd_id],
        "destination": [FA.dst_addr, FA.dst_opd_id],
        "service": [FA.protocol, FA.port],
        "conversation": [FA.src_addr, FA.dst_addr, FA.src_opd_id],
        "exporter": [FA.exporter],
    }[by]
    kind = {"destination": KIND_DESTINATION, "service": KIND_SERVICE,
            "conversation": KIND_CONVERSATION}.get(by, KIND_SOURCE)
    b, p, f = _sums()
    stmt = select(*group, b.label("b"), p.label("p"), f.label("f")).where(
        _rows_in_window(session, start, end, kind))
    scope = _opd_filter(opd_id)
    if scope is not None:
        stmt = stmt.where(scope)
    if exporter:
        stmt = stmt.where(FA.exporter == exporter)
    stmt = stmt.group_by(*group).order_by(b.desc()).limit(limit)
    rows = session.execute(stmt).all()
    opd_col = {"source": 1, "destination": 1, "conversation": 2}.get(by)
    codes = _opd_codes(session, (r[opd_col] for r in rows) if opd_col else ())
    out: list[Talker] = []
    for r in rows:
        if by == "service":
            key = label = service_label(int(r[0]), int(r[1]))
        elif by == "conversation":
            key, label = f"{r[0]}>{r[1]}", f"{r[0]} → {r[1]}"
        else:
            key = label = str(r[0])
        owner = r[opd_col] if opd_col else None
        out.append(Talker(key=key, label=label, bytes=int(r.b), packets=int(r.p),
                          flows=int(r.f), bps=int(r.b) * 8 / seconds, opd_id=owner,
                          opd_code=codes.get(owner, (None, None))[0] if owner else None))
    return out


def _directional(session: Session, start: int, end: int, step: int | None,
                 opd_ids: Sequence[int] | None, exporter: str | None,
                 ) -> dict[tuple[int, int], list[int]]:
    """Return {(opd_id, step_start): [bytes_in, bytes_out, total]} (step None = whole window)."""
    acc: dict[tuple[int, int], list[int]] = {}
    window = _rows_in_window(session, start, end, step=step)
    bucket: Any = (FA.ts - FA.ts % step) if step else None
    for column, index in ((FA.dst_opd_id, 0), (FA.src_opd_id, 1)):
        cols = [column] + ([bucket.label("bk")] if step else [])
        stmt = select(*cols, func.sum(FA.bytes)).where(window, column.is_not(None))
        if opd_ids is not None:
            stmt = stmt.where(column.in_(list(opd_ids)))
        if exporter:
            stmt = stmt.where(FA.exporter == exporter)
        stmt = stmt.group_by(*cols)
        for row in session.execute(stmt):
            key = (int(row[0]), int(row[1]) if step else start)
            acc.setdefault(key, [0, 0, 0])[index] += int(row[-1] or 0)
    # Internal traffic (both ends in the same OPD) counts once in the total.
    same = [FA.src_opd_id] + ([bucket.label("bk")] if step else [])
    stmt = select(*same, func.sum(FA.bytes)).where(window, FA.src_opd_id == FA.dst_opd_id)
    if opd_ids is not None:
        stmt = stmt.where(FA.src_opd_id.in_(list(opd_ids)))
    if exporter:
        stmt = stmt.where(FA.exporter == exporter)
    internal = {(int(r[0]), int(r[1]) if step else start): int(r[-1] or 0)
                for r in session.execute(stmt.group_by(*same))}
    for key, v in acc.items():
        v[2] = v[0] + v[1] - internal.get(key, 0)
    return acc


def opd_traffic(session: Session, *, since: datetime, until: datetime,
                opd_ids: Sequence[int] | None = None, exporter: str | None = None,
                with_peak: bool = True, peak_step: int = RES_MINUTE) -> list[OpdTraffic]:
    """Return each OPD's bytes in/out, average bps and peak bps over the window.

    Only OPDs with traffic are returned. ``peak_bps`` is the highest per-``peak_step``
    rate inside the window (what an allocation check compares with ``committed_mbps``);
    it is 0 with ``with_peak=False``.
    """
    start, end = _window(since, until)
    totals = _directional(session, start, end, None, opd_ids, exporter)
    peaks: dict[int, tuple[float, int]] = {}
    if with_peak and totals:
        step = max(RES_MINUTE, int(peak_step))
        for (oid, ts), (_i, _o, total) in _directional(session, start, end, step, opd_ids,
                                                       exporter).items():
            bps = total * 8 / step
            if bps > peaks.get(oid, (-1.0, 0))[0]:
                peaks[oid] = (bps, ts)
    codes = _opd_codes(session, (oid for oid, _ in totals))
    out = []
    for (oid, _), (b_in, b_out, total) in totals.items():
        code, name = codes.get(oid, (str(oid), ""))
        peak, peak_ts = peaks.get(oid, (0.0, 0))
        out.append(OpdTraffic(opd_id=oid, opd_code=code, opd_name=name, bytes_in=b_in,
                              bytes_out=b_out, bytes_total=total,
                              avg_bps=total * 8 / (end - start), peak_bps=peak,
                              peak_ts=datetime.fromtimestamp(peak_ts, UTC) if peak else None))
    out.sort(key=lambda r: r.opd_code)
    return out


def opd_bps_series(session: Session, *, opd_id: int, since: datetime, until: datetime,
                   step: int = RES_MINUTE) -> list[VolumePoint]:
    """Return one OPD's traffic per *step* seconds (every step, zeros included).

    ``bytes`` counts in + out once (traffic inside the OPD once); ``bps`` is its rate.
    Used for "OPD above its allocation for N minutes".
    """
    start, end = _window(since, until)
    step = _check_step(step)
    data = _directional(session, start, end, step, [opd_id], None)
    out = []
    for ts in range(start - start % step, end, step):
        b_in, b_out, total = data.get((opd_id, ts), [0, 0, 0])
        out.append(VolumePoint(ts=datetime.fromtimestamp(ts, UTC), bytes=total, packets=0,
                               flows=0, bps=total * 8 / step, bytes_in=b_in, bytes_out=b_out))
    return out


def _check_step(step: int) -> int:
    step = int(step)
    if step < RES_MINUTE or step % RES_MINUTE:
        raise ValidationError(f"step must be a multiple of {RES_MINUTE} seconds")
    return step


def flow_volume_series(session: Session, *, since: datetime, until: datetime,
                       step: int = 300, opd_id: int | None = None,
                       exporter: str | None = None) -> list[VolumePoint]:
    """Return total bytes/packets/flows per *step* (every step, zeros included).

    With *opd_id*, only flows from or to that OPD (counted once); with *exporter*, only
    that exporter's flows. The input of flow-volume anomaly detection.
    """
    start, end = _window(since, until)
    step = _check_step(step)
    bucket = (FA.ts - FA.ts % step).label("bk")
    b, p, f = _sums()
    stmt = select(bucket, b, p, f).where(_rows_in_window(session, start, end, step=step))
    scope = _opd_filter(opd_id)
    if scope is not None:
        stmt = stmt.where(scope)
    if exporter:
        stmt = stmt.where(FA.exporter == exporter)
    got = {int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
           for r in session.execute(stmt.group_by(bucket))}
    out = []
    for ts in range(start - start % step, end, step):
        nb, np_, nf = got.get(ts, (0, 0, 0))
        out.append(VolumePoint(ts=datetime.fromtimestamp(ts, UTC), bytes=nb, packets=np_,
                               flows=nf, bps=nb * 8 / step))
    return out


def list_exporters(session: Session) -> list[FlowExporter]:
    """Return every exporter seen, most recently active first."""
    return list(session.scalars(select(FlowExporter).order_by(FlowExporter.last_seen.desc())))


def list_trap_events(session: Session, *, since: datetime | None = None,
                     until: datetime | None = None, device_id: int | None = None,
                     opd_id: int | None = None, trap: str | None = None,
                     before_id: int | None = None, limit: int = 100) -> list[TrapEvent]:
    """Return trap events newest first (page on with ``before_id`` = the last id seen)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
    stmt = select(TrapEvent)
    if since is not None:
        stmt = stmt.where(TrapEvent.received_at >= utc(since))
    if until is not None:
        stmt = stmt.where(TrapEvent.received_at < utc(until))
    if device_id is not None:
        stmt = stmt.where(TrapEvent.device_id == device_id)
    if opd_id is not None:
        stmt = stmt.where(TrapEvent.opd_id == opd_id)
    if trap:
        stmt = stmt.where(TrapEvent.trap == trap)
    if before_id is not None:
        stmt = stmt.where(TrapEvent.id < before_id)
    return list(session.scalars(stmt.order_by(TrapEvent.id.desc()).limit(limit)))
