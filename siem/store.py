"""Event storage: idempotent batch insert, indexed queries, counters, retention.

Inserts use ``ON CONFLICT (event_id) DO NOTHING`` on both backends, so a batch the
writer re-delivers after a crash adds nothing twice. Queries use indexed columns only
and page with an opaque ``(timestamp, id)`` cursor, newest first.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Select, and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from siem.errors import SiemError
from siem.models import SiemEvent, SiemSource
from siem.normalise import Event
from siem.stats import SourceCounters

try:  # optional speed-up for the SQLite insert path
    import orjson
except ImportError:  # pragma: no cover - json.dumps does the same, slower
    orjson = None  # type: ignore[assignment]

# ECS field -> indexed column (the filters list_events accepts).
FILTER_COLUMNS: dict[str, Any] = {
    "event.id": SiemEvent.event_id, "host.name": SiemEvent.host_name,
    "host.ip": SiemEvent.host_ip, "source.ip": SiemEvent.source_ip,
    "destination.ip": SiemEvent.destination_ip, "user.name": SiemEvent.user_name,
    "event.action": SiemEvent.action, "event.outcome": SiemEvent.outcome,
    "event.category": SiemEvent.category, "event.severity": SiemEvent.severity,
    "event.dataset": SiemEvent.dataset,
}
_LIMITS = {"host_name": 255, "host_ip": 45, "source_ip": 45, "destination_ip": 45,
           "user_name": 255, "action": 64, "outcome": 16, "category": 64, "dataset": 64}
# Indexed column -> the event field it holds ("category" holds the first of the list).
_FIELD_COLUMNS = (("host_name", "host.name"), ("host_ip", "host.ip"),
                  ("source_ip", "source.ip"), ("destination_ip", "destination.ip"),
                  ("user_name", "user.name"), ("action", "event.action"),
                  ("outcome", "event.outcome"), ("category", "event.category"),
                  ("dataset", "event.dataset"))


class IdGenerator:
    """Time-ordered 63-bit row ids: milliseconds, 10 random node bits, 12 sequence bits.

    Ordered by arrival so the primary key index is append-mostly; the node bits keep a
    concurrent ``simpul siem ingest`` from colliding with the service (a collision would
    raise, never drop: only ``event_id`` conflicts are ignored).
    """

    EPOCH_MS = 1_700_000_000_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._node = int.from_bytes(os.urandom(2), "big") & 0x3FF
        self._last_ms = 0
        self._seq = 0

    def next_ids(self, count: int) -> list[int]:
        """Return *count* increasing ids."""
        out: list[int] = []
        with self._lock:
            for _ in range(count):
                ms = max(int(time.time() * 1000) - self.EPOCH_MS, self._last_ms)
                if ms == self._last_ms:
                    self._seq += 1
                    if self._seq > 0xFFF:
                        ms, self._seq = ms + 1, 0
                else:
                    self._seq = 0
                self._last_ms = ms
                out.append((ms << 22) | (self._node << 12) | self._seq)
        return out


_IDS = IdGenerator()


_ISO: dict[datetime, str] = {}


def _iso(value: datetime) -> str:
    """``_utc(value).isoformat()``, remembered for UTC times: a batch shares its arrival
    time and most of its device times (one second holds many events)."""
    if value.tzinfo is not UTC:
        return _utc(value).isoformat()
    text = _ISO.get(value)
    if text is None:
        if len(_ISO) >= 4096:
            _ISO.clear()
        text = _ISO[value] = value.isoformat()
    return text


def _utc(value: datetime) -> datetime:
    tz = value.tzinfo
    if tz is UTC:  # the normal case: normalise() hands out UTC times
        return value
    return value.replace(tzinfo=UTC) if tz is None else value.astimezone(UTC)


_PLAIN = (str, int, float, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)
_COLUMN_FIELDS = tuple((column, field, _LIMITS[column]) for column, field in _FIELD_COLUMNS
                       if column != "category")


def _json_safe(value: Any) -> Any:
    if value.__class__ in _PLAIN:
        return value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if v.__class__ in _PLAIN else _json_safe(v) for v in value]
    return value


def event_row(event: Event, raw: str, raw_encoding: str, row_id: int) -> dict[str, Any]:
    """Return the ``siem_events`` row for a normalised *event*."""
    get = event.get
    category = get("event.category")
    if isinstance(category, list):
        category = category[0] if category else None
    severity = get("event.severity")
    plain = _PLAIN_TYPES
    # A copy with the few values JSON cannot hold as they are replaced; lists of plain
    # values (tags, related.*, event.category) are shared, not copied.
    doc = dict(event)
    for key, value in event.items():
        cls = value.__class__
        if cls in plain:
            continue
        if cls is datetime:
            doc[key] = _iso(value)
        elif cls is list:
            for item in value:
                if item.__class__ not in plain:
                    doc[key] = _json_safe(value)
                    break
        else:
            doc[key] = _json_safe(value)
    row = {"id": row_id, "event_id": event["event.id"],
           "timestamp": _utc(event["@timestamp"]), "created": _utc(event["event.created"])}
    # The indexed columns, cut to their width (a str within the width is the common case).
    for column, field, limit in _COLUMN_FIELDS:
        value = get(field)
        if value is not None and (value.__class__ is not str or len(value) > limit):
            value = str(value)[:limit]
        row[column] = value
    if category is not None and (category.__class__ is not str
                                 or len(category) > _LIMITS["category"]):
        category = str(category)[:_LIMITS["category"]]
    row["category"] = category
    row["severity"] = (severity if isinstance(severity, int) and -2**31 < severity < 2**31
                       else None)
    row["message"] = str(get("message") or "")
    row["raw"], row["raw_encoding"], row["doc"] = raw, raw_encoding, doc
    return row


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert *rows*, skipping event ids already stored; return how many were new."""
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return _insert_sqlite(conn, rows)
    ins = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    table = SiemEvent.__table__
    # Core, not the ORM: one multi-row INSERT per few hundred rows ("insertmanyvalues").
    stmt = ins(table).on_conflict_do_nothing(index_elements=["event_id"])
    result = conn.execute(stmt.returning(table.c.id), list(rows))  # type: ignore[attr-defined]
    return len(result.all())


