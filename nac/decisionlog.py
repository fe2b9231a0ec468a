"""Writing NAC decisions off the RADIUS hot path: a queue and one batching writer thread.

A decision must be answered in milliseconds, but a SQLite commit and a log line each
cost about as much as the decision itself. ``DecisionWriter`` takes decisions from the
request threads and writes them in batches (one transaction, one log line each) every
``interval`` seconds. Nothing is dropped: a full queue makes the request wait (back-
pressure) and, past ``put_timeout``, the decision is still logged for the SIEM; a clean
stop (SIGTERM/Ctrl-C of the policy server or ``simpul up``) writes everything queued.
Only a hard crash (SIGKILL, power) loses the last ``interval`` of records — the RADIUS
answers themselves were already given, and FreeRADIUS keeps its own log.

Each written decision is also handed to the SIEM (``siem.submit.submit``, as a simpul
``nac`` line: ``event.dataset`` simpul.nac, ``event.outcome`` failure for rejects,
``observer.ip`` the NAS) by a thread of its own, so a slow or absent SIEM never holds
RADIUS answers back: past 20k waiting, SIEM copies are dropped with a warning (the
table keeps every decision); while no SIEM listens they are held back (see
``SiemShipper``). Only a writer whose database is the installation's own
(the one ``SIMPUL_*`` settings name) ships, so a throw-away database in a test or a
script never sends decisions into the real SIEM.
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
from simpul.settings import load_settings


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


def siem_line(rec: DecisionRecord) -> bytes:
    """The decision as the simpul ``nac`` syslog line the SIEM parses."""
    from siem.parsers.simpul_events import format_simpul_syslog

    return format_simpul_syslog("nac", {
        "decision": rec.result, "mac": rec.mac, "user": rec.username, "method": rec.method,
        "nas_ip": rec.nas_ip, "nas_port": rec.nas_port, "reason": rec.reason,
        "vlan": rec.vid}, severity=4 if rec.result == "reject" else 6, when=rec.created_at)


def is_installation_db(db: Database) -> bool:
    """True when *db* is the database this process's settings name (see module doc)."""
    try:
        return load_settings().database_url == db.url
    except Exception:  # unreadable settings: not an installation we can vouch for
        return False


class SiemShipper:
    """Hands decisions to the SIEM on a thread of its own (bounded; drops when far behind).

    ``submit`` costs about 0.3 ms over TCP to the SIEM of ``simpul up`` but ~8 ms when no
    SIEM listens (it then stores the event itself, without rules). So when a decision went
    that way, the shipper holds the rest back and tries again every ``retry`` seconds
    instead of paying that at RADIUS rates; the queue keeps filling meanwhile (bounded).
    """

    def __init__(self, maxsize: int = 20_000, retry: float = 30.0) -> None:
        self._queue: queue.Queue[DecisionRecord] = queue.Queue(maxsize=maxsize)
        self._retry = retry
        self._closing = threading.Event()
        self._dropped = 0
        self._held = False
        self._thread = threading.Thread(target=self._run, name="nac-siem", daemon=True)
        self._thread.start()

    def put(self, rec: DecisionRecord) -> None:
        try:
            self._queue.put_nowait(rec)
        except queue.Full:
            self._dropped += 1
            if self._dropped % 10_000 == 1:
                logger.warning("nac: SIEM hand-off is {} behind; {} decision events dropped "
                               "(nac_decisions still has them)", self._queue.maxsize,
                               self._dropped)

    def _run(self) -> None:
        from siem.submit import submit

        while True:
            try:
                rec = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            try:
                where = submit(siem_line(rec))
            except Exception as exc:  # submit never raises for delivery; keep shipping
                logger.warning("nac: decision not handed to the SIEM: {}", exc)
                where = "dropped"
            finally:
                self._queue.task_done()
            if where in ("queue", "tcp"):
                if self._held:
                    logger.info("nac: SIEM reachable again; handing decision events over")
                    self._held = False
                continue
            if not self._held:
                logger.warning("nac: no SIEM listening (a decision went to {}); holding "
                               "decision events back, retrying every {:.0f} s", where,
                               self._retry)
                self._held = True
            if self._closing.wait(self._retry):
                return

    def join(self, timeout: float = 10.0) -> None:
        """Wait until what was queued is handed over (not while no SIEM listens), stop."""
        deadline = time.monotonic() + timeout
        while (self._queue.unfinished_tasks and self._thread.is_alive() and not self._held
               and time.monotonic() < deadline):
            time.sleep(0.02)
        self._closing.set()
        self._thread.join(timeout=max(0.1, deadline - time.monotonic()))


def session_sink(session: Session) -> DecisionSink:
    """A synchronous sink: add the decision to *session* (CLI, tests) and log it."""

    def sink(rec: DecisionRecord) -> None:
        session.add(NacDecision(**asdict(rec)))
        log_line(rec)

    return sink


class DecisionWriter:
    """Batches decisions from many threads into ``nac_decisions`` on a background thread."""

    def __init__(self, db: Database, interval: float = 0.2, max_batch: int = 2000,
                 put_timeout: float = 1.0, siem: bool | None = None) -> None:
        """*siem*: hand decisions to the SIEM; None = when *db* is the installation's."""
        self.db = db
        ship = is_installation_db(db) if siem is None else siem
        self._siem = SiemShipper() if ship else None
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
            if self._siem is not None:
                self._siem.put(rec)

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
            if self._siem is not None:
                self._siem.put(rec)

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
        if self._siem is not None:
            self._siem.join()
