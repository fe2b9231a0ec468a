"""Writing NAC decisions off the RADIUS hot path: a queue and one batching writer thread.

A decision must be answered in milliseconds, but a SQLite commit and a log line each
cost about as much as the decision itself. ``DecisionWriter`` takes decisions from the
request threads and writes them in batches (one transaction, one log line each) every
``interval`` seconds. Nothing is dropped: a full queue makes the request wait (back-
pressure) and, past ``put_timeout``, the decision is still logged for the SIEM; a clean
stop (SIGTERM/Ctrl-C of the policy server or ``simpul up``) writes everything queued.
Only a hard crash (SIGKILL, power) loses the last ``interval`` of records — the RADIUS
answers themselves were already given, and FreeRADIUS keeps its own log.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from loguru import logger
from sqlalchemy import insert
from sqlalchemy.orm import Session

from nac.models import NacDecision
from simpul.db import Database


@dataclass(frozen=True)
class DecisionRecord:
    """One decision as stored in ``nac_decisions`` and sent to the SIEM log."""

    created_at: datetime
    mac: str
    username: str
    method: str
    nas_ip: str
    nas_port: str
    result: str
    reason: str
    vid: int | None


DecisionSink = Callable[[DecisionRecord], None]


def log_line(rec: DecisionRecord) -> None:
    """The loguru line the SIEM ingests (``nac=True`` marks it)."""
    logger.bind(nac=True, mac=rec.mac, nas=rec.nas_ip, port=rec.nas_port,
                result=rec.result).info(
        "nac {} {} {} via {} port {}: {} (vlan {})", rec.method, rec.result,
        rec.mac or rec.username, rec.nas_ip or "-", rec.nas_port or "-", rec.reason,
        rec.vid or "-")


def session_sink(session: Session) -> DecisionSink:
    """A synchronous sink: add the decision to *session* (CLI, tests) and log it."""

    def sink(rec: DecisionRecord) -> None:
        session.add(NacDecision(**asdict(rec)))
        log_line(rec)

    return sink


class DecisionWriter:
    """Batches decisions from many threads into ``nac_decisions`` on a background thread."""

    def __init__(self, db: Database, interval: float = 0.2, max_batch: int = 2000,
                 put_timeout: float = 1.0) -> None:
        self.db = db
        self.put_timeout = put_timeout
        self.interval = interval
        self.max_batch = max_batch
        self._queue: queue.Queue[DecisionRecord] = queue.Queue(maxsize=100_000)
        # (mac, NAS) -> VLAN of the latest accept, for accounting that arrives before
        # the batch with that decision is written (a NAS sends Start right away).
        self._recent: OrderedDict[tuple[str, str], int | None] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nac-decisions", daemon=True)
        self._thread.start()

    def put(self, rec: DecisionRecord) -> None:
        """Queue one decision. Normally instant; when 100k behind (the database is stuck)
        wait up to ``put_timeout`` seconds for room — slowing answers rather than losing
        the record — and if there is still none, log the decision line anyway so the SIEM
        has it, and say that the table misses it."""
        if rec.result != "reject" and rec.mac:
            with self._recent_lock:
                self._recent[(rec.mac, rec.nas_ip)] = rec.vid
                self._recent.move_to_end((rec.mac, rec.nas_ip))
                if len(self._recent) > 50_000:
                    self._recent.popitem(last=False)
        try:
            self._queue.put_nowait(rec)
            return
        except queue.Full:
            pass
        try:
            self._queue.put(rec, timeout=self.put_timeout)
        except queue.Full:
            logger.error("nac: decision log is {} behind; this decision is only in the log",
                         self._queue.maxsize)
            log_line(rec)

    def recent_vid(self, mac: str, nas_ip: str) -> int | None:
        """The VLAN this process last accepted *mac* into on *nas_ip*, if any."""
        with self._recent_lock:
            return self._recent.get((mac, nas_ip))

    def _drain(self) -> list[DecisionRecord]:
        batch: list[DecisionRecord] = []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[DecisionRecord]) -> None:
        rows = [asdict(r) for r in batch]
        for attempt in range(3):  # a locked or restarting database gets a second chance
            try:
                with self.db.session() as session:
                    session.execute(insert(NacDecision), rows)
                break
            except Exception as exc:  # keep serving; the log lines below still reach the SIEM
                if attempt == 2:
                    logger.error("nac: writing {} decisions failed: {}", len(batch), exc)
                else:
                    time.sleep(0.5)
        for rec in batch:
            log_line(rec)

    def _run(self) -> None:
        while True:
            batch = self._drain()
            if batch:
                self._write(batch)
                continue
            self._idle.set()
            if self._stop.wait(self.interval) and self._queue.empty():
                return
            self._idle.clear()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        self._idle.clear()
        self._idle.wait(timeout)

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        self._stop.set()
        self._thread.join(timeout=10)