_COLUMNS = tuple(c.name for c in SiemEvent.__table__.c)
_ROW_VALUES = operator.itemgetter(*_COLUMNS)
_SQLITE_PLANS: dict[Any, tuple[str, list[tuple[int, Any]]]] = {}


def _sqlite_plan(conn: Connection) -> tuple[str, list[tuple[int, Any]]]:
    """The compiled INSERT and the bind processors (by column position) of *conn*'s dialect."""
    dialect = conn.dialect
    plan = _SQLITE_PLANS.get(dialect)
    if plan is None:
        table = SiemEvent.__table__
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["event_id"])
        procs = [(i, c.type.dialect_impl(dialect).bind_processor(dialect))
                 for i, c in enumerate(table.c)]
        procs = [(i, _json_text if isinstance(c.type, JSON) else
                  _remembered(p) if isinstance(c.type, DateTime) and p is not None else p)
                 for (i, p), c in zip(procs, table.c, strict=True)]
        plan = (str(stmt.compile(dialect=dialect)), [(i, p) for i, p in procs if p is not None])
        _SQLITE_PLANS[dialect] = plan
    return plan


def _remembered(proc: Any) -> Any:
    """The dialect's datetime bind processor, remembering its text for UTC values.

    Only UTC values are remembered: the processor writes the wall-clock fields and
    ignores the zone, and equal instants in other zones would share a cache entry.
    """
    cache: dict[datetime, Any] = {}

    def process(value: Any) -> Any:
        if value.__class__ is not datetime or value.tzinfo is not UTC:
            return proc(value)
        text = cache.get(value)
        if text is None:
            if len(cache) >= 4096:
                cache.clear()
            text = cache[value] = proc(value)
        return text
    return process


def _json_text(value: Any) -> str:
    """``doc`` as JSON text: orjson (several times faster than json.dumps), json as fallback.

    orjson refuses lone surrogates, integers beyond 64 bits and non-string keys; those
    rare documents go through json.dumps exactly as before. orjson writes non-ASCII
    characters as UTF-8 instead of ``\\u`` escapes, which SQLite's JSON functions read alike.
    """
    if orjson is not None:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            pass
    return json.dumps(value)


