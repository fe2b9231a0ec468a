"""Detection on the writer thread: rules after each stored batch, incidents, state saves.

``DetectionRunner.after_batch`` runs once the batch's transaction committed (so an
event is stored before any alert points at it) and files alerts in a transaction of
its own. Failures are logged and never stop ingest. Every few seconds ``periodic``
runs the time-driven rules, syncs switches and hit counts, and saves correlation state.
"""

from __future__ import annotations

import time
from typing import Any

from loguru import logger
from sqlalchemy.orm.exc import StaleDataError

from siem.detect.alerts import Alert
from siem.detect.engine import Detector
from siem.incidents import Notifier, file_alerts
from siem.settings import SiemSettings
from simpul.db import Database


class DetectionRunner:
    """Glue between the writer, the detector and the incident store."""

    def __init__(self, db: Database, detector: Detector, *, notifier: Notifier | None = None,
                 state_save_s: float = 30.0, live: bool = True) -> None:
        self.db, self.detector, self.notifier = db, detector, notifier
        self.state_save_s = state_save_s
        # live: the service's runner. A replay (``simpul siem ingest``) starts with empty
        # correlation state, never saves it over the service's, and runs no absence
        # checks (old logs would make every host look silent); switches and hit counts
        # are shared either way.
        self.live = live
        self._next_save = 0.0
        self._next_tick = 0.0
        self.alerts = 0
        self.started = False

    @classmethod
    def build(cls, db: Database, siem: SiemSettings, *, expected_hosts: Any = None,
              live: bool = True) -> DetectionRunner:
        """The runner the service uses: shipped + user rules, helpdesk lookup, SMTP."""
        from siem.inventory_link import approved_change

        detector = Detector.from_dirs(
            siem.rules_dirs, change_lookup=lambda dev, when: approved_change(db, dev, when),
            expected_hosts=expected_hosts)
        notifier = Notifier(host=siem.smtp_host, port=siem.smtp_port, sender=siem.mail_from,
                            recipients=siem.notify_to, min_severity=siem.notify_min_severity)
        return cls(db, detector, notifier=notifier, state_save_s=siem.state_save_s, live=live)

    def start(self) -> None:
        """Read switches and restore correlation state (writer thread, before ingest)."""
        try:
            with self.db.session() as session:
                self.detector.sync(session)
                if self.live:
                    self.detector.load_state(session)
        except Exception as exc:
            logger.error("siem detection state not restored: {}", exc)
        self.started = True
        self._next_save = time.monotonic() + self.state_save_s

    def after_batch(self, events: list[dict[str, Any]]) -> list[Alert]:
        """Run the rules on stored *events* and file the alerts."""
        alerts = self.detector.process(events)
        self._file(alerts)
        return alerts

    def _file(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        self.alerts += len(alerts)
        for attempt in (1, 2):
            try:
                with self.db.session() as session:
                    file_alerts(session, alerts, notifier=self.notifier)
                return
            except StaleDataError:  # an analyst saved the incident meanwhile: re-read, redo
                if attempt == 2:
                    raise

    def periodic(self, force: bool = False) -> None:
        """Absence checks every 10 s; switches, hit counts and state every ``state_save_s``."""
        now = time.monotonic()
        if self.live and (force or now >= self._next_tick):
            self._next_tick = now + 10.0
            self._file(self.detector.tick())
        if force or now >= self._next_save:
            self._next_save = now + self.state_save_s
            with self.db.session() as session:
                self.detector.sync(session)
                if self.live:
                    self.detector.save_state(session)

    def stop(self) -> None:
        """Save hit counts and state one last time."""
        try:
            self.periodic(force=True)
        except Exception as exc:
            logger.error("siem detection state not saved: {}", exc)
