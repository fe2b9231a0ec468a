"""Poll results -> stored state, samples, status changes; and the queries over them (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.snmp import queries
from collectors.snmp.poller import InterfaceReading, PollResult, Target
from collectors.snmp.rates import WRAP32
from collectors.snmp.store import apply_results
from inventory.importer import import_document
from inventory.models import BandwidthAllocation, Device
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from simpul.models.tenancy import Opd

T0 = 1_800_000_000.0
DOC = {
    "format": "simpul-inventory/1",
    "opds": [{"code": "DISKOMINFO", "name": "Diskominfo", "operator": True},
             {"code": "DISDIK", "name": "Dinas Pendidikan"}],
    "sites": [{"slug": "dc", "opd": "DISKOMINFO"}, {"slug": "opd-disdik", "opd": "DISDIK"}],
    "prefixes": [{"prefix": "192.0.2.0/24"}],
    "device_types": [{"slug": "r", "manufacturer": "FRRouting", "model": "FRR"}],
    "devices": [
        {"name": "dist-a", "site": "dc", "device_type": "r", "role": "distribution",
         "opd": "DISKOMINFO", "primary_ip4": "192.0.2.21",
         "interfaces": [{"name": "eth0", "addresses": ["192.0.2.21/24"]}, {"name": "eth3"}]},
        {"name": "acc-a", "site": "opd-disdik", "device_type": "r", "role": "access",
         "opd": "DISDIK", "primary_ip4": "192.0.2.31",
         "interfaces": [{"name": "eth0", "addresses": ["192.0.2.31/24"]}, {"name": "eth1"},
                        {"name": "eth2"}]},
        {"name": "ha1", "site": "opd-disdik", "device_type": "r", "role": "host",
         "opd": "DISDIK", "interfaces": [{"name": "eth1"}]},
    ],
    "cables": [{"a": "dist-a:eth3", "b": "acc-a:eth1"}, {"a": "acc-a:eth2", "b": "ha1:eth1"}],
}


@pytest.fixture
def sdb(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database holding DOC's inventory."""
    db = Database(f"sqlite:///{tmp_path / 'snmp.db'}")
    migrate.upgrade(db)
    with db.session() as s:
        import_document(s, Actor.system("test"), DOC, file="doc.yml")
    yield db
    db.dispose()


def target(db: Database, name: str) -> Target:
    with db.session(write=False) as s:
        device = s.query(Device).filter_by(name=name).one()
        from inventory.models import Interface
        ids = {i.name: i.id for i in s.query(Interface).filter_by(device_id=device.id)}
    return Target(device_id=device.id, name=name, address="192.0.2.31", interface_ids=ids)


def result(tgt: Target, ts: float, uptime_cs: int, ifaces: list[InterfaceReading],
           ok: bool = True) -> PollResult:
    return PollResult(target=tgt, ok=ok, started=ts - 0.1, ts=ts, duration_s=0.1,
                      error="" if ok else "No SNMP response received before timeout",
                      sys_uptime_cs=uptime_cs if ok else None, sys_name=tgt.name,
                      interfaces=ifaces if ok else [])


def iface(index: int, name: str, in_octets: int, out_octets: int, oper: str = "up",
          bits: int = 64, errors: int = 0) -> InterfaceReading:
    return InterfaceReading(if_index=index, name=name, descr=name, speed_bps=1_000_000_000,
                            admin_status="up", oper_status=oper, counter_bits=bits,
                            in_octets=in_octets, out_octets=out_octets, in_errors=errors,
                            out_errors=0, in_discards=0, out_discards=0)


def write(db: Database, *results: PollResult) -> None:
    with db.session() as s:
        apply_results(s, list(results), polled_by="test")


def test_rates_samples_and_latest_state(sdb: Database) -> None:
    acc = target(sdb, "acc-a")
    write(sdb, result(acc, T0, 100_000, [iface(2, "eth1", 1_000, 5_000)]))
    write(sdb, result(acc, T0 + 60, 106_000, [iface(2, "eth1", 1_000 + 750_000_000, 5_000,
                                                    errors=120)]))
    with sdb.session(write=False) as s:
        st = queries.find_interface(s, "acc-a", "eth1")
        assert st is not None and st.interface_id is not None
        assert st.in_bps == pytest.approx(100e6) and st.out_bps == 0
        assert st.in_util_pct == pytest.approx(10.0)
        assert st.in_errors_ps == pytest.approx(2.0)
        pts = queries.interface_series(s, st.snmp_interface_id, T0, T0 + 120, "raw")
        assert [(p.ts.timestamp(), p.in_bps) for p in pts] == [(T0 + 60, pytest.approx(100e6))]
        summary = queries.rate_summaries_since(s, T0)[st.snmp_interface_id]
        assert summary.samples == 1 and summary.min_util_pct == pytest.approx(10.0)


