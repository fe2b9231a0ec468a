"""Fixtures shared by the collectors' integration tests.

Each collector part keeps its own fixtures in a clearly named block (or a fixture module
of its own listed in ``pytest_plugins``). SNMP: real net-snmp agents (``snmpd``) on
loopback addresses 127.0.0.x, each with its own config and persistent directory, started
once per session and stopped by PID; an inventory pointing at them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simpul.audit import Actor
from simpul.context import AppContext
from simpul.db import Database

# --- SNMP agents (helper C1) -------------------------------------------------------------

SNMPD = "/usr/sbin/snmpd"
SNMP_COMMUNITY = "simpul-lab"
SNMP_V3 = ("simpul", "simpul-lab-auth", "simpul-lab-priv")
SNMP_DEAD_ADDRESS = "127.0.0.99"  # nothing listens there: the unreachable device


def wait_for_fresh_counters() -> None:
    """Sleep past net-snmp's ~3 s interface-counter cache between two polls.

    Two polls inside one cache period read the same counter, so the rate is honestly
    0 bps; a test that asserts traffic must let the agent refresh in between.
    """
    time.sleep(3.5)


@dataclass
class SnmpAgent:
    """One running snmpd: where it listens and how to stop it."""

    name: str
    address: str
    port: int
    pid: int
    directory: Path


def _free_udp_port_on(addresses: list[str]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((addresses[0], 0))
            port = int(sock.getsockname()[1])
        try:
            for address in [*addresses[1:], SNMP_DEAD_ADDRESS]:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                    probe.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no UDP port free on every agent address")


def _snmp_answers(address: str, port: int) -> bool:
    proc = subprocess.run(["snmpget", "-v2c", "-c", SNMP_COMMUNITY, "-t", "0.3", "-r", "0",
                           f"{address}:{port}", "1.3.6.1.2.1.1.5.0"],
                          capture_output=True, text=True)
    return proc.returncode == 0


def start_snmpd(name: str, address: str, port: int, directory: Path) -> SnmpAgent:
    """Start one snmpd in the foreground-less daemon mode we can stop by PID."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "persist").mkdir(exist_ok=True)
    user, auth, priv = SNMP_V3
    (directory / "snmpd.conf").write_text("\n".join([
        f"agentAddress udp:{address}:{port}",
        f"rocommunity {SNMP_COMMUNITY} default",
        f'createUser {user} SHA "{auth}" AES "{priv}"',
        f"rouser {user} priv",
        f"sysName {name}",
        "disk / 10%",
        "",
    ]))
    proc = subprocess.Popen(
        [SNMPD, "-f", "-Lf", str(directory / "snmpd.log"), "-C", "-c",
         str(directory / "snmpd.conf"), "-p", str(directory / "snmpd.pid")],
        env={**os.environ, "SNMP_PERSISTENT_DIR": str(directory / "persist"), "MIBS": ""},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    agent = SnmpAgent(name, address, port, proc.pid, directory)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"snmpd {name} exited: {(directory / 'snmpd.log').read_text()}")
        if _snmp_answers(address, port):
            return agent
        time.sleep(0.1)
    stop_snmpd(agent)
    raise RuntimeError(f"snmpd {name} on {address}:{port} did not answer")


def stop_snmpd(agent: SnmpAgent) -> None:
    """Stop one agent by its PID (never by name)."""
    try:
        os.kill(agent.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            waited, _status = os.waitpid(agent.pid, os.WNOHANG)
        except ChildProcessError:
            return
        if waited:
            return
        time.sleep(0.05)
    os.kill(agent.pid, signal.SIGKILL)
    os.waitpid(agent.pid, 0)


@pytest.fixture(scope="session")
def snmp_agents() -> Iterator[list[SnmpAgent]]:
    """Three net-snmp agents on 127.0.0.61-63, one shared UDP port (SIMPUL_SNMP_PORT)."""
    if not Path(SNMPD).exists():
        pytest.fail("snmpd is not installed (Debian package snmpd)")
    addresses = ["127.0.0.61", "127.0.0.62", "127.0.0.63"]
    port = _free_udp_port_on(addresses)
    base = Path(tempfile.mkdtemp(prefix="simpul-snmpd-"))
    agents: list[SnmpAgent] = []
    try:
        for i, address in enumerate(addresses, start=1):
            agents.append(start_snmpd(f"agent{i}", address, port, base / f"agent{i}"))
        yield agents
    finally:
        for agent in agents:
            stop_snmpd(agent)
        shutil.rmtree(base, ignore_errors=True)


def snmp_inventory_doc(agents: list[SnmpAgent]) -> dict:
    """An inventory with one device per agent plus one device nobody answers for."""
    devices = [{"name": a.name, "site": "dc-test", "device_type": "linux-host",
                "role": "server", "platform": "linux", "opd": "DISKOMINFO",
                "primary_ip4": a.address,
                "interfaces": [{"name": "lo", "addresses": [f"{a.address}/32"]}]}
               for a in agents]
    devices.append({"name": "dead1", "site": "dc-test", "device_type": "linux-host",
                    "role": "server", "platform": "linux", "opd": "DISKOMINFO",
                    "primary_ip4": SNMP_DEAD_ADDRESS,
                    "interfaces": [{"name": "eth0", "addresses": [f"{SNMP_DEAD_ADDRESS}/32"]}]})
    return {
        "format": "simpul-inventory/1",
        "opds": [{"code": "DISKOMINFO", "name": "Diskominfo", "operator": True}],
        "sites": [{"slug": "dc-test", "opd": "DISKOMINFO"}],
        "prefixes": [{"prefix": "127.0.0.0/24", "role": "management"}],
        "device_types": [{"slug": "linux-host", "manufacturer": "Generic", "model": "Linux",
                          "u_height": 1}],
        "devices": devices,
    }


def load_snmp_inventory(db: Database, agents: list[SnmpAgent]) -> None:
    """Import the agents' inventory into *db*."""
    from inventory.importer import import_document

    with db.session(write=True) as session:
        import_document(session, Actor.system("test"), snmp_inventory_doc(agents),
                        file="snmp-agents.yml")


@pytest.fixture
def snmp_sqlite_app(tmp_path: Path) -> Iterator[AppContext]:
    """A migrated SQLite AppContext, for SNMP tests whose subject is not the database."""
    from simpul import migrate
    from simpul.settings import load_settings

    settings = load_settings(env={}, data_dir=str(tmp_path / "data"),
                             database_url=f"sqlite:///{tmp_path / 'snmp.db'}",
                             secret_key="test-secret-key-not-for-production")
    app = AppContext(settings=settings, db=Database.from_settings(settings))
    migrate.upgrade(app.db)
    yield app
    app.db.dispose()


@pytest.fixture
def snmp_env(snmp_agents: list[SnmpAgent], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """SIMPUL_SNMP_* for the test agents (v2c), set in this process's environment."""
    env = {"SIMPUL_SNMP_PORT": str(snmp_agents[0].port),
           "SIMPUL_SNMP_COMMUNITY": SNMP_COMMUNITY, "SIMPUL_SNMP_TIMEOUT": "1.0",
           "SIMPUL_SNMP_RETRIES": "1", "SIMPUL_SNMP_INTERVAL": "5"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
