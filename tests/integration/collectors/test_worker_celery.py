"""Scale-out: two ``simpul worker`` processes share the polling through a real Redis broker."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.snmp import queries
from collectors.snmp.celery_app import dispatch_round, make_celery
from collectors.snmp.models import SnmpDeviceState
from collectors.snmp.settings import load_snmp_settings
from simpul import migrate
from simpul.db import Database
from tests.integration.collectors.conftest import (
    SNMP_COMMUNITY,
    SnmpAgent,
    load_snmp_inventory,
    wait_for_fresh_counters,
)

REPO = Path(__file__).resolve().parents[3]
SIMPUL = REPO / ".venv" / "bin" / "simpul"


def _stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (no persistence), stopped by PID."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="simpul-redis-")
    proc = subprocess.Popen(
        ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "redis did not start"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def worker_env(tmp_path: Path, redis_url: str, snmp_agents: list[SnmpAgent],
               monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A migrated SQLite database with the agents' inventory, and the env the workers use."""
    env = {
        "SIMPUL_DATA_DIR": str(tmp_path / "data"),
        "SIMPUL_DATABASE_URL": f"sqlite:///{tmp_path / 'simpul.db'}",
        "SIMPUL_REDIS_URL": redis_url,
        "SIMPUL_SNMP_PORT": str(snmp_agents[0].port),
        "SIMPUL_SNMP_COMMUNITY": SNMP_COMMUNITY,
        "SIMPUL_SNMP_TIMEOUT": "1.0",
        "SIMPUL_SNMP_RETRIES": "0",
        "SIMPUL_SNMP_SHARES": "4",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    db = Database(env["SIMPUL_DATABASE_URL"])
    migrate.upgrade(db)
    load_snmp_inventory(db, snmp_agents)
    db.dispose()
    yield env


@pytest.fixture
def two_workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    """Start two ``simpul worker`` processes; return their node names once both answer."""
    names = ["snmp-a@test", "snmp-b@test"]
    procs = []
    for name in names:
        log = (tmp_path / f"{name}.log").open("wb")
        procs.append(subprocess.Popen([str(SIMPUL), "worker", "--name", name],
                                      env={**os.environ, **worker_env}, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True))
    try:
        control = make_celery(worker_env["SIMPUL_REDIS_URL"]).control
        deadline = time.monotonic() + 60
        while True:
            replies = control.ping(timeout=1.0) or []
            if {n for r in replies for n in r} >= set(names):
                break
            dead = [p for p in procs if p.poll() is not None]
            assert not dead and time.monotonic() < deadline, \
                "workers did not start:\n" + "\n".join(
                    (tmp_path / f"{n}.log").read_text(errors="replace") for n in names)
        yield names
    finally:
        for proc in procs:
            _stop(proc)


def test_two_workers_poll_all_shares(worker_env: dict[str, str], two_workers: list[str]) -> None:
    settings = load_snmp_settings()
    summaries = dispatch_round(settings, wait=60)
    assert sorted(s["share"] for s in summaries) == [0, 1, 2, 3]
    assert sum(s["devices"] for s in summaries) == 4  # every device in exactly one share
    assert sum(s["ok"] for s in summaries) == 3 and sum(s["failed"] for s in summaries) == 1
    # A second round goes to whichever worker is free and continues the same series.
    wait_for_fresh_counters()
    second = dispatch_round(settings, wait=60)
    workers = {s["worker"] for s in summaries + second}
    assert len(workers) == 2, f"only {workers} took tasks"
    db = Database(worker_env["SIMPUL_DATABASE_URL"])
    try:
        with db.session(write=False) as s:
            states = s.scalars(select(SnmpDeviceState)).all()
            assert len(states) == 4 and {st.polled_by for st in states} <= workers
            lo = queries.find_interface(s, "agent2", "lo")
            assert lo is not None and lo.in_bps is not None and lo.in_bps > 0
            dead = [d for d in queries.list_device_reachability(s) if d.device_name == "dead1"]
            assert dead[0].consecutive_failures == 2
    finally:
        db.dispose()
