"""The SIEM on the lab: real daemons forward syslog, real actions raise the right incidents.

The session's ``lab`` forwards every node's syslog to 172.20.20.1:<port>, where a plain
listener waits; for this module the real SIEM service takes that port over (the
listener's messages are handed back to a fresh listener afterwards). Actions:

* failed SSH logins with a real SSH client (paramiko) against the ``web`` server;
* a configuration change in vtysh on core1 (``log commands`` on, as an operator would);
* an OSPF neighbour loss: routing applied, an interface shut on dist-a, restored.

Run under ``flock /tmp/simpul-lab.lock``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from siem.detect.engine import Detector
from siem.models import SiemEvent, SiemIncident
from siem.service import SiemService
from siem.settings import load_siem_settings
from simpul import migrate
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import load_settings
from tests.integration.lab.labhelpers import Lab, SyslogListener, in_ns, wait_until
from tests.integration.lab.labrouting import apply_routing

pytestmark = [pytest.mark.lab, pytest.mark.skipif(
    os.geteuid() != 0, reason="the namespace lab needs root (netns, veth, bridges)")]
WEB = "172.20.20.51"
GATEWAY = "172.20.20.1"


@dataclass
class SiemOnLab:
    service: SiemService
    db: Database
    lab: Lab


@pytest.fixture(scope="module")
def siem_lab(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiemOnLab]:
    """The SIEM service listening where the lab sends its syslog."""
    tmp = tmp_path_factory.mktemp("siem-lab")
    port = lab.syslog.port
    before = list(lab.syslog.messages)
    lab.syslog.close()
    settings = load_settings(env={}, data_dir=str(tmp / "data"),
                             database_url=f"sqlite:///{tmp / 'siem.db'}")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    siem = replace(load_siem_settings(settings, env={}), syslog_host=GATEWAY, udp_port=port,
                   tcp_port=None, tls_port=None, spool_dir=Path(tmp / "spool"),
                   inventory_enrich=False, fsync_ms=0)
    service = SiemService(AppContext(settings=settings, db=db), siem)
    service.start()
    try:
        yield SiemOnLab(service, db, lab)
    finally:
        service.stop()
        db.dispose()
        listener = SyslogListener(port)
        listener.messages[:0] = before
        lab.syslog = listener


def incidents(db: Database) -> list[SiemIncident]:
    with db.session(write=False) as s:
        return list(s.scalars(select(SiemIncident)))


def wait_incident(on: SiemOnLab, rule: str, entity: str, timeout: float = 30,
                  extra: object = None) -> SiemIncident:
    def found() -> SiemIncident | None:
        for inc in incidents(on.db):
            if rule in inc.rules and inc.entity == entity:
                return inc
        return None

    assert wait_until(lambda: found() is not None, timeout), (
        [(i.title, i.entity, i.rules) for i in incidents(on.db)], extra)
    result = found()
    assert result is not None
    return result


def host_events(on: SiemOnLab, host: str, like: str) -> list[str]:
    with on.db.session(write=False) as s:
        return [r.raw for r in s.scalars(select(SiemEvent).where(
            SiemEvent.host_name == host, SiemEvent.raw.like(f"%{like}%")))]


def test_failed_ssh_logins_raise_a_brute_force_incident(siem_lab: SiemOnLab) -> None:
    import paramiko

    for _ in range(6):
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        with pytest.raises(paramiko.AuthenticationException):
            client.connect(WEB, username="simpul", password="not-the-password",
                           look_for_keys=False, allow_agent=False, timeout=10,
                           banner_timeout=10, auth_timeout=10)
        client.close()
    inc = wait_incident(siem_lab, "corr:ssh-brute-force", f"source.ip={GATEWAY}")
    assert inc.severity == "high" and "T1110.001" in inc.techniques
    assert len(host_events(siem_lab, "web", "Failed password for simpul")) >= 5


def test_vtysh_config_change_is_flagged(siem_lab: SiemOnLab) -> None:
    proc = in_ns("core1", "vtysh", "-N", "core1", "-c", "configure terminal",
                 "-c", "log commands", "-c", "interface lo",
                 "-c", "description changed-by-siem-test")
    assert proc.returncode == 0, proc.stderr
    inc = wait_incident(siem_lab, "sigma:6f7d2a5e-2d41-4c1e-9a0b-1d8a8b6b1055",
                        "host.name=core1")
    assert inc.kind == "infrastructure" and inc.damage_class == "interruption"
    change = next(r for r in Detector.from_dirs().correlation
                  if r.rule_id == "corr:config-change-unapproved")
    if not any(w.covers(datetime.now(UTC)) for w in change.windows):
        # no work order names core1 and we are outside the weekend maintenance window
        wait_incident(siem_lab, "corr:config-change-unapproved", "host.name=core1")
    assert host_events(siem_lab, "core1", "description changed-by-siem-test")


def test_ospf_neighbour_loss_raises_an_infrastructure_incident(siem_lab: SiemOnLab) -> None:
    lab = siem_lab.lab
    if not lab.routed:
        apply_routing()
        lab.routed = True
    for node in ("dist-a",):
        proc = in_ns(node, "vtysh", "-N", node, "-c", "configure terminal",
                     "-c", "router ospf", "-c", "log-adjacency-changes")
        assert proc.returncode == 0, proc.stderr

    def full() -> bool:
        out = in_ns("dist-a", "vtysh", "-N", "dist-a", "-c", "show ip ospf neighbor").stdout
        return "eth1" in out and "Full" in out

    assert wait_until(full, 40, interval=1)
    assert in_ns("dist-a", "ip", "link", "set", "eth1", "down").returncode == 0
    try:
        assert wait_until(lambda: host_events(siem_lab, "dist-a", "AdjChg"), 20), \
            host_events(siem_lab, "dist-a", "OSPF")[-10:]
        inc = wait_incident(siem_lab, "sigma:6f7d2a5e-2d41-4c1e-9a0b-1d8a8b6b1053",
                            "host.name=dist-a",
                            extra=host_events(siem_lab, "dist-a", "AdjChg"))
    finally:
        in_ns("dist-a", "ip", "link", "set", "eth1", "up")
    assert inc.kind == "infrastructure" and inc.severity in ("high", "critical")
    assert host_events(siem_lab, "dist-a", "AdjChg")
    assert wait_until(full, 40, interval=1)  # leave the lab as we found it
