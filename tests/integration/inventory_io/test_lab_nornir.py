"""The issue's proof: import the lab in one command, then a Nornir task through the
plugin runs a show command on every lab router over SSH (vtysh, Netmiko cisco_ios)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from nornir_netmiko.tasks import netmiko_send_command

from inventory.importer import import_file
from inventory.nornir import filter_nornir, init_nornir
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from tests.integration.inventory_io.conftest import CLAB
from tests.integration.lab.labhelpers import Lab

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the namespace lab needs root"),
]
LAB_ENV = {"SIMPUL_DEVICE_USERNAME": "simpul", "SIMPUL_DEVICE_PASSWORD": "simpul-lab"}
ROUTER_ROLES = {"core", "distribution", "access", "edge", "vpn", "router"}


@pytest.fixture
def lab_db(lab: Lab, tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database holding the imported lab (the lab itself is up)."""
    db = Database(f"sqlite:///{tmp_path / 'lab.db'}")
    migrate.upgrade(db)
    with db.session() as s:
        import_file(s, Actor.system("test"), CLAB)
    yield db
    db.dispose()


def test_show_version_on_every_lab_router(lab: Lab, lab_db: Database,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in LAB_ENV.items():
        monkeypatch.setenv(key, value)
    nr = init_nornir(lab_db, platforms="frr", num_workers=8)
    assert set(nr.inventory.hosts) == set(lab.routers)
    assert {h.data["role"] for h in nr.inventory.hosts.values()} == ROUTER_ROLES
    result = nr.run(task=netmiko_send_command, command_string="show version")
    try:
        assert not result.failed, {h: str(r.exception) for h, r in result.failed_hosts.items()}
        for name, multi in result.items():
            output = multi[0].result
            assert "FRRouting" in output, (name, output)
            assert f"({name})" in output, (name, output)
    finally:
        nr.close_connections()


def test_filters_select_the_right_routers(lab: Lab, lab_db: Database) -> None:
    nr = init_nornir(lab_db, env=LAB_ENV, num_workers=4)
    cores = filter_nornir(nr, roles="core")
    result = cores.run(task=netmiko_send_command, command_string="show version")
    try:
        assert set(result) == {"core1", "core2"} and not result.failed
        assert all(f"({h})" in r[0].result for h, r in result.items())
    finally:
        cores.close_connections()
    dc = filter_nornir(nr, sites="dc-diskominfo", platforms="frr")
    assert set(dc.inventory.hosts) == {"core1", "core2", "dc-sw", "edge"}
    dinkes = init_nornir(lab_db, opds="DINKES", platforms="frr", env=LAB_ENV)
    assert set(dinkes.inventory.hosts) == {"acc-b"}
