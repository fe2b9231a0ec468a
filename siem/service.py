"""The SIEM ingest service: listeners, tailers and spool pump on one asyncio thread, the
database writer on another. Used by ``simpul up`` (through ``siem.services``) and by
``simpul siem run``.

Start order: spool (locks the directory, recovers), writer (begins draining what a
previous run left), then the listeners. Stop order is the reverse, so every record a
listener accepted is in the spool before the writer gets its final drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from datetime import tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loguru import logger

from siem.enrich import EnrichmentRegistry, build_registry
from siem.intake import RecordQueue, SpoolPump
from siem.normalise import NormaliseOptions
from siem.receivers import ReceiverContext, bound_port, start_stream, start_udp, tls_context
from siem.settings import SiemSettings, load_siem_settings
from siem.spool import Record, Spool
from siem.stats import SourceStats, default_stats
from siem.tail import FileTailer, TailState
from siem.writer import EventWriter
from simpul.context import AppContext
from simpul.errors import ConfigError

if TYPE_CHECKING:
    from siem.detect.runner import DetectionRunner


def resolve_tz(name: str) -> tzinfo:
    """Return the zone used for RFC 3164 timestamps, which carry none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SIMPUL_SIEM_DEFAULT_TZ: unknown time zone {name!r}") from None


