"""The SNMP poller against real net-snmp agents on loopback, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from collectors.snmp import queries
from collectors.snmp.service import poll_once
from collectors.snmp.settings import load_snmp_settings
from simpul.context import AppContext
from tests.integration.collectors.conftest import (
    SNMP_DEAD_ADDRESS,
    SNMP_V3,
    SnmpAgent,
    load_snmp_inventory,
    wait_for_fresh_counters,
)


@pytest.fixture
def snmp_app(snmp_sqlite_app: AppContext, snmp_agents: list[SnmpAgent],
             snmp_env: dict[str, str]) -> AppContext:
    """The agents' inventory on SQLite (the poller's behaviour does not depend on the DB)."""
    load_snmp_inventory(snmp_sqlite_app.db, snmp_agents)
    return snmp_sqlite_app


@pytest.fixture
def snmp_app_each_db(app_context: AppContext, snmp_agents: list[SnmpAgent],
                     snmp_env: dict[str, str]) -> AppContext:
    """The agents' inventory on SQLite and on PostgreSQL."""
    load_snmp_inventory(app_context.db, snmp_agents)
    return app_context


def test_poll_stores_interfaces_rates_host_and_reachability(snmp_app_each_db: AppContext) -> None:
    snmp_app = snmp_app_each_db
    first = poll_once(snmp_app)
    assert (first.devices, first.ok, first.failed) == (4, 3, 1)
    wait_for_fresh_counters()
    second = poll_once(snmp_app)
    assert second.ok == 3
    with snmp_app.db.session(write=False) as s:
        reach = {d.device_name: d for d in queries.list_device_reachability(s)}
        assert reach["agent1"].reachable and reach["agent1"].sys_name == "agent1"
        assert reach["agent1"].uptime_seconds is not None
        dead = reach["dead1"]
        assert not dead.reachable and dead.consecutive_failures == 2
        assert dead.address == SNMP_DEAD_ADDRESS and "timeout" in dead.last_error.lower()
        assert dead.last_success is None
        lo = queries.find_interface(s, "agent1", "lo")
        assert lo is not None and lo.oper_status == "up" and lo.admin_status == "up"
        assert lo.interface_id is not None  # matched to the inventory's "lo"
        # The polls themselves cross loopback: a real, positive rate.
        assert lo.in_bps is not None and lo.in_bps > 0 and lo.rate_at is not None
        series = queries.interface_series(s, lo.snmp_interface_id, time.time() - 60,
                                          time.time() + 1, "raw")
        assert len(series) == 1 and series[0].in_bps == pytest.approx(lo.in_bps)
        hosts = {h.device_name: h for h in queries.list_host_resources(s)}
        h = hosts["agent2"]
        assert h.mem_total_bytes and 0 < (h.mem_pct or 0) < 100
        assert h.disk_max_pct is not None and any(st.kind == "disk" for st in h.storages)


def test_dead_device_does_not_delay_the_others(snmp_app: AppContext,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_SNMP_TIMEOUT", "1.5")
    report = poll_once(snmp_app)
    by_name = {r.target.name: r for r in report.results}
    dead = by_name["dead1"]
    # 1.5 s timeout x 2 tries for the dead one; the live ones finish long before it.
    assert not dead.ok and dead.duration_s >= 2.9
    for name in ("agent1", "agent2", "agent3"):
        assert by_name[name].ok and by_name[name].duration_s < 1.5, by_name[name]
    assert report.seconds < dead.duration_s + 0.5


def test_snmpv3_auth_priv(snmp_app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    user, auth, priv = SNMP_V3
    monkeypatch.setenv("SIMPUL_SNMP_VERSION", "3")
    monkeypatch.setenv("SIMPUL_SNMP_V3_USER", user)
    monkeypatch.setenv("SIMPUL_SNMP_V3_AUTH_KEY", auth)
    monkeypatch.setenv("SIMPUL_SNMP_V3_PRIV_KEY", priv)
    report = poll_once(snmp_app)
    assert report.ok == 3 and report.interfaces > 0
    monkeypatch.setenv("SIMPUL_SNMP_V3_PRIV_KEY", "wrong-priv-key")
    bad = poll_once(snmp_app, load_snmp_settings())
    assert bad.ok == 0


def test_background_service_polls_every_interval_and_stops_cleanly(
        snmp_app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from collectors.snmp.services import background_services

    monkeypatch.setenv("SIMPUL_SNMP_INTERVAL", "1.5")
    (service,) = background_services(snmp_app)
    service.start()
    try:
        deadline = time.monotonic() + 30
        while service.cycles < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.cycles >= 3
        assert service.writer.flush(10)
    finally:
        service.stop()
    assert service.writer.dropped == 0 and service.writer.errors == 0
    with snmp_app.db.session(write=False) as s:
        lo = queries.find_interface(s, "agent3", "lo")
        assert lo is not None and lo.in_bps is not None
        assert len(queries.interface_series(s, lo.snmp_interface_id, time.time() - 120,
                                            time.time() + 1, "raw")) >= 2
    monkeypatch.setenv("SIMPUL_SNMP_ENABLED", "false")
    assert background_services(snmp_app) == []
