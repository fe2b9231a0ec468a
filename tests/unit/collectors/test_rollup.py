"""Roll-ups raw -> 5 min -> 1 h and retention, on SQLite (the same SQL runs on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from collectors.snmp import queries
from collectors.snmp.models import (
    SnmpHostRollup,
    SnmpHostSample,
    SnmpInterface,
    SnmpInterfaceRollup,
    SnmpInterfaceSample,
)
from collectors.snmp.rollup import apply_retention, run_rollups
from inventory.importer import import_document
from inventory.models import Device
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database

H0 = 1_800_000_000 // 3600 * 3600  # an hour boundary
DOC = {
    "format": "simpul-inventory/1",
    "opds": [{"code": "DISKOMINFO", "name": "Diskominfo", "operator": True}],
    "sites": [{"slug": "dc", "opd": "DISKOMINFO"}],
    "device_types": [{"slug": "r", "manufacturer": "FRRouting", "model": "FRR"}],
    "devices": [{"name": "core1", "site": "dc", "device_type": "r", "role": "core"}],
}


@pytest.fixture
def rdb(tmp_path: Path) -> Iterator[tuple[Database, int, int]]:
    """A database with one device, one interface and 2 h of 60-s samples (in = minute no.)."""
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    migrate.upgrade(db)
    with db.session() as s:
        import_document(s, Actor.system("test"), DOC, file="doc.yml")
        device_id = s.scalar(select(Device.id))
        row = SnmpInterface(device_id=device_id, if_index=1, name="eth1")
        s.add(row)
        s.flush()
        sid = row.id
        s.execute(insert(SnmpInterfaceSample), [
            {"snmp_interface_id": sid, "ts": H0 + m * 60, "interval_s": 60.0,
             "in_bps": float(m), "out_bps": 2.0 * m, "in_errors_ps": 0.0,
             "out_errors_ps": 0.0, "in_discards_ps": 0.0, "out_discards_ps": 0.0}
            for m in range(120)])
        s.execute(insert(SnmpHostSample), [
            {"device_id": device_id, "ts": H0 + m * 60, "cpu_pct": float(m % 10),
             "mem_pct": 50.0, "disk_max_pct": 70.0} for m in range(120)])
    yield db, sid, device_id
    db.dispose()


def test_five_minute_and_hour_buckets(rdb: tuple[Database, int, int]) -> None:
    db, sid, device_id = rdb
    now = H0 + 2 * 3600 + 600  # two full hours are over and settled
    with db.session() as s:
        stats = run_rollups(s, now=now, settle_s=90)
    assert stats.rolled_5m == 24 and stats.rolled_1h == 2
    with db.session(write=False) as s:
        five = queries.interface_series(s, sid, H0, H0 + 7200, 300)
        assert len(five) == 24
        assert five[0].ts.timestamp() == H0 and five[0].samples == 5
        assert five[0].in_bps == pytest.approx(2.0)  # mean of 0..4
        assert five[0].in_bps_max == 4.0 and five[0].out_bps == pytest.approx(4.0)
        hours = queries.interface_series(s, sid, H0, H0 + 7200, 3600)
        assert [h.samples for h in hours] == [60, 60]
        assert hours[0].in_bps == pytest.approx(29.5) and hours[1].in_bps == pytest.approx(89.5)
        assert hours[1].in_bps_max == 119.0
        host = queries.host_series(s, device_id, H0, H0 + 7200, 3600)
        assert len(host) == 2 and host[0].cpu_pct == pytest.approx(4.5)
        assert host[0].cpu_pct_max == 9.0 and host[0].disk_max_pct == 70.0


def test_rollup_is_incremental_and_never_duplicates(rdb: tuple[Database, int, int]) -> None:
    db, _sid, _ = rdb
    with db.session() as s:
        # 40 minutes in: only the first 7 buckets are complete and settled (end + 90 s).
        first = run_rollups(s, now=H0 + 40 * 60, settle_s=90)
    assert first.rolled_5m == 7 and first.rolled_1h == 0
    for _ in range(2):
        with db.session() as s:
            run_rollups(s, now=H0 + 2 * 3600 + 600, settle_s=90)
    with db.session(write=False) as s:
        count = s.scalar(select(func.count()).select_from(SnmpInterfaceRollup)
                         .where(SnmpInterfaceRollup.resolution == 300))
        assert count == 24
        assert s.scalar(select(func.count()).select_from(SnmpInterfaceRollup)
                        .where(SnmpInterfaceRollup.resolution == 3600)) == 2


def test_retention_keeps_each_resolution_for_its_own_period(
        rdb: tuple[Database, int, int]) -> None:
    db, _sid, _ = rdb
    with db.session() as s:
        run_rollups(s, now=H0 + 2 * 3600 + 600, settle_s=90)
    with db.session() as s:
        # One hour of raw kept: samples of the first hour go; 5-min and 1-h rows stay.
        deleted = apply_retention(s, raw_hours=1.0, five_min_days=3, hour_days=90,
                                  now=H0 + 2 * 3600)
        assert deleted == 120
    with db.session(write=False) as s:
        assert s.scalar(select(func.min(SnmpInterfaceSample.ts))) == H0 + 3600
        assert s.scalar(select(func.count()).select_from(SnmpInterfaceRollup)) == 26
    with db.session() as s:
        apply_retention(s, raw_hours=1.0, five_min_days=3, hour_days=90,
                        now=H0 + 4 * 86400)
    with db.session(write=False) as s:
        rows = s.execute(select(SnmpInterfaceRollup.resolution, func.count())
                         .group_by(SnmpInterfaceRollup.resolution)).all()
        assert dict(rows) == {3600: 2}
        assert s.scalar(select(func.count()).select_from(SnmpHostRollup)
                        .where(SnmpHostRollup.resolution == 300)) == 0


def test_auto_resolution_picks_by_span() -> None:
    now = 2_000_000_000.0
    assert queries.choose_resolution(now - 3600, now, now=now) == "raw"
    # The same one-hour span two days ago: raw samples have expired, use 5-min buckets.
    assert queries.choose_resolution(now - 2 * 86400, now - 2 * 86400 + 3600, now=now) == 300
    assert queries.choose_resolution(now - 86400, now, now=now) == 300
    assert queries.choose_resolution(now - 30 * 86400, now, now=now) == 3600
