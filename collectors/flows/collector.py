"""The NetFlow/IPFIX collector service: a UDP reader thread and a writer thread.

The reader only receives and decodes (``struct`` does the work, about a microsecond
per record) and queues the decoded records; it never waits for the aggregation or the
database, so the socket is emptied as fast as the kernel fills it. The writer folds the
queued records into the in-memory aggregate (yielding the GIL often), swaps it out every
``flush_s`` seconds (or as soon as ``max_keys`` keys are pending) and inserts one batch;
once a minute it also refreshes the OPD table from the inventory, rolls up complete
hours and applies retention. The queue is bounded (``max_pending`` records): beyond it,
records are counted as ``dropped`` instead of growing memory. A bad datagram is counted
per exporter and dropped.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

from loguru import logger

from collectors.flows import store
from collectors.flows.aggregate import Aggregator
from collectors.flows.attribution import OpdResolver
from collectors.flows.netflow import FlowDecoder, MalformedPacket
from collectors.flows.settings import FlowSettings
from simpul.db import Database
from simpul.errors import ConfigError

MAINTENANCE_EVERY_S = 60.0
MAX_DATAGRAM = 65535
YIELD_EVERY_RECORDS = 2000


@dataclass
class CollectorStats:
    """Totals since start, for the CLI, the benchmark and the tests."""

    packets: int = 0
    records: int = 0
    malformed: int = 0
    no_template: int = 0
    dropped: int = 0
    stored_rows: int = 0
    flushes: int = 0
    write_errors: int = 0


class FlowCollector:
    """Listens on every configured address; ``start``/``stop`` for ``simpul up``."""

    name = "flow collector"

    def __init__(self, db: Database | None, settings: FlowSettings) -> None:
        self.db = db
        self.settings = settings
        self.decoder = FlowDecoder(settings.sampling_map())
        self.resolver = OpdResolver()
        self.aggregator = Aggregator(self.resolver.lookup,
                                     max_conversations=settings.max_keys)
        self.stats = CollectorStats()
        self.sockets: list[socket.socket] = []
        self._deltas: dict[str, store.ExporterDelta] = {}
        self._delta_lock = threading.Lock()
        self._pending: deque[tuple[str, list, float]] = deque()
        self._pending_records = 0
        self._pending_lock = threading.Lock()
        self._has_pending = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_maintenance = 0.0

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The bound ``(host, port)`` pairs (ports resolved when configured as 0)."""
        return [s.getsockname()[:2] for s in self.sockets]

    def bind(self) -> None:
        """Open the UDP sockets (separately from ``start`` so tests learn the ports first)."""
        if self.sockets or self.settings.port is None:
            return
        for host in self.settings.hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.settings.rcvbuf)
                sock.bind((host, self.settings.port))
            except OSError as exc:
                sock.close()
                self.close_sockets()
                raise ConfigError(f"flow collector cannot listen on {host}:"
                                  f"{self.settings.port}: {exc.strerror}") from None
            sock.setblocking(False)
            self.sockets.append(sock)

    def close_sockets(self) -> None:
        """Close every socket."""
        for sock in self.sockets:
            sock.close()
        self.sockets = []

    def start(self) -> None:
        """Bind, then run the reader and the writer threads."""
        self.bind()
        if not self.sockets:
            logger.info("flow collector disabled (SIMPUL_FLOW_PORT=off)")
            return
        self._stop.clear()
        if self.db is not None:
            # OPD prefixes before the first datagram, so no flow is cached as "no OPD".
            self._last_maintenance = time.monotonic()
            self.maintenance()
        self._threads = [threading.Thread(target=self._read_loop, name="flow-reader",
                                          daemon=True)]
        if self.db is not None:
            self._threads.append(threading.Thread(target=self._write_loop, name="flow-writer",
                                                  daemon=True))
        for t in self._threads:
            t.start()
        logger.info("flow collector listening on {}",
                    ", ".join(f"{h}:{p}" for h, p in self.addresses))

    def stop(self) -> None:
        """Stop reading, write what is queued and aggregated, close the sockets."""
        self._stop.set()
        self._wake.set()
        self._has_pending.set()
        for t in self._threads:
            t.join(timeout=60)
        self._threads = []
        self.close_sockets()

    # -- reader ----------------------------------------------------------------------
    def handle(self, data: bytes, exporter: str, now: float | None = None) -> int:
        """Decode one datagram and queue its records for the writer (fold them in place
        when there is no writer thread); return the number of records (0 if bad)."""
        now = time.time() if now is None else now
        before_nt = self.decoder.stats.no_template
        try:
            version, records = self.decoder.decode(data, exporter)
        except MalformedPacket as exc:
            self.stats.malformed += 1
            self._count(exporter, 0, 0, malformed=1)
            logger.debug("malformed flow datagram from {}: {}", exporter, exc)
            return 0
        missing = self.decoder.stats.no_template - before_nt
        self.stats.packets += 1
        self.stats.records += len(records)
        self.stats.no_template += missing
        self._count(exporter, version, len(records), no_template=missing,
                    sampling=self.decoder.last_sampling if records else None)
        if not records:
            return 0
        if self.db is None or not self._threads:
            self.aggregator.add(exporter, records, now)  # no writer thread: fold in place
            return len(records)
        with self._pending_lock:
            if self._pending_records + len(records) > self.settings.max_pending:
                self.stats.dropped += len(records)
                return len(records)
            self._pending.append((exporter, records, now))
            self._pending_records += len(records)
        self._has_pending.set()
        return len(records)

    def aggregate_pending(self, budget: int | None = None) -> int:
        """Fold queued records into the aggregate (at most about *budget*); return count."""
        done = 0
        since_yield = 0
        while self._pending and (budget is None or done < budget):
            try:
                exporter, records, now = self._pending.popleft()
            except IndexError:
                break
            self.aggregator.add(exporter, records, now)
            with self._pending_lock:
                self._pending_records -= len(records)
            done += len(records)
            since_yield += len(records)
            if since_yield >= YIELD_EVERY_RECORDS:
                since_yield = 0
                time.sleep(0)  # the reader gets the GIL promptly
        if len(self.aggregator) >= self.settings.max_keys:
            self._wake.set()  # flush early; conversations beyond the cap are not tracked
        return done

    def _count(self, exporter: str, version: int, records: int, *, malformed: int = 0,
               no_template: int = 0, sampling: tuple[float, str] | None = None) -> None:
        with self._delta_lock:
            d = self._deltas.get(exporter)
            if d is None:
                d = self._deltas[exporter] = store.ExporterDelta()
            if version:
                d.version = version
            d.packets += 1
            d.records += records
            d.malformed += malformed
            d.no_template += no_template
            if sampling is not None:
                d.sampling_rate, d.sampling_source = sampling

    def _read_loop(self) -> None:
        sel = selectors.DefaultSelector()
        for sock in self.sockets:
            sel.register(sock, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    # Drain the socket before going back to select: fewer syscalls per
                    # datagram under load.
                    for _ in range(256):
                        try:
                            data, addr = sock.recvfrom(MAX_DATAGRAM)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError as exc:
                            logger.warning("flow socket error: {}", exc)
                            break
                        try:
                            self.handle(data, addr[0])
                        except Exception as exc:  # never let one datagram stop the reader
                            self.stats.malformed += 1
                            logger.error("flow datagram from {} failed: {}", addr[0], exc)
        finally:
            sel.close()

    # -- writer ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        next_flush = time.monotonic() + self.settings.flush_s
        while not self._stop.is_set():
            self._has_pending.wait(min(0.2, max(0.0, next_flush - time.monotonic())))
            self._has_pending.clear()
            self.aggregate_pending(budget=50_000)
            if self._wake.is_set() or time.monotonic() >= next_flush:
                self._wake.clear()
                self.flush()
                next_flush = time.monotonic() + self.settings.flush_s
        self.aggregate_pending()
        self.flush()

    def flush(self) -> int:
        """Write everything aggregated so far; run maintenance when due. Returns rows."""
        assert self.db is not None
        now = time.monotonic()
        if now - self._last_maintenance >= MAINTENANCE_EVERY_S:
            self._last_maintenance = now
            self.maintenance()
        self.aggregate_pending()
        rows = self.aggregator.drain()
        with self._delta_lock:
            deltas, self._deltas = self._deltas, {}
        if not rows and not deltas:
            return 0
        try:
            with self.db.session() as session:
                store.insert_aggregates(session, rows)
                store.update_exporters(session, deltas)
        except Exception as exc:
            # The rows are lost for this flush, never the collector: log and go on.
            self.stats.write_errors += 1
            logger.error("flow flush of {} rows failed: {}", len(rows), exc)
            return 0
        self.stats.stored_rows += len(rows)
        self.stats.flushes += 1
        return len(rows)

    def maintenance(self) -> None:
        """Refresh OPD prefixes, roll up complete hours, apply retention."""
        assert self.db is not None
        try:
            self.resolver.refresh(self.db)
            self.aggregator.reset_opds()
            with self.db.session() as session:
                store.rollup(session)
                store.apply_retention(session, minute_hours=self.settings.minute_retention_h,
                                      hour_days=self.settings.hour_retention_days)
        except Exception as exc:
            logger.error("flow maintenance failed: {}", exc)