def test_oper_status_changes_are_recorded_in_order(sdb: Database) -> None:
    acc = target(sdb, "acc-a")
    write(sdb, result(acc, T0, 100_000, [iface(2, "eth1", 0, 0)]))
    write(sdb, result(acc, T0 + 5, 100_500, [iface(2, "eth1", 10, 10, oper="down")]))
    write(sdb, result(acc, T0 + 10, 101_000, [iface(2, "eth1", 20, 20, oper="down")]))
    write(sdb, result(acc, T0 + 15, 101_500, [iface(2, "eth1", 30, 30, oper="up")]))
    with sdb.session(write=False) as s:
        changes = queries.list_status_changes(s, T0)
        assert [(c.old_status, c.new_status, c.at.timestamp()) for c in changes] == [
            ("up", "down", T0 + 5), ("down", "up", T0 + 15)]
        assert changes[0].device_name == "acc-a" and changes[0].interface_name == "eth1"
        assert queries.list_status_changes(s, T0, after_id=changes[0].id) == changes[1:]
        st = queries.find_interface(s, "acc-a", "eth1")
        assert st is not None and st.oper_status == "up"
        assert st.last_change is not None and st.last_change.timestamp() == T0 + 15


def test_restart_gives_no_spike_and_clears_the_rate(sdb: Database) -> None:
    acc = target(sdb, "acc-a")
    write(sdb, result(acc, T0, 900_000, [iface(2, "eth1", 10**12, 10**12)]))
    write(sdb, result(acc, T0 + 60, 906_000, [iface(2, "eth1", 10**12 + 600, 10**12)]))
    # Rebooted: counters restart near zero, uptime went back.
    write(sdb, result(acc, T0 + 120, 3_000, [iface(2, "eth1", 5_000, 100)]))
    write(sdb, result(acc, T0 + 180, 9_000, [iface(2, "eth1", 5_000 + 7_500, 100)]))
    with sdb.session(write=False) as s:
        st = queries.find_interface(s, "acc-a", "eth1")
        assert st is not None
        pts = queries.interface_series(s, st.snmp_interface_id, T0, T0 + 200, "raw")
        assert [p.ts.timestamp() for p in pts] == [T0 + 60, T0 + 180]
        assert all(0 <= p.in_bps < 1e4 for p in pts)
        assert st.in_bps == pytest.approx(1000.0)


def test_32bit_counters_wrap_through_the_store(sdb: Database) -> None:
    acc = target(sdb, "acc-a")
    write(sdb, result(acc, T0, 100_000, [iface(2, "eth1", WRAP32 - 100, 0, bits=32)]))
    write(sdb, result(acc, T0 + 10, 101_000, [iface(2, "eth1", 1_249_900, 0, bits=32)]))
    with sdb.session(write=False) as s:
        st = queries.find_interface(s, "acc-a", "eth1")
        assert st is not None and st.in_bps == pytest.approx(1e6)


def test_counter64_values_round_trip_exactly(sdb: Database) -> None:
    acc = target(sdb, "acc-a")
    big = (1 << 64) - 7
    write(sdb, result(acc, T0, 100_000, [iface(2, "eth1", big, (1 << 63) + 1)]))
    from collectors.snmp.models import SnmpInterface
    with sdb.session(write=False) as s:
        row = s.query(SnmpInterface).one()
        assert (row.in_octets, row.out_octets) == (big, (1 << 63) + 1)


def test_reachability_counts_consecutive_failures(sdb: Database) -> None:
    acc = target(sdb, "acc-a")
    write(sdb, result(acc, T0, 100_000, [iface(2, "eth1", 0, 0)]))
    write(sdb, result(acc, T0 + 60, 0, [], ok=False))
    write(sdb, result(acc, T0 + 120, 0, [], ok=False))
    with sdb.session(write=False) as s:
        r = queries.get_device_reachability(s, acc.device_id)
        assert r is not None and not r.reachable and r.consecutive_failures == 2
        assert r.last_success is not None and r.last_success.timestamp() == T0
        assert r.polled_by == "test"
    write(sdb, result(acc, T0 + 180, 118_000, [iface(2, "eth1", 0, 0)]))
    with sdb.session(write=False) as s:
        r = queries.get_device_reachability(s, acc.device_id)
        assert r is not None and r.reachable and r.consecutive_failures == 0


def test_opd_bandwidth_counts_only_uplinks(sdb: Database) -> None:
    acc, dist = target(sdb, "acc-a"), target(sdb, "dist-a")
    for ts, n in ((T0, 0), (T0 + 10, 1)):
        write(sdb,
              result(acc, ts, 100_000 + n * 1000, [
                  iface(2, "eth1", n * 12_500_000, n * 2_500_000),  # uplink: 10 / 2 Mb/s
                  iface(3, "eth2", n * 99_000_000, n * 99_000_000)]),  # access port
              result(dist, ts, 100_000 + n * 1000, [iface(4, "eth3", 0, 0)]))
    with sdb.session() as s:
        disdik = s.query(Opd).filter_by(code="DISDIK").one()
        s.add(BandwidthAllocation(opd_id=disdik.id, users=2, committed_mbps=5))
    with sdb.session(write=False) as s:
        by_code = {o.code: o for o in queries.list_opd_bandwidth(s)}
        d = by_code["DISDIK"]
        assert d.in_bps == pytest.approx(10e6) and d.out_bps == pytest.approx(2e6)
        assert d.allocation_mbps == 5 and d.allocation_pct == pytest.approx(200.0)
        assert len(d.snmp_interface_ids) == 1
        assert by_code["DISKOMINFO"].allocation_mbps is None
        pts = queries.opd_series(s, d.opd_id, T0, T0 + 60, "raw")
        assert len(pts) == 1 and pts[0].in_bps == pytest.approx(10e6)
