"""The writer thread: poll results in through a queue, batched transactions out.

The poller only ever calls ``submit`` (a non-blocking queue put), so a slow disk or a
busy SQLite lock never stretches a poll cycle. Batches of results become one
transaction; roll-ups and retention run in this same thread between batches so they
never compete with metric writes for SQLite's single write lock.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence

from loguru import logger
from sqlalchemy.exc import InterfaceError, OperationalError

from collectors.snmp.poller import PollResult
from collectors.snmp.rollup import apply_retention, run_rollups
from collectors.snmp.settings import SnmpSettings
from collectors.snmp.store import WriteStats, apply_results
from simpul.db import Database

MAINTENANCE_EVERY_S = 60.0
BATCH_RESULTS = 200


class MetricWriter:
    """Write poll results on a background thread; optionally run roll-ups and retention."""

    def __init__(self, db: Database, settings: SnmpSettings, *, polled_by: str = "",
                 maintenance: bool = True, max_queue: int = 20000) -> None:
        self.db = db
        self.settings = settings
        self.polled_by = polled_by
        self.maintenance = maintenance
        self._queue: queue.Queue[PollResult] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._cond = threading.Condition()
        self._last_maintenance = 0.0
        self.dropped = 0
        self.written = WriteStats()
        self.errors = 0

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="snmp-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (within *timeout*), then stop the thread."""
        self.flush(timeout)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit(self, results: Sequence[PollResult]) -> None:
        """Queue *results* without waiting; when the queue is full the overflow is dropped."""
        for result in results:
            try:
                self._queue.put_nowait(result)
            except queue.Full:
                self.dropped += 1
                continue
            with self._cond:
                self._pending += 1
        if self.dropped:
            logger.warning("SNMP writer queue full: {} results dropped so far", self.dropped)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is committed; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def write(self, results: Sequence[PollResult]) -> WriteStats:
        """Write *results* now, in the caller's thread (the Celery task and tests use this)."""
        for attempt in range(5):
            try:
                with self.db.session(write=True) as session:
                    return apply_results(session, results,
                                         max_rate_bps=self.settings.max_rate_bps,
                                         polled_by=self.polled_by)
            except (OperationalError, InterfaceError) as exc:
                if attempt == 4:
                    raise
                logger.warning("SNMP write failed ({}); retrying", str(exc).splitlines()[0])
                time.sleep(0.5 * (attempt + 1))
        return WriteStats()

    def run_maintenance(self, now: float | None = None) -> None:
        """Roll up complete buckets and apply retention (one transaction each)."""
        s = self.settings
        with self.db.session(write=True) as session:
            stats = run_rollups(session, now=now, settle_s=s.interval_s + 30)
        with self.db.session(write=True) as session:
            stats.deleted = apply_retention(session, raw_hours=s.raw_retention_h,
                                            five_min_days=s.rollup_5m_retention_d,
                                            hour_days=s.rollup_1h_retention_d, now=now)
        if stats.rolled_5m or stats.rolled_1h or stats.deleted:
            logger.debug("SNMP roll-up: {} 5-min, {} 1-h rows; {} rows expired",
                         stats.rolled_5m, stats.rolled_1h, stats.deleted)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                self._maybe_maintain()
                continue
            batch = [first]
            while len(batch) < BATCH_RESULTS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                stats = self.write(batch)
                self.written.devices += stats.devices
                self.written.samples += stats.samples
                self.written.status_changes += stats.status_changes
            except Exception as exc:  # keep the thread alive; the next cycle retries
                self.errors += 1
                logger.error("SNMP writer lost a batch of {} results: {}", len(batch), exc)
            finally:
                with self._cond:
                    self._pending -= len(batch)
                    self._cond.notify_all()
            self._maybe_maintain()

    def _maybe_maintain(self) -> None:
        if not self.maintenance or time.monotonic() - self._last_maintenance < MAINTENANCE_EVERY_S:
            return
        self._last_maintenance = time.monotonic()
        try:
            self.run_maintenance()
        except Exception as exc:
            logger.error("SNMP roll-up/retention failed: {}", exc)
