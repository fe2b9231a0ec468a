"""``simpul up``: the web UI plus every background service in one process.

Domain packages contribute services by exposing ``background_services(app)`` in a
``<package>.services`` module, returning objects with ``name``, ``start()`` and
``stop()``. The web server runs in the main thread; Ctrl-C or SIGTERM stops the web
server first, then the services in reverse start order, then closes the database.
"""

from __future__ import annotations

import errno
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

from loguru import logger

from simpul import migrate
from simpul.context import AppContext
from simpul.db import check_connection
from simpul.errors import ConfigError, DatabaseError
from simpul.plugins import optional_import

SERVICE_MODULES = (
    "collectors.services",
    "siem.services",
    "nac.services",
    "playbooks.services",
    "webui.helpdesk.jobs",
)


class BackgroundService(Protocol):
    """What ``simpul up`` needs from a service: a name and a start/stop pair."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def run_until_signal(services: Sequence[BackgroundService], describe: Callable[[], str],
                     announce: Callable[[str], None]) -> None:
    """Start *services*, announce them, and stop them (newest first) on SIGINT/SIGTERM.

    The foreground commands (``simpul siem run``, ``collectors flows run``, ...) run one
    part alone this way; *describe* is called once everything started, so it can name
    the ports actually bound. A service that fails to start stops those already started.
    """
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    started: list[BackgroundService] = []
    try:
        for service in services:
            service.start()
            started.append(service)
        announce(f"{describe()} (Ctrl-C stops)")
        while not stop.wait(0.5):
            pass
    finally:
        for service in reversed(started):
            service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def discover_services(app: AppContext) -> list[BackgroundService]:
    """Ask every installed domain package for its background services."""
    found: list[BackgroundService] = []
    for module_name in SERVICE_MODULES:
        factory = getattr(optional_import(module_name), "background_services", None)
        if factory is not None:
            found.extend(factory(app))
    return found


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Make SIGINT and SIGTERM both stop the server cleanly.

    SIGINT is set explicitly because a process started in the background by a
    non-interactive shell inherits it as ignored, and Python then never raises
    KeyboardInterrupt: Ctrl-C to the process group would do nothing.
    """

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def prepare_database(app: AppContext, *, migrate_schema: bool) -> None:
    """Make sure the database answers and has the current schema before anything starts."""
    check_connection(app.db.engine)
    if migrate_schema:
        migrate.upgrade(app.db)
    elif not migrate.is_current(app.db):
        raise DatabaseError("database schema is not current: run `simpul db upgrade`")


def run_all(app: AppContext, *, migrate: bool = True) -> None:
    """Serve the web UI and run background services until interrupted."""
    from waitress import create_server

    from webui import create_app

    prepare_database(app, migrate_schema=migrate)
    flask_app = create_app(context=app)
    host, port = app.settings.web_host, app.settings.web_port
    try:
        server = create_server(flask_app, host=host, port=port, threads=app.settings.web_threads,
                               ident="simpul")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use (choose --port)") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None

    started: list[BackgroundService] = []
    with _stop_signals_interrupt():
        try:
            for service in discover_services(app):
                service.start()
                started.append(service)
                logger.info("started {}", service.name)
            logger.info("simpul is up: http://{}:{}/ (Ctrl-C stops)", host, port)
            server.run()  # waitress returns from here on Ctrl-C / SIGTERM
        except KeyboardInterrupt:
            pass
        finally:
            logger.info("stopping")
            server.close()
            for service in reversed(started):
                try:
                    service.stop()
                    logger.info("stopped {}", service.name)
                except Exception as exc:  # keep stopping the others
                    logger.error("stopping {} failed: {}", service.name, exc)
            app.db.dispose()
