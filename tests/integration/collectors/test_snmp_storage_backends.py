"""The SNMP store, roll-ups, retention and queries on both SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from collectors.snmp import queries
from collectors.snmp.models import SnmpInterface, SnmpInterfaceSample
from collectors.snmp.poller import InterfaceReading, PollResult, Target
from collectors.snmp.rollup import apply_retention, run_rollups
from collectors.snmp.store import apply_results
from inventory.models import Device
from simpul.db import Database
from tests.integration.collectors.conftest import SnmpAgent, load_snmp_inventory

H0 = 1_800_000_000 // 3600 * 3600


def _reading(octets: int, oper: str) -> InterfaceReading:
    return InterfaceReading(if_index=7, name="eth7", descr="eth7", speed_bps=10**9,
                            admin_status="up", oper_status=oper, in_octets=octets,
                            out_octets=(1 << 64) - 10**10 + octets // 1000,
                            in_errors=0, out_errors=0,
                            in_discards=0, out_discards=0)


def test_store_rollup_retention_on_each_backend(db: Database,
                                                snmp_agents: list[SnmpAgent]) -> None:
    load_snmp_inventory(db, snmp_agents)
    with db.session(write=False) as s:
        device_id = s.scalar(select(Device.id).where(Device.name == "agent1"))
    tgt = Target(device_id=device_id, name="agent1", address="127.0.0.61")
    for m in range(0, 130):
        oper = "down" if 30 <= m < 32 else "up"
        res = PollResult(target=tgt, ok=True, started=H0 + m * 60, ts=H0 + m * 60 + 0.5,
                         sys_uptime_cs=1_000_000 + m * 6000,
                         interfaces=[_reading(m * 750_000, oper)])
        with db.session() as s:
            apply_results(s, [res])
    with db.session(write=False) as s:
        iface = queries.find_interface(s, "agent1", "eth7")
        assert iface is not None and iface.in_bps == pytest.approx(100_000.0)
        changes = queries.list_status_changes(s, H0)
        assert [(c.old_status, c.new_status) for c in changes] == [("up", "down"), ("down", "up")]
        assert s.scalar(select(func.count()).select_from(SnmpInterfaceSample)) == 129
    with db.session() as s:
        stats = run_rollups(s, now=H0 + 2 * 3600 + 600, settle_s=90)
    assert stats.rolled_5m == 25 and stats.rolled_1h == 2
    with db.session(write=False) as s:
        hours = queries.interface_series(s, iface.snmp_interface_id, H0, H0 + 7200, 3600)
        assert [round(h.in_bps) for h in hours] == [100_000, 100_000]
        assert hours[0].samples == 59  # the first poll is only a baseline
        assert queries.interface_series(s, iface.snmp_interface_id, H0, H0 + 7200, "auto")
    with db.session() as s:
        assert apply_retention(s, raw_hours=1, five_min_days=3, hour_days=90,
                               now=H0 + 2 * 3600) > 0
    with db.session(write=False) as s:
        assert s.scalar(select(func.min(SnmpInterfaceSample.ts))) >= H0 + 3600
        row = s.scalar(select(SnmpInterface).where(SnmpInterface.name == "eth7"))
        assert row.out_octets == (1 << 64) - 10**10 + 129 * 750
