"""The database writer: spool -> parse -> enrich -> batch insert -> commit -> advance spool.

The spool's committed position moves only after the database transaction holding the
batch has committed, so a crash at any point re-delivers (never loses) a batch, and the
unique ``event_id`` turns the re-delivery into a no-op. Retention deletes and counter
flushes run in this same thread between batches, in short transactions of their own, so
they never compete with ingest for SQLite's single write lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from loguru import logger
from sqlalchemy.exc import InterfaceError, OperationalError

from siem import store
from siem.enrich import EnrichmentRegistry
from siem.normalise import NormaliseOptions, is_parsed, normalise, raw_text
from siem.settings import SiemSettings
from siem.spool import Batch, Record, Spool
from siem.stats import SourceStats
from simpul.db import Database
from simpul.errors import ConflictError, DatabaseError

if TYPE_CHECKING:
    from siem.detect.runner import DetectionRunner

_RETRYABLE = (OperationalError, InterfaceError, DatabaseError)
RETENTION_EVERY_S = 60.0


def source_key(rec: Record) -> str:
    """The counter key of a record: the sender's address, or ``file:<path>``."""
    if rec.peer_ip:
        return rec.peer_ip
    if "|" in rec.origin:
        return "file:" + rec.origin.split("|", 1)[1]
    return rec.transport or "unknown"


