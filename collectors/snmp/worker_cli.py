"""``simpul worker``: a Celery worker that polls the SNMP shares it is handed.

One worker process is one poller (``--pool solo``): its event loop already polls many
devices at once, so more throughput means more worker processes or machines, each
started with the same ``SIMPUL_DATABASE_URL`` and ``SIMPUL_REDIS_URL``.
"""

from __future__ import annotations

import os

import click


@click.command("worker")
@click.option("--name", default="", help="Worker node name (default snmp-<pid>@<host>).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(name: str, loglevel: str) -> None:
    """Run a Celery worker polling SNMP shares (broker: SIMPUL_REDIS_URL)."""
    from collectors.snmp.celery_app import QUEUE, make_celery
    from collectors.snmp.settings import load_snmp_settings

    settings = load_snmp_settings()
    app = make_celery(settings.redis_url)
    app.worker_main(["worker", "--pool=solo", f"--loglevel={loglevel}", "-Q", QUEUE,
                     "-n", name or f"snmp-{os.getpid()}@%h", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"])
