"""Running probes on their intervals inside ``simpul up``: one asyncio loop in one thread.

Each probe is due every ``interval_s``; due probes run together under the concurrency
bound, and their results are written in one transaction per round, so a slow target
only delays itself. The probe list is re-read every round, so probes added through the
CLI, API or UI start without a restart.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from loguru import logger
from sqlalchemy import select

from collectors.probes.models import Probe
from collectors.probes.service import prune_results, run_specs, spec_of, store_results
from simpul.db import Database
from simpul.models import utcnow

RETENTION = timedelta(days=400)


class ProbeScheduler:
    """Background service: run every enabled probe when it is due."""

    name = "probes"

    def __init__(self, db: Database, *, tick: float = 1.0, concurrency: int = 100) -> None:
        self.db = db
        self.tick = tick
        self.concurrency = concurrency
        self._next_due: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def start(self) -> None:
        """Start the scheduler thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_due(self) -> int:
        """Run the probes due now and store their results; return how many ran."""
        with self.db.session(write=False) as session:
            probes = list(session.scalars(select(Probe).where(Probe.enabled.is_(True))))
            specs = {p.id: spec_of(p) for p in probes}
            intervals = {p.id: p.interval_s for p in probes}
        now = time.monotonic()
        due = {pid: spec for pid, spec in specs.items() if self._next_due.get(pid, 0) <= now}
        for pid in list(self._next_due):
            if pid not in specs:
                del self._next_due[pid]
        if not due:
            return 0
        for pid in due:
            self._next_due[pid] = now + intervals[pid]
        results = asyncio.run(run_specs(due, self.concurrency))
        with self.db.session() as session:
            store_results(session, results, utcnow())
        self.rounds += 1
        return len(due)

    def _run(self) -> None:
        last_prune = 0.0
        while not self._stop.is_set():
            try:
                self.run_due()
                if time.monotonic() - last_prune > 3600:
                    last_prune = time.monotonic()
                    with self.db.session() as session:
                        prune_results(session, RETENTION)
            except Exception as exc:  # keep probing; the next round retries
                logger.error("probe round failed: {}", exc)
            self._stop.wait(self.tick)
