"""The polling service: every interval, poll the inventory's devices (or hand shares to Celery).

``poll_once`` is the one operation behind ``simpul collectors snmp poll``, the service
loop and the tests. In ``local`` mode the service polls in its own thread and event loop;
in ``celery`` mode it only sends one ``poll_share`` task per share each cycle and keeps
running roll-ups and retention (the workers never do).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass

from loguru import logger

from collectors.snmp.poller import PollResult, SnmpPoller, Target
from collectors.snmp.settings import SnmpSettings, load_snmp_settings
from collectors.snmp.targets import list_targets
from collectors.snmp.writer import MetricWriter
from simpul.aio import run_sync
from simpul.context import AppContext


@dataclass
class CycleReport:
    """One poll cycle: how many devices answered and how long it took."""

    devices: int
    ok: int
    failed: int
    interfaces: int
    seconds: float
    results: list[PollResult]


def load_targets(app: AppContext, settings: SnmpSettings,
                 device_ids: list[int] | None = None) -> list[Target]:
    """Read the targets from the inventory (a short read-only transaction)."""
    with app.db.session(write=False) as session:
        return list_targets(session, settings, device_ids=device_ids)


async def poll_targets(poller: SnmpPoller, targets: list[Target], *,
                       with_lldp: bool) -> CycleReport:
    """Poll *targets* once and summarise."""
    t0 = time.perf_counter()
    results = await poller.poll_all(targets, with_lldp=with_lldp)
    ok = [r for r in results if r.ok]
    return CycleReport(len(results), len(ok), len(results) - len(ok),
                       sum(len(r.interfaces) for r in ok), time.perf_counter() - t0, results)


def run_poll(settings: SnmpSettings, targets: list[Target], *, with_lldp: bool) -> CycleReport:
    """Poll *targets* once in a fresh event loop (closing the engine inside it)."""

    async def run() -> CycleReport:
        poller = SnmpPoller(settings)
        try:
            return await poll_targets(poller, targets, with_lldp=with_lldp)
        finally:
            poller.close()

    return run_sync(run())


def poll_once(app: AppContext, settings: SnmpSettings | None = None, *,
              device_ids: list[int] | None = None, with_lldp: bool = True,
              polled_by: str = "") -> CycleReport:
    """Poll the inventory's devices once and store the results before returning."""
    settings = settings or load_snmp_settings()
    targets = load_targets(app, settings, device_ids)
    report = run_poll(settings, targets, with_lldp=with_lldp)
    MetricWriter(app.db, settings, polled_by=polled_by or socket.gethostname(),
                 maintenance=False).write(report.results)
    return report


class SnmpService:
    """``simpul up``'s SNMP poller: a thread with its own event loop, and the writer thread."""

    name = "snmp poller"

    def __init__(self, app: AppContext, settings: SnmpSettings | None = None) -> None:
        self.app = app
        self.settings = settings or load_snmp_settings()
        self.writer = MetricWriter(app.db, self.settings, polled_by=socket.gethostname())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cycles = 0
        self.last_report: CycleReport | None = None

    def start(self) -> None:
        self.writer.start()
        self._thread = threading.Thread(target=self._run, name="snmp-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.settings.interval_s + 5)
        self.writer.stop()

    def _run(self) -> None:
        if self.settings.mode == "celery":
            self._run_dispatcher()
            return
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        poller = SnmpPoller(self.settings)
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    targets = load_targets(self.app, self.settings)
                    report = await poll_targets(
                        poller, targets,
                        with_lldp=self.cycles % self.settings.lldp_every == 0)
                    self.writer.submit(report.results)
                    self.last_report = report
                    logger.debug("SNMP cycle {}: {}/{} devices, {} interfaces in {:.2f} s",
                                 self.cycles, report.ok, report.devices, report.interfaces,
                                 report.seconds)
                except Exception as exc:  # the inventory read can fail; try next cycle
                    logger.error("SNMP cycle failed: {}", exc)
                self.cycles += 1
                wait = self.settings.interval_s - (time.monotonic() - started)
                if wait < 0:
                    logger.warning("SNMP cycle took {:.1f} s, longer than the {:.0f} s interval",
                                   time.monotonic() - started, self.settings.interval_s)
                await asyncio.to_thread(self._stop.wait, max(0.0, wait))
        finally:
            poller.close()

    def _run_dispatcher(self) -> None:
        from collectors.snmp.celery_app import dispatch_round

        while not self._stop.is_set():
            started = time.monotonic()
            try:
                dispatch_round(self.settings, with_lldp=self.cycles % self.settings.lldp_every == 0,
                               expires=self.settings.interval_s)
            except Exception as exc:
                logger.error("SNMP dispatch to Celery failed: {}", exc)
            self.cycles += 1
            self._stop.wait(max(0.0, self.settings.interval_s - (time.monotonic() - started)))
