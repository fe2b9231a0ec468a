"""Traps the lab's own snmpd sends when a link really goes down and comes back.

No snmptrap here: the trap receiver listens where the lab's agents send (the lab
gateway, ``SIMPUL_LAB_TRAP_PORT``), a link is cut inside dist-a, and net-snmp's event
monitor on that router reports it, as a router's agent would to the NOC.

Run under ``flock /tmp/simpul-lab.lock`` (the lab is shared by every helper).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.flows.models import TrapEvent
from collectors.flows.settings import load_trap_settings
from collectors.flows.traps import TrapReceiver
from labs.settings import LabSettings
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from simpul.settings import load_settings
from tests.integration.collectors.flows_fixtures import wait_for
from tests.integration.lab.labhelpers import REPO, Lab, in_ns

pytestmark = pytest.mark.lab

GATEWAY = "172.20.20.1"


@pytest.fixture
def receiver(lab: Lab, tmp_path: Path) -> Iterator[tuple[TrapReceiver, Database]]:
    """The receiver on the lab gateway's trap port, over the lab's inventory."""
    from inventory.importer import import_file

    settings = load_settings(env={}, data_dir=str(tmp_path),
                             secret_key="test-secret-key-not-for-production",
                             database_url=f"sqlite:///{tmp_path}/s.db")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    with db.session() as s:
        import_file(s, Actor.system("test"), REPO / "inventory" / "lab" / "province.yml")
    lab_settings = LabSettings.from_env(lab.env)
    rec = TrapReceiver(db, load_trap_settings({
        "SIMPUL_TRAP_HOSTS": GATEWAY, "SIMPUL_TRAP_PORT": str(lab_settings.trap_port),
        "SIMPUL_TRAP_COMMUNITIES": lab_settings.snmp_community}))
    rec.start()
    try:
        yield rec, db
    finally:
        rec.stop()
        db.dispose()


def test_cutting_a_link_sends_link_down_then_up(receiver: tuple[TrapReceiver, Database]
                                                ) -> None:
    _, db = receiver
    if_index = int(in_ns("dist-a", "cat", "/sys/class/net/eth1/ifindex").stdout)

    def link_traps() -> list[TrapEvent]:
        with db.session(write=False) as s:
            return list(s.scalars(select(TrapEvent).where(
                TrapEvent.device_name == "dist-a", TrapEvent.if_index == if_index,
                TrapEvent.trap.in_(("linkDown", "linkUp"))).order_by(TrapEvent.id)))

    in_ns("dist-a", "ip", "link", "set", "eth1", "down")
    try:
        assert wait_for(lambda: len(link_traps()) >= 1, 20), "no linkDown from dist-a"
    finally:
        in_ns("dist-a", "ip", "link", "set", "eth1", "up")
    assert wait_for(lambda: len(link_traps()) >= 2, 20), "no linkUp from dist-a"
    down, up = link_traps()[:2]
    assert (down.trap, down.version, down.if_name) == ("linkDown", "v2c", "eth1")
    assert (up.trap, up.if_name) == ("linkUp", "eth1")
    assert down.source_addr == up.source_addr and down.source_addr.startswith("172.20.20.")
