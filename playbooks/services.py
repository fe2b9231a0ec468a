"""Background services of the playbooks package under ``simpul up``: the daily backup.

The backup runs once a day at ``SIMPUL_BACKUP_HOUR`` (local time of ``SIMPUL_TIMEZONE``;
``off`` disables it). A run that fails is logged and retried at the next day's hour —
devices that could not be reached keep their last good config in the repository.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loguru import logger

from playbooks.backup.settings import BackupSettings, load_backup_settings
from simpul.context import AppContext


def next_run(now: datetime, hour: int) -> datetime:
    """Return the next time at *hour*:00 strictly after *now* (same time zone as *now*)."""
    candidate = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= now:
        candidate = (candidate + timedelta(days=1)).replace(hour=hour)
    return candidate


class DailyBackupService:
    """A thread that runs ``run_backup`` once a day at the configured hour."""

    name = "playbooks-daily-backup"

    def __init__(self, app: AppContext, settings: BackupSettings,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.settings = settings
        tz = ZoneInfo(app.settings.timezone)
        self.clock = clock or (lambda: datetime.now(tz))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_run: object | None = None

    def run_once(self) -> None:
        """Back up every device now (what the schedule calls)."""
        from playbooks.backup import run_backup

        self.last_run = run_backup(self.app, settings=self.settings)

    def _loop(self) -> None:
        assert self.settings.hour is not None
        while True:
            wait = (next_run(self.clock(), self.settings.hour) - self.clock()).total_seconds()
            if self._stop.wait(max(wait, 0.0)):
                return
            try:
                self.run_once()
            except Exception as exc:  # keep the schedule alive; tomorrow retries
                logger.bind(task=self.name).opt(exception=exc).error("daily backup failed")

    def start(self) -> None:
        """Start the schedule in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        logger.bind(task=self.name).info("daily config backup at {:02d}:00 into {}",
                                         self.settings.hour, self.settings.repo_dir)

    def stop(self) -> None:
        """Stop the schedule (a backup in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)


def background_services(app: AppContext) -> list[DailyBackupService]:
    """Return the daily backup, unless ``SIMPUL_BACKUP_HOUR=off``."""
    settings = load_backup_settings(app.settings)
    if settings.hour is None:
        return []
    return [DailyBackupService(app, settings)]