GC_THRESHOLD0 = 20_000
_GC_FROZEN = False


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a process that ingests events.

    Every event allocates a few dicts and lists that live until its batch is stored;
    with CPython's default threshold (700 allocations) the collector runs dozens of
    times per batch and walks the whole young heap each time, and every full
    collection walks the long-lived objects of the process (SQLAlchemy, pySigma, the
    rules). Measured on the benchmark stream that was a third of the parse-and-store
    time. ``gc.freeze()`` moves what exists at start-up out of the collector's sight,
    and a higher first threshold makes young collections rare; cycles are still
    collected, and reference counting frees everything else as before.
    """
    global _GC_FROZEN
    if not _GC_FROZEN:  # once: objects frozen later would never be collected
        _GC_FROZEN = True
        gc.freeze()
    threshold0, threshold1, threshold2 = gc.get_threshold()
    if threshold0 and threshold0 < GC_THRESHOLD0:
        gc.set_threshold(GC_THRESHOLD0, threshold1, threshold2)


def build_detection(app: AppContext, siem: SiemSettings, registry: EnrichmentRegistry, *,
                    live: bool = True) -> DetectionRunner:
    """The rules and incident filing of the pipeline (service and ``simpul siem ingest``).

    Registers the inventory enrichment on *registry* first (when enabled), so rules see
    device, site and OPD, and absence rules the inventory's device list.
    """
    from siem.detect.runner import DetectionRunner

    expected = None
    if siem.inventory_enrich:
        from siem.inventory_link import InventoryAssets

        assets = InventoryAssets(app.db)
        registry.register(assets)
        expected = assets.expected_hosts
    return DetectionRunner.build(app.db, siem, expected_hosts=expected, live=live)


class SiemService:
    """Receive syslog and tailed files into the spool, and the spool into the database."""

    name = "siem"

    def __init__(self, app: AppContext, siem: SiemSettings | None = None, *,
                 stats: SourceStats | None = None,
                 registry: EnrichmentRegistry | None = None) -> None:
        self.app = app
        self.siem = siem or load_siem_settings(app.settings)
        self.stats = stats or default_stats()
        self.registry = registry or build_registry(self.siem.asset_map)
        self.ports: dict[str, int] = {}
        self.spool: Spool | None = None
        self.writer: EventWriter | None = None
        self.detection: DetectionRunner | None = None
        self.pump: SpoolPump | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop_async: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._queue: RecordQueue | None = None

    def start(self) -> None:
        """Open the spool, start the writer and the listeners; raise if a port is unusable."""
        tz = resolve_tz(self.siem.default_tz)
        self.spool = Spool(self.siem.spool_dir, segment_bytes=self.siem.spool_segment_bytes,
                           fsync_ms=self.siem.fsync_ms).open()
        options = NormaliseOptions(epoch=self.spool.epoch, tz=tz)
        self.detection = self._detection() if self.siem.detect else None
        self.writer = EventWriter(self.app.db, self.spool, self.siem, self.stats,
                                  self.registry, options, self.detection)
        self.writer.start()
        self._thread = threading.Thread(target=self._thread_main, name="siem-ingest",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            self.writer.stop(drain_timeout=0)
            self.spool.close()
            raise ConfigError(f"syslog listener cannot start: {self._error}") from None
        from siem.submit import register_service

        register_service(self)
        tune_gc()
        logger.info("siem: listening {} on {}; spool {}",
                    ", ".join(f"{k}/{v}" for k, v in self.ports.items()) or "nothing",
                    self.siem.syslog_host, self.siem.spool_dir)

    def offer(self, rec: Record) -> bool:
        """Queue *rec* from any thread (``siem.submit``); False when full or not running."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or not loop.is_running():
            return False
        if threading.current_thread() is self._thread:
            return queue.offer([rec])
        fut = asyncio.run_coroutine_threadsafe(self._offer(rec), loop)
        try:
            return bool(fut.result(5.0))
        except Exception:
            return False

    async def _offer(self, rec: Record) -> bool:
        assert self._queue is not None
        return self._queue.offer([rec])

    def _detection(self) -> DetectionRunner:
        """Rules + incidents, with inventory enrichment registered ahead of them."""
        return build_detection(self.app, self.siem, self.registry)

    def stop(self) -> None:
        """Close the listeners, spool what was accepted, let the writer drain, close the spool."""
        from siem.submit import register_service

        register_service(None)
        if self._loop is not None and self._stop_async is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop_async.set)
        if self._thread is not None:
            self._thread.join(60)
        if self.writer is not None:
            self.writer.stop()
        if self.spool is not None:
            self.spool.close()

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start() or logged
            if not self._ready.is_set():
                self._error = exc
            else:
                logger.opt(exception=exc).error("siem ingest loop failed: {}", exc)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        assert self.spool is not None
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(_quiet_handler)
        self._stop_async = asyncio.Event()
        queue = RecordQueue(self.siem.queue_records)
        self._queue = queue
        self.pump = SpoolPump(queue, self.spool, max_backlog=self.siem.spool_max_bytes,
                              max_records=max(self.siem.batch_records, 1000))
        pump_task = asyncio.create_task(self.pump.run())
        ctx = ReceiverContext(queue, self.stats, self.siem.max_message)
        listeners: list[Any] = []
        host = self.siem.syslog_host
        if self.siem.udp_port is not None:
            udp = await start_udp(ctx, host, self.siem.udp_port, self.siem.udp_rcvbuf)
            listeners.append(udp)
            self.ports["udp"] = bound_port(udp)
        if self.siem.tcp_port is not None:
            tcp = await start_stream(ctx, host, self.siem.tcp_port, None)
            listeners.append(tcp)
            self.ports["tcp"] = bound_port(tcp)
        if self.siem.tls_enabled:
            assert self.siem.tls_port is not None
            tls = await start_stream(ctx, host, self.siem.tls_port,
                                     tls_context(self.siem.tls_cert, self.siem.tls_key))
            listeners.append(tls)
            self.ports["tls"] = bound_port(tls)
        state = TailState(self.siem.spool_dir / "tail-state.json")
        tailers = [asyncio.create_task(FileTailer(p, queue, self.stats, state,
                                                  max_message=self.siem.max_message).run())
                   for p in self.siem.tail_files]
        self._ready.set()
        while not self._stop_async.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), 1.0)
            if tailers:
                await asyncio.get_running_loop().run_in_executor(None, state.save)
        for listener in listeners:
            listener.close()
        for task in [*tailers, *ctx.connections]:
            task.cancel()
        await asyncio.gather(*tailers, *ctx.connections, return_exceptions=True)
        self.pump.stop()
        await pump_task
        if tailers:
            state.save()


def _quiet_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Failed TLS handshakes and resets from hostile peers are routine for a listener.
    exc = context.get("exception")
    if isinstance(exc, (ConnectionError, OSError)) or "handshake" in str(context.get("message")):
        logger.debug("siem: {}", context.get("message"))
        return
    loop.default_exception_handler(context)
