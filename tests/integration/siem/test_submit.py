"""``siem.submit``: the one entry point other parts of simpul use to hand events over."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from siem.models import SiemEvent, SiemIncident
from siem.service import SiemService
from siem.stats import SourceStats
from siem.submit import default_submitter, register_service, reset_submitter, submit
from simpul.context import AppContext
from tests.integration.siem.conftest import siem_settings_for, wait_for_events
from tests.pgcluster import free_port


@pytest.fixture(autouse=True)
def fresh_submitter() -> Iterator[None]:
    """Each test reads its own SIMPUL_SYSLOG_* settings (the submitter caches them)."""
    reset_submitter()
    yield
    reset_submitter()


def test_event_and_line_go_through_the_running_service(
        lite_app: AppContext, start_service: Callable[..., SiemService]) -> None:
    start_service(inventory_enrich=False)
    assert submit({"event.action": "trap_link_down", "event.module": "snmptrap",
                   "host.name": "sw1", "message": "linkDown ifIndex 3",
                   "event.severity": 3, "event.id": "forged"}) == "queue"
    line = ("<38>Nov 23 10:15:01 web1 sshd[811]: Failed password for root from "
            "192.0.2.9 port 4000 ssh2")
    assert submit(line, source="10.0.0.5") == "queue"
    assert wait_for_events(lite_app.db, 2) == 2
    with lite_app.db.session(write=False) as s:
        rows = {r.action: r for r in s.scalars(select(SiemEvent))}
        trap = rows["trap_link_down"]
        assert trap.host_name == "sw1" and trap.severity == 3
        assert trap.doc["event.module"] == "snmptrap"
        assert trap.event_id != "forged"  # ids stay the pipeline's own
        ssh = rows["ssh_login"]
        assert ssh.host_ip == "10.0.0.5" and ssh.doc["input.type"] == "internal"
    # the rules ran on it: root login failure is a Sigma rule
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lite_app.db.session(write=False) as s:
            if s.scalars(select(SiemIncident)).first() is not None:
                break
        time.sleep(0.2)
    with lite_app.db.session(write=False) as s:
        assert s.scalars(select(SiemIncident)).first().entity == "source.ip=192.0.2.9"


def test_without_a_service_it_stores_directly(lite_app: AppContext,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_DATABASE_URL", str(lite_app.db.engine.url))
    monkeypatch.setenv("SIMPUL_DATA_DIR", str(lite_app.settings.data_dir))
    monkeypatch.setenv("SIMPUL_SYSLOG_TCP_PORT", "off")
    assert submit({"event.action": "nac_test", "message": "hello"}) == "database"
    with lite_app.db.session(write=False) as s:
        assert s.scalars(select(SiemEvent.action)).all() == ["nac_test"]


def test_tcp_submitter_keeps_one_connection_and_survives_a_restart(
        lite_app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's service over TCP: one connection, batches, reconnect, no loss."""
    port = free_port()
    settings = replace(siem_settings_for(lite_app, tmp_path), tcp_port=port, udp_port=None,
                       tls_port=None, inventory_enrich=False, detect=False)
    monkeypatch.setenv("SIMPUL_SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SIMPUL_SYSLOG_TCP_PORT", str(port))
    monkeypatch.setenv("SIMPUL_DATABASE_URL", str(lite_app.db.engine.url))
    monkeypatch.setenv("SIMPUL_DATA_DIR", str(lite_app.settings.data_dir))

    def line(i: int) -> str:
        return f"<13>Nov 23 10:00:00 app1 demo: submitted message {i}"

    def start() -> SiemService:
        service = SiemService(lite_app, settings, stats=SourceStats())
        service.start()
        register_service(None)  # as if it ran in another process: the TCP path
        return service

    service = start()
    try:
        assert [submit(line(i)) for i in range(40)] == ["tcp"] * 40
        submitter = default_submitter()
        assert submitter is not None and submitter.connects == 1
        # concurrent callers share the connection (and are batched when they queue up)
        results: list[str] = []

        def worker(base: int) -> None:
            results.extend(submit(line(base + i)) for i in range(40))
        threads = [threading.Thread(target=worker, args=(1000 * (n + 1),)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["tcp"] * 240
        assert submitter.connects == 1
        # messages queued while the connection is busy go out in one write
        sent = submitter.sent
        with submitter._send_lock:
            threads = [threading.Thread(target=lambda i=i: results.append(submit(line(i))))
                       for i in range(7000, 7005)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 5
            while len(submitter._queue) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
        for t in threads:
            t.join()
        assert results[-5:] == ["tcp"] * 5 and submitter.sent == sent + 1
        assert wait_for_events(lite_app.db, 285) == 285
    finally:
        service.stop()
    # the receiver restarts: the kept connection is dead, the next message reconnects
    service = start()
    try:
        assert [submit(line(8000 + i)) for i in range(20)] == ["tcp"] * 20
        assert submitter.connects == 2
        assert wait_for_events(lite_app.db, 305) == 305
    finally:
        service.stop()
    # no receiver at all: stored directly, never lost
    assert submit(line(9999)) == "database"
    with lite_app.db.session(write=False) as s:
        messages = set(s.scalars(select(SiemEvent.message)))
    assert len(messages) == 306
    assert {f"submitted message {i}" for i in (0, 39, 1000, 6039, 7004, 8019, 9999)} <= messages
