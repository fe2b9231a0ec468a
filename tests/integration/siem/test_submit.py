"""``siem.submit``: the one entry point other parts of simpul use to hand events over."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from siem.models import SiemEvent, SiemIncident
from siem.service import SiemService
from siem.submit import submit
from simpul.context import AppContext
from tests.integration.siem.conftest import wait_for_events


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
    import time

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
