"""Integration fixtures shared across packages: the province lab, once per session.

A UDP listener on the management gateway stands in for the SIEM, bound before ``up`` so
every node's first syslog messages are caught. Tests that take labs up and down on
their own (marked ``lab_lifecycle``) are moved to the end of the session, after every
test that uses the shared lab.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from labs import DEFAULT_TOPOLOGY
from labs.topology import load_topology
from tests.integration.lab.labhelpers import (
    REPO,
    Lab,
    SyslogListener,
    assert_clean,
    free_udp_port,
    lab_cli,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the lab life-cycle tests last: they destroy whatever lab is up."""
    items.sort(key=lambda item: item.get_closest_marker("lab_lifecycle") is not None)


@pytest.fixture(scope="session")
def lab_deps() -> None:
    """Install the lab's Debian packages when missing (idempotent, fast when present)."""
    subprocess.run(["bash", str(REPO / "labs" / "install-deps.sh")], check=True,
                   capture_output=True, timeout=900)


@pytest.fixture(scope="session")
def lab(lab_deps: None) -> Iterator[Lab]:
    """Bring the province lab up once per session (timed); tear it down and check it is gone."""
    port = free_udp_port()
    env = {"SIMPUL_LAB_SYSLOG_PORT": str(port)}
    lab_cli("down", env=env, check=False)
    listener = SyslogListener(port)
    started = time.monotonic()
    lab_cli("up", env=env)
    up_seconds = time.monotonic() - started
    running = Lab(load_topology(DEFAULT_TOPOLOGY), listener, up_seconds, env)
    try:
        yield running
    finally:
        listener.close()
        lab_cli("down", env=env)
        assert_clean()
