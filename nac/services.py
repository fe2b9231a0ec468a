"""Background service for ``simpul up``: FreeRADIUS plus the fail-over cache exporter.

FreeRADIUS is started by default (127.0.0.1:1812/1813) with a freshly generated
configuration when the binary exists; otherwise a clear warning is logged and the rest
of simpul runs on. A thread rewrites the fail-over cache every
``SIMPUL_NAC_CACHE_INTERVAL`` seconds (HUP to FreeRADIUS when it changed) and marks
registrations whose expiry passed as expired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from loguru import logger

from nac.cache import write_cache
from nac.radiusconf import write_radius_config
from nac.register import expire_due
from nac.server import FreeRadiusProcess, PolicyServerProcess, freeradius_binary
from nac.settings import NacSettings, load_nac_settings
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import SimpulError


class NacService:
    """FreeRADIUS child plus the periodic cache export, started and stopped together."""

    name = "nac (FreeRADIUS)"

    def __init__(self, app: AppContext, nac: NacSettings | None = None) -> None:
        self.app = app
        self.nac = nac or load_nac_settings(app.settings)
        self.radius: FreeRadiusProcess | None = None
        self.policy: PolicyServerProcess | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Generate the config and spawn FreeRADIUS; readiness is checked in the background."""
        if not self.nac.enabled:
            logger.info("nac: FreeRADIUS disabled (SIMPUL_RADIUS_ENABLED)")
            return
        if freeradius_binary(self.nac) is None:
            logger.warning("nac: FreeRADIUS not found at {}: RADIUS (802.1X/MAB) is NOT "
                           "served; install freeradius and freeradius-rest", self.nac.binary)
            return
        try:
            nac = self._start_policy_server()
            with self.app.db.session() as session:
                config = write_radius_config(session, nac)
            self.radius = FreeRadiusProcess(nac, config.raddb, config.logdir)
            self.radius.start()
        except (SimpulError, OSError) as exc:
            logger.error("nac: FreeRADIUS not started: {}", exc)
            self.radius = None
            if self.policy is not None:
                self.policy.stop()
                self.policy = None
            return
        self.nac = nac
        self._spawn(self._watch_ready, "nac-radius-ready")
        if self.policy is not None:
            self._spawn(self._supervise_policy, "nac-policy-watch")
        self._spawn(lambda: self._export_loop(config.cache_file), "nac-cache")

    def _start_policy_server(self) -> NacSettings:
        """Start the dedicated policy process unless an API URL was given or it is off;
        return the settings with rlm_rest's URL pointing at whatever answers."""
        if not self.nac.policy_server or self.nac.api_url_explicit:
            return self.nac
        settings = self.app.settings
        self.policy = PolicyServerProcess(self.nac, {
            "SIMPUL_DATA_DIR": str(settings.data_dir),
            "SIMPUL_DATABASE_URL": settings.database_url,
            "SIMPUL_LOG_LEVEL": settings.log_level})
        self.policy.start()
        return replace(self.nac, api_url=self.policy.url)

    def _supervise_policy(self) -> None:
        """Restart the policy process if it dies; meanwhile FreeRADIUS serves the cache."""
        while not self._stop.wait(1.0):
            policy = self.policy
            if policy is None or policy.running or self._stop.is_set():
                continue
            logger.error("nac: policy server exited (code {}); restarting it — FreeRADIUS "
                         "answers from the fail-over cache meanwhile",
                         policy.proc.returncode if policy.proc else "?")
            try:
                policy.start()
            except (SimpulError, OSError) as exc:
                logger.error("nac: policy server restart failed: {}", exc)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch_ready(self) -> None:
        assert self.radius is not None
        try:
            self.radius.wait_ready()
            logger.info("nac: FreeRADIUS ready on {}:{}/{} (policy API {})", self.nac.host,
                        self.nac.auth_port, self.nac.acct_port, self.nac.api_url)
        except SimpulError as exc:
            logger.error("nac: {}", exc)

    def export_once(self, cache_file: Path) -> bool:
        """Expire due registrations, rewrite the cache; HUP FreeRADIUS if it changed."""
        with self.app.db.session() as session:
            expire_due(session, Actor.system("nac"))
            changed = write_cache(session, cache_file,
                                  horizon_seconds=2 * self.nac.cache_interval)
        if changed and self.radius is not None:
            self.radius.reload(cache_file)
        return changed

    def _export_loop(self, cache_file: Path) -> None:
        while not self._stop.wait(max(self.nac.cache_interval, 1)):
            try:
                self.export_once(cache_file)
            except Exception as exc:  # keep exporting; the next round may succeed
                logger.error("nac: cache export failed: {}", exc)

    def stop(self) -> None:
        """Stop the exporter, then FreeRADIUS (by PID)."""
        self._stop.set()
        if self.radius is not None:
            self.radius.stop()
            self.radius = None
        if self.policy is not None:  # after FreeRADIUS: no request is cut short
            self.policy.stop()
            self.policy = None
        for thread in self._threads:
            thread.join(timeout=5)


def background_services(app: AppContext) -> list[NacService]:
    """Return the NAC service (configured from ``SIMPUL_RADIUS_*``)."""
    return [NacService(app)]
