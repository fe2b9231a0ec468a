"""Static-column caching against a real net-snmp agent: what is cached, what is re-read.

The agent here is writable (``rwcommunity``) so the test can change ifAlias with
``snmpset``, and it is restarted by PID to prove that a restart forces a re-read.
It runs in the host's network namespace, where other jobs may add or remove
interfaces (ifNumber changes force a refresh too), so the "served from the cache"
step retries with a fresh poller until it gets a poll without a refresh.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.snmp.poller import InterfaceReading, PollResult, SnmpPoller, Target
from collectors.snmp.settings import SnmpCredentials, SnmpSettings
from tests.integration.collectors.conftest import (
    SNMPD,
    SnmpAgent,
    _free_udp_port_on,
    stop_snmpd,
    wait_for_fresh_counters,
)

ADDRESS = "127.0.0.64"
COMMUNITY = "simpul-static-rw"
IF_ALIAS_LO = "1.3.6.1.2.1.31.1.1.1.18.1"  # lo is ifIndex 1 on Linux


def _start(directory: Path, port: int) -> SnmpAgent:
    proc = subprocess.Popen(
        [SNMPD, "-f", "-Lf", str(directory / "snmpd.log"), "-C", "-c",
         str(directory / "snmpd.conf"), "-p", str(directory / "snmpd.pid")],
        env={**os.environ, "SNMP_PERSISTENT_DIR": str(directory / "persist"), "MIBS": ""},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    agent = SnmpAgent("static1", ADDRESS, port, proc.pid, directory)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"snmpd exited: {(directory / 'snmpd.log').read_text()}")
        if subprocess.run(["snmpget", "-v2c", "-c", COMMUNITY, "-t", "0.3", "-r", "0",
                           f"{ADDRESS}:{port}", "1.3.6.1.2.1.1.5.0"],
                          capture_output=True).returncode == 0:
            return agent
        time.sleep(0.1)
    stop_snmpd(agent)
    raise RuntimeError(f"snmpd on {ADDRESS}:{port} did not answer")


@pytest.fixture
def rw_agent() -> Iterator[list[SnmpAgent]]:
    """One writable snmpd; a list so the test can replace it after a restart."""
    if not Path(SNMPD).exists():
        pytest.fail("snmpd is not installed (Debian package snmpd)")
    port = _free_udp_port_on([ADDRESS])
    directory = Path(tempfile.mkdtemp(prefix="simpul-snmpd-static-"))
    (directory / "persist").mkdir()
    (directory / "snmpd.conf").write_text(
        f"agentAddress udp:{ADDRESS}:{port}\nrwcommunity {COMMUNITY} 127.0.0.0/8\n"
        "sysName static1\n")
    holder = [_start(directory, port)]
    try:
        yield holder
    finally:
        stop_snmpd(holder[0])
        shutil.rmtree(directory, ignore_errors=True)


def _set_alias(agent: SnmpAgent, alias: str) -> None:
    subprocess.run(["snmpset", "-v2c", "-c", COMMUNITY, "-t", "1", "-r", "1",
                    f"{agent.address}:{agent.port}", IF_ALIAS_LO, "s", alias],
                   check=True, capture_output=True)


def _lo(result: PollResult) -> InterfaceReading:
    assert result.ok, result.error
    (lo,) = [i for i in result.interfaces if i.if_index == 1]
    return lo


def test_alias_change_waits_for_refresh_and_restart_forces_one(
        rw_agent: list[SnmpAgent]) -> None:
    agent = rw_agent[0]
    settings = SnmpSettings(credentials=SnmpCredentials(community=COMMUNITY), timeout_s=1.0,
                            retries=1, host_resources=True, static_every=2)
    target = Target(device_id=1, name="static1", address=ADDRESS, port=agent.port,
                    credentials=settings.credentials)

    async def poll(poller: SnmpPoller) -> PollResult:
        return await poller.poll_device(target, with_lldp=False)

    async def scenario() -> None:
        # 1) First poll reads everything; 2) the alias changes on the agent; 3) the next
        # poll reuses the cached alias but reads fresh counters. (Retried with a fresh
        # poller if other jobs changed the host's interfaces in between.)
        for _attempt in range(4):
            poller = SnmpPoller(settings)
            _set_alias(agent, "before")
            first = await poll(poller)
            assert first.static_refresh == "first poll" and _lo(first).alias == "before"
            _set_alias(agent, "after")
            await asyncio.to_thread(wait_for_fresh_counters)
            second = await poll(poller)
            if not second.static_refresh:
                break
            poller.close()
        else:
            pytest.fail(f"every poll refreshed the static columns: {second.static_refresh}")
        try:
            assert _lo(second).alias == "before"  # from the cache, as intended
            assert _lo(second).name == "lo" and _lo(second).speed_bps == _lo(first).speed_bps
            # Counters and status are read every cycle: lo carries the SNMP traffic itself.
            assert _lo(second).in_octets > _lo(first).in_octets
            assert _lo(second).oper_status == "up"
            assert second.host is not None and second.host.storages  # storage names cached
            assert [s.descr for s in second.host.storages] == \
                [s.descr for s in first.host.storages]

            # 4) static_every=2: the third poll refreshes and sees the new alias.
            third = await poll(poller)
            assert third.static_refresh and _lo(third).alias == "after"

            # 5) A restart (sysUpTime goes back) forces a re-read at once.
            await asyncio.to_thread(stop_snmpd, agent)
            restarted = await asyncio.to_thread(_start, agent.directory, agent.port)
            rw_agent[0] = restarted
            _set_alias(restarted, "restarted")
            fourth = await poll(poller)
            assert fourth.static_refresh == "sysUpTime went back (restart)"
            assert fourth.sys_uptime_cs < third.sys_uptime_cs
            assert _lo(fourth).alias == "restarted"
            assert _lo(fourth).in_octets is not None
        finally:
            poller.close()

    asyncio.run(scenario())