def build_rows(records: list[Record], options: NormaliseOptions,
               registry: EnrichmentRegistry,
               stats: SourceStats | None,
               events_out: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Normalise, enrich and turn *records* into ``siem_events`` rows (counting per source).

    *events_out*, when given, receives the normalised events (for the rule engine).
    """
    rows: list[dict[str, Any]] = []
    counts: dict[tuple[str, str], list[int]] = {}
    ids = store.new_row_ids(len(records))
    for rec, row_id in zip(records, ids, strict=True):
        event = registry.enrich(normalise(rec, options))
        raw, encoding = raw_text(rec.raw)
        rows.append(store.event_row(event, raw, encoding, row_id))
        if events_out is not None:
            events_out.append(event)
        if stats is not None:
            c = counts.setdefault((source_key(rec), rec.transport), [0, 0])
            c[0 if is_parsed(event) else 1] += 1
    if stats is not None:
        for (key, transport), (ok, bad) in counts.items():
            stats.processed(key, transport, ok, bad)
    return rows


def process_batch(db: Database, records: list[Record], options: NormaliseOptions,
                  registry: EnrichmentRegistry, stats: SourceStats | None,
                  detection: DetectionRunner | None = None, *,
                  after_store: Callable[[], None] | None = None,
                  only_new: bool = False) -> int:
    """The one path every record takes: normalise, enrich, store, then the rules.

    Used by the writer thread (records from the spool) and by ``simpul siem ingest``
    (lines of a file), so replayed logs raise the same incidents as received ones.
    The batch is stored in one transaction; *after_store* runs once it has committed
    (the writer advances the spool there), and only then do the rules run, so an event
    is stored before any alert points at it and a rule bug never loses an event.
    With *only_new*, events already stored before this batch (a file imported twice)
    are not shown to the rules again. Returns how many rows were new.
    """
    events: list[dict[str, Any]] | None = [] if detection is not None else None
    rows = build_rows(records, options, registry, stats, events)
    known: set[str] = set()
    if events and only_new:
        with db.session(write=False) as session:
            known = store.existing_event_ids(session, [r["event_id"] for r in rows])
    new = store_rows(db, rows)
    if after_store is not None:
        after_store()
    if events and detection is not None:
        if known:
            events = [e for e in events if e["event.id"] not in known]
        if events:
            run_rules(detection, events)
    return new


def run_rules(detection: DetectionRunner, events: list[dict[str, Any]]) -> None:
    """Rules on stored *events*; a failure is logged and never blocks ingest."""
    try:
        detection.after_batch(events)
    except Exception as exc:
        logger.opt(exception=exc).error("siem detection failed for a batch: {}", exc)


def store_rows(db: Database, rows: list[dict[str, Any]]) -> int:
    """Insert *rows* in one transaction; isolate rows the database refuses.

    Returns how many rows were new. Raises only for errors worth retrying (database
    unreachable or locked), so the caller can re-deliver the batch later.
    """
    for attempt in range(3):
        try:
            with db.session() as session:
                return store.insert_events(session, rows)
        except ConflictError:
            # A row-id collision with a concurrent writer: new ids, same event ids.
            for row, new_id in zip(rows, store.new_row_ids(len(rows)), strict=True):
                row["id"] = new_id
            if attempt == 2:
                break
        except _RETRYABLE:
            raise
        except Exception as exc:
            logger.warning("batch of {} events refused ({}); storing one by one",
                           len(rows), type(exc).__name__)
            break
    return _store_one_by_one(db, rows)


def _store_one_by_one(db: Database, rows: list[dict[str, Any]]) -> int:
    stored = 0
    for row in rows:
        for candidate in (row, _safe_row(row)):
            try:
                with db.session() as session:
                    stored += store.insert_events(session, [candidate])
                break
            except _RETRYABLE:
                raise
            except Exception as exc:
                logger.error("event {} cannot be stored: {}", row.get("event_id"),
                             type(exc).__name__)
    return stored


def _safe_row(row: dict[str, Any]) -> dict[str, Any]:
    """A minimal row for an event whose parsed fields the database refused."""
    import base64

    raw = row.get("raw", "")
    if row.get("raw_encoding") != "base64":
        raw = base64.b64encode(str(raw).encode("utf-8", "surrogatepass")).decode()
    return {**{k: None for k in store._LIMITS}, "id": store.new_row_ids(1)[0],
            "event_id": row["event_id"], "timestamp": row["created"], "created": row["created"],
            "severity": None, "message": "", "raw": raw, "raw_encoding": "base64",
            "doc": {"event.id": row["event_id"], "tags": ["store_error"]}}


class EventWriter:
    """A thread that drains the spool into the database."""

    def __init__(self, db: Database, spool: Spool, siem: SiemSettings, stats: SourceStats,
                 registry: EnrichmentRegistry, options: NormaliseOptions,
                 detection: DetectionRunner | None = None) -> None:
        self.db, self.spool, self.siem = db, spool, siem
        self.detection = detection
        self.stats, self.registry, self.options = stats, registry, options
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drain_deadline = 0.0
        self._retention: tuple[datetime | None, int | None] | None = None
        self.stored = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="siem-writer", daemon=True)
        self._thread.start()

    def stop(self, drain_timeout: float = 10.0) -> None:
        """Finish what is spooled (up to *drain_timeout* seconds), flush counters, stop."""
        self._drain_deadline = time.monotonic() + drain_timeout
        self._stop.set()
        if self._thread is not None:
            self._thread.join(drain_timeout + 30)

    def _run(self) -> None:
        if self.detection is not None:
            self.detection.start()
        next_flush = time.monotonic() + self.siem.stats_flush_s
        next_retention = time.monotonic() + 5.0
        backoff = 0.5
        while True:
            if self._stop.is_set() and (self.spool.backlog_bytes == 0
                                        or time.monotonic() > self._drain_deadline):
                break
            batch = self.spool.read(self.siem.batch_records, timeout=0.2)
            try:
                if batch.records:
                    self._write(batch)
                    backoff = 0.5
                if self._retention is not None:  # one small delete per ingest batch
                    self._retention_step()
                now = time.monotonic()
                if now >= next_flush:
                    self.flush_stats()
                    next_flush = now + self.siem.stats_flush_s
                if now >= next_retention:
                    self._plan_retention()
                    next_retention = now + RETENTION_EVERY_S
                if self.detection is not None:
                    self._detect_periodic()
            except _RETRYABLE as exc:
                self.spool.rewind()
                logger.warning("database unavailable ({}); retrying in {:.1f}s",
                               str(exc).splitlines()[0][:200], backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception as exc:  # a bug: keep the data, report, keep going
                self.spool.rewind()
                self.error = exc
                logger.opt(exception=exc).error("siem writer error: {}", exc)
                time.sleep(1.0)
        try:
            self.flush_stats()
        except Exception as exc:
            logger.error("final counter flush failed: {}", exc)
        if self.detection is not None:
            self.detection.stop()

    def _write(self, batch: Batch) -> None:
        self.stored += process_batch(self.db, batch.records, self.options, self.registry,
                                     self.stats, self.detection,
                                     after_store=lambda: self.spool.commit(batch.end))

    def _detect_periodic(self) -> None:
        assert self.detection is not None
        try:
            self.detection.periodic()
        except Exception as exc:
            logger.error("siem detection housekeeping failed: {}", exc)

    def flush_stats(self) -> None:
        """Write counter deltas to ``siem_sources``."""
        deltas = self.stats.take_deltas()
        if not deltas:
            return
        try:
            with self.db.session() as session:
                store.flush_source_counters(session, deltas)
        except Exception:
            self.stats.restore(deltas)
            raise

    def _plan_retention(self) -> None:
        older = None
        if self.siem.retention_days > 0:
            older = datetime.now(UTC) - timedelta(days=self.siem.retention_days)
        below = None
        if self.siem.retention_max_events > 0:
            with self.db.session(write=False) as session:
                below = store.retention_boundary(session, self.siem.retention_max_events)
        self._retention = (older, below) if (older or below) else None

    def _retention_step(self) -> None:
        assert self._retention is not None
        older, below = self._retention
        with self.db.session() as session:
            deleted = store.delete_expired(session, older_than=older, below_id=below,
                                           batch=self.siem.retention_batch)
        if deleted:
            logger.debug("retention: deleted {} events", deleted)
        else:
            self._retention = None
