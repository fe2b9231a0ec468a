"""Celery scale-out: each ``simpul worker`` polls the shares of devices it is handed.

The scheduler (``simpul up`` with ``SIMPUL_SNMP_MODE=celery``, or ``simpul collectors snmp
dispatch``) sends one ``poll_share(share, shares)`` task per share and cycle; a worker
reads the share's devices from the inventory, polls them with the same poller and
writes them with the same store code, reading the previous counters from the database,
so it does not matter which worker gets which share next time. Tasks expire after one
interval: a backlog is dropped rather than polled late.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from functools import cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery

from collectors.snmp.settings import SnmpSettings, load_snmp_settings
from simpul.errors import SimpulError

QUEUE = "snmp"
TASK_NAME = "simpul.snmp.poll_share"


def make_celery(redis_url: str) -> Celery:
    """Return the Celery app on *redis_url* (broker and result backend)."""
    app = Celery("simpul", broker=redis_url, backend=redis_url)
    app.conf.update(
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK_NAME, bind=True)(poll_share)
    return app


@cache
def _context() -> Any:
    from simpul.context import AppContext

    return AppContext.create()


def worker_name() -> str:
    """The name this process records in ``snmp_device_state.polled_by``."""
    return f"{socket.gethostname()}/{os.getpid()}"


class _WorkerLoop:
    """One event loop and one poller per worker process, kept across tasks.

    A fresh SnmpEngine per task would redo SNMPv3 engine discovery and key localisation
    (hundreds of milliseconds of hashing per agent) every interval.
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.poller: Any = None

    def poll(self, settings: SnmpSettings, targets: list[Any], *, with_lldp: bool) -> Any:
        from collectors.snmp.poller import SnmpPoller
        from collectors.snmp.service import poll_targets

        if self.loop is None or self.loop.is_closed():
            self.loop = asyncio.new_event_loop()
            self.poller = None

        async def run() -> Any:
            if self.poller is None or self.poller.settings != settings:
                if self.poller is not None:
                    self.poller.close()
                self.poller = SnmpPoller(settings)
            return await poll_targets(self.poller, targets, with_lldp=with_lldp)

        return self.loop.run_until_complete(run())


_WORKER_LOOP = _WorkerLoop()


def poll_share(task: Any, share: int, shares: int, with_lldp: bool = True) -> dict[str, Any]:
    """Poll the devices of one share and store the results; return a summary."""
    from collectors.snmp.service import load_targets
    from collectors.snmp.targets import share_of
    from collectors.snmp.writer import MetricWriter

    app = _context()
    settings = load_snmp_settings()
    targets = [t for t in load_targets(app, settings) if share_of(t.device_id, shares) == share]
    report = _WORKER_LOOP.poll(settings, targets, with_lldp=with_lldp)
    MetricWriter(app.db, settings, polled_by=worker_name(), maintenance=False).write(report.results)
    return {"share": share, "shares": shares, "devices": report.devices, "ok": report.ok,
            "failed": report.failed, "interfaces": report.interfaces,
            "seconds": round(report.seconds, 3), "worker": worker_name()}


def check_broker(url: str) -> None:
    """Fail fast with one line when the broker does not answer (instead of 20 retries)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise SimpulError(f"cannot reach the Redis broker at {safe_redis_url(url)}: "
                          f"{str(exc).splitlines()[0]}") from None


def safe_redis_url(url: str) -> str:
    """Return *url* without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def dispatch_round(settings: SnmpSettings | None = None, *, with_lldp: bool = True,
                   expires: float | None = None, wait: float | None = None) -> list[Any]:
    """Send one task per share; with *wait*, return their summaries (else the AsyncResults)."""
    settings = settings or load_snmp_settings()
    app = make_celery(settings.redis_url)
    check_broker(settings.redis_url)
    task = app.tasks[TASK_NAME]
    sent = [task.apply_async((share, settings.shares, with_lldp), queue=QUEUE, expires=expires)
            for share in range(settings.shares)]
    if wait is None:
        return sent
    deadline = time.monotonic() + wait
    return [r.get(timeout=max(0.1, deadline - time.monotonic())) for r in sent]
