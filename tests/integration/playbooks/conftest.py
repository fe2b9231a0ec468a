"""Fixtures for the playbook tests on the lab: a simpul data dir holding the imported lab,
device credentials in the environment, drivers, and a reset to addresses-only routing.

Every test here uses the session ``lab``; run them under ``flock /tmp/simpul-lab.lock``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import playbooks  # noqa: F401  (napalm_frr alias)
from inventory.importer import import_file
from playbooks.napalm_frr import FRRDriver
from playbooks.napalm_frr.config import FrrConfig
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from simpul.settings import Settings, load_settings
from tests.integration.lab.labhelpers import REPO, Lab, parallel

CLAB = REPO / "labs" / "province" / "province.clab.yml"
LAB_USER, LAB_PASSWORD = "simpul", "simpul-lab"
# Routers the backbone configures (rmt-r1 is the VPN's, behind the internet).
BACKBONE_ROUTERS = ("acc-a", "acc-b", "acc-c", "acc-d", "core1", "core2", "dc-sw",
                    "dist-a", "dist-b", "dist-c", "dist-d", "edge", "internet", "nac-sw")
ROUTING_CONTEXTS = ("router ", "route-map ")
ROUTING_LINES = ("ip ospf", "ip route", "ip prefix-list")


@dataclass
class PlaybookLab:
    """The lab as the playbook tests use it."""

    lab: Lab
    db: Database
    settings: Settings
    env: dict[str, str]

    def driver(self, node: str) -> FRRDriver:
        """Return an open FRR driver on *node* (close it)."""
        device = FRRDriver(str(self.lab.topology.node(node).mgmt_ipv4), LAB_USER,
                           LAB_PASSWORD, timeout=30)
        device.open()
        return device

    def running(self, node: str) -> str:
        """Return *node*'s ``show running-config`` exactly as vtysh prints it."""
        device = self.driver(node)
        try:
            return device.get_config(retrieve="running")["running"]
        finally:
            device.close()

    def running_all(self, nodes: tuple[str, ...] = BACKBONE_ROUTERS) -> dict[str, str]:
        """Return every node's running config (in parallel)."""
        return dict(zip(nodes, parallel(self.running, list(nodes)), strict=True))

    def simpul(self, *args: str, check: bool = True, input: str | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the simpul CLI on this data dir."""
        proc = subprocess.run([sys.executable, "-m", "simpul.cli", *args], cwd=REPO,
                              env=self.env, capture_output=True, text=True, input=input,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"simpul {' '.join(args)}: {proc.returncode}\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc


def reset_routing(pl: PlaybookLab, nodes: tuple[str, ...] = BACKBONE_ROUTERS) -> None:
    """Take *nodes* back to addresses only (what ``lab up`` gives), whatever ran before."""

    def reset(node: str) -> None:
        device = pl.driver(node)
        try:
            config = FrrConfig.parse(device.get_config(retrieve="running")["running"])
            device.load_replace_candidate(config=config.without(
                contexts=ROUTING_CONTEXTS, lines=ROUTING_LINES).text())
            device.commit_config()
        finally:
            device.close()

    parallel(reset, list(nodes))


@pytest.fixture(scope="session")
def playbook_lab(lab: Lab, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[PlaybookLab]:
    """The lab, imported into a fresh simpul database, with device credentials set."""
    data = tmp_path_factory.mktemp("playbooks-data")
    url = f"sqlite:///{data / 'simpul.db'}"
    env = {"SIMPUL_DATA_DIR": str(data), "SIMPUL_DATABASE_URL": url,
           "SIMPUL_DEVICE_USERNAME": LAB_USER, "SIMPUL_DEVICE_PASSWORD": LAB_PASSWORD,
           "SIMPUL_DEVICE_SNMP_COMMUNITY": lab.env.get("SIMPUL_LAB_SNMP_COMMUNITY",
                                                       "simpul-lab")}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        settings = load_settings()
        db = Database.from_settings(settings)
        migrate.upgrade(db)
        with db.session() as session:
            import_file(session, Actor.system("test"), CLAB)
        yield PlaybookLab(lab, db, settings,
                          {**os.environ, "PYTHONPATH": str(REPO), **env})
        db.dispose()


@pytest.fixture(scope="session")
def backbone_applied(playbook_lab: PlaybookLab) -> PlaybookLab:
    """The lab with the backbone playbook applied (idempotent: a no-op when it already is)."""
    from playbooks.runner import run_playbook

    result = run_playbook(playbook_lab.db, playbook_lab.settings, "backbone",
                          verify_timeout=60)
    assert not result.failed, {h: (r.status, r.error, r.verification)
                               for h, r in result.hosts.items()}
    return playbook_lab


def events() -> tuple[list[tuple[str, str]], Callable[[str, str], Any]]:
    """Return a list and an on_event callback appending to it."""
    seen: list[tuple[str, str]] = []
    return seen, lambda host, message: seen.append((host, message))


@pytest.fixture
def data_dir(playbook_lab: PlaybookLab) -> Path:
    return Path(playbook_lab.env["SIMPUL_DATA_DIR"])