def _insert_sqlite(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """SQLite: one ``executemany`` of ready tuples, without per-row statement compilation.

    The same statement and the same bind processors (timestamps, JSON) as the Core path,
    so the stored values are identical; sqlite3 sums the inserted rows in ``rowcount``
    (a conflicting event id counts 0), which is the number of new rows.
    """
    sql, procs = _sqlite_plan(conn)
    params = []
    for row in rows:
        try:
            values = list(_ROW_VALUES(row))
        except KeyError:
            values = [row.get(name) for name in _COLUMNS]
        for i, proc in procs:
            if values[i] is not None:
                values[i] = proc(values[i])
        params.append(tuple(values))
    result = conn.exec_driver_sql(sql, params)
    return max(int(result.rowcount), 0)


def existing_event_ids(session: Session, event_ids: Sequence[str]) -> set[str]:
    """Return which of *event_ids* are stored already (one indexed query per 500)."""
    found: set[str] = set()
    for chunk in chunks(event_ids, 500):
        found.update(session.scalars(select(SiemEvent.event_id)
                                     .where(SiemEvent.event_id.in_(chunk))))
    return found


def new_row_ids(count: int) -> list[int]:
    """Return fresh row ids for *count* events."""
    return _IDS.next_ids(count)


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first, and the cursor for the next page (None at the end)."""

    events: list[SiemEvent]
    next_cursor: str | None


def _cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        micros, row_id = cursor.split(".", 1)
        return datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(row_id)
    except (ValueError, OverflowError, OSError):
        raise SiemError(f"invalid cursor {cursor[:40]!r}") from None


def _cursor_encode(row: SiemEvent) -> str:
    ts = _utc(row.timestamp)
    micros = (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return f"{micros}.{row.id}"


def list_events(session: Session, *, since: datetime | None = None,
                until: datetime | None = None,
                filters: Mapping[str, Any] | None = None, limit: int = 100,
                cursor: str | None = None) -> EventPage:
    """Return events with ``since <= @timestamp < until`` matching *filters*, newest first.

    *filters* maps ECS field names (see ``FILTER_COLUMNS``) to a value or a list of values.

    Raises:
        SiemError: an unknown filter field, a bad cursor or limit.
    """
    if not 1 <= limit <= 10000:
        raise SiemError("limit must be between 1 and 10000")
    query: Select[tuple[SiemEvent]] = select(SiemEvent)
    if since is not None:
        query = query.where(SiemEvent.timestamp >= _utc(since))
    if until is not None:
        query = query.where(SiemEvent.timestamp < _utc(until))
    for name, value in (filters or {}).items():
        column = FILTER_COLUMNS.get(name)
        if column is None:
            raise SiemError(f"cannot filter on {name!r} (use one of: "
                            f"{', '.join(sorted(FILTER_COLUMNS))})")
        if isinstance(value, list | tuple | set | frozenset):
            query = query.where(column.in_(list(value)))
        else:
            query = query.where(column == value)
    if cursor:
        ts, row_id = _cursor_decode(cursor)
        query = query.where(or_(SiemEvent.timestamp < ts,
                                and_(SiemEvent.timestamp == ts, SiemEvent.id < row_id)))
    query = query.order_by(SiemEvent.timestamp.desc(), SiemEvent.id.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    for row in rows:  # SQLite hands back naive datetimes; fix them without dirtying rows
        set_committed_value(row, "timestamp", _utc(row.timestamp))
        set_committed_value(row, "created", _utc(row.created))
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(rows, _cursor_encode(rows[-1]) if more and rows else None)


def count_events(session: Session) -> int:
    """Return how many events are stored."""
    return int(session.scalar(select(func.count()).select_from(SiemEvent)) or 0)


def flush_source_counters(session: Session, deltas: Mapping[str, SourceCounters]) -> None:
    """Add *deltas* to the ``siem_sources`` rows (creating rows for new sources)."""
    if not deltas:
        return
    existing = {s.key: s for s in session.scalars(
        select(SiemSource).where(SiemSource.key.in_(list(deltas))))}
    for key, delta in deltas.items():
        row = existing.get(key)
        if row is None:
            row = SiemSource(key=key[:300], transport=delta.transport[:16], received=0,
                             parsed=0, unparsed=0, dropped=0, truncated=0, bytes=0)
            session.add(row)
        for name in ("received", "parsed", "unparsed", "dropped", "truncated", "bytes"):
            setattr(row, name, (getattr(row, name) or 0) + getattr(delta, name))
        if delta.last_seen:
            seen = datetime.fromtimestamp(delta.last_seen, UTC)
            if row.last_seen is None or _utc(row.last_seen) < seen:
                row.last_seen = seen
    session.flush()


def list_sources(session: Session) -> list[SiemSource]:
    """Return every source's stored counters, most recently seen first."""
    rows = list(session.scalars(select(SiemSource).order_by(SiemSource.key)))
    for row in rows:
        if row.last_seen is not None:
            set_committed_value(row, "last_seen", _utc(row.last_seen))
    rows.sort(key=lambda r: r.last_seen or datetime.min.replace(tzinfo=UTC), reverse=True)
    return rows


def retention_boundary(session: Session, max_events: int) -> int | None:
    """Return the oldest row id to keep so that at most *max_events* remain (None: all fit).

    This walks the primary-key index once, so the writer calls it rarely (every
    retention pass) and then deletes below the boundary in small batches.
    """
    if max_events <= 0:
        return None
    return session.scalar(
        select(SiemEvent.id).order_by(SiemEvent.id.desc()).offset(max_events - 1).limit(1))


def delete_expired(session: Session, *, older_than: datetime | None, below_id: int | None,
                   batch: int) -> int:
    """Delete at most *batch* of the oldest events received before *older_than* or below *below_id*.

    Small batches keep each transaction short, so the writer interleaves them with
    ingest and never holds the database for long.
    """
    conditions = []
    if older_than is not None:
        conditions.append(SiemEvent.created < _utc(older_than))
    if below_id is not None:
        conditions.append(SiemEvent.id < below_id)
    if not conditions:
        return 0
    victims = list(session.scalars(
        select(SiemEvent.id).where(or_(*conditions)).order_by(SiemEvent.id).limit(batch)))
    if not victims:
        return 0
    session.execute(delete(SiemEvent).where(SiemEvent.id.in_(victims)))
    return len(victims)


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Split *items* into lists of at most *size*."""
    it = iter(items)
    return [list(c) for c in iter(lambda: list(itertools.islice(it, size)), [])]
