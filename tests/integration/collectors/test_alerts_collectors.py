"""The alert engine over the collectors' real query modules: net-snmp agents on loopback
polled by the SNMP poller (helper C1's fixtures), read through CollectorSource; the agent
nobody answers for raises device-unreachable, the answering ones do not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.alerts.adapters import CollectorSource
from collectors.alerts.engine import AlertEngine
from collectors.alerts.rules import parse_rules
from collectors.alerts.service import list_alerts
from collectors.alerts.settings import AlertSettings
from collectors.snmp.service import poll_once
from simpul.context import AppContext
from tests.integration.collectors.conftest import SnmpAgent, load_snmp_inventory

RULES = parse_rules({"rules": [
    {"name": "unreachable", "kind": "device_unreachable", "severity": "critical"},
    {"name": "ifdown", "kind": "interface_down", "severity": "high"},
    {"name": "util", "kind": "utilisation", "severity": "medium", "threshold_pct": 80},
    {"name": "errors", "kind": "interface_errors", "severity": "low", "max_per_s": 1000},
    {"name": "cpu", "kind": "cpu", "severity": "medium", "threshold_pct": 101},
    {"name": "mem", "kind": "memory", "severity": "medium", "threshold_pct": 101},
    {"name": "disk", "kind": "disk", "severity": "high", "threshold_pct": 101},
    {"name": "opd", "kind": "opd_bandwidth", "severity": "medium"},
    {"name": "anomaly", "kind": "anomaly", "severity": "low"}]})


@pytest.fixture
def polled(app_context: AppContext, snmp_agents: list[SnmpAgent],
           snmp_env: dict[str, str]) -> AppContext:
    load_snmp_inventory(app_context.db, snmp_agents)
    poll_once(app_context)
    poll_once(app_context)  # rates need two polls
    return app_context


def test_device_unreachable_from_real_polls(polled: AppContext) -> None:
    source = CollectorSource()
    assert source.snmp is not None and source.flows is not None
    now = datetime.now(UTC)
    with polled.db.session(write=False) as s:
        devices = {d.device: d for d in source.devices(s, now)}
        assert set(devices) == {"agent1", "agent2", "agent3", "dead1"}
        assert not devices["dead1"].reachable and devices["agent1"].reachable
        assert devices["agent1"].where.site == "dc-test"
        assert devices["agent1"].where.opd == "DISKOMINFO"
        assert source.interfaces(s, now), "interfaces of the agents"
        assert source.host_resources(s, now), "host resources of the agents"

    engine = AlertEngine(polled.db, RULES, source, AlertSettings(siem=False))
    report = engine.evaluate(now)
    assert report.errors == {}
    with polled.db.session(write=False) as s:
        fired = {(a.rule, a.entity): a.title for a in list_alerts(s)}
    # The agents report this host's own interfaces, whose state and load are the host's
    # business (lab veths come and go, other jobs' loopback traffic can fill a 10 Mbps
    # "lo"): only the device rule is asserted exactly.
    unreachable = {k: v for k, v in fired.items() if k[0] == "unreachable"}
    assert unreachable == {("unreachable", "dead1"): "dead1 is unreachable (last answer never)"}
    assert {k[0] for k in fired} <= {"unreachable", "ifdown", "util"}
    assert report.observed > 8  # devices, interfaces, rates, resources all judged
