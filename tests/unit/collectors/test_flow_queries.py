"""Aggregation, OPD attribution, storage, roll-up and the query API on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.flows import queries, store
from collectors.flows.aggregate import Aggregator, service_port
from collectors.flows.attribution import OpdResolver
from collectors.flows.models import RES_HOUR, FlowAggregate
from simpul.db import Database
from simpul.errors import ValidationError
from simpul.models.tenancy import Opd

T0 = 1_700_000_400  # 2023-11-14 22:20:00 UTC, a minute boundary
A1, A2, B1 = 0xC0000201, 0xC0000202, 0xC6336401  # 192.0.2.1/.2, 198.51.100.1
INTERNET = 0xCB007101  # 203.0.113.1


def _opds(db: Database) -> tuple[int, int]:
    with db.session() as s:
        a, b = Opd(code="DISDIK", name="Dinas Pendidikan"), Opd(code="DINKES", name="Dinkes")
        s.add_all([a, b])
        s.flush()
        return a.id, b.id


def _load(db: Database, agg: Aggregator) -> None:
    with db.session() as s:
        store.insert_aggregates(s, agg.drain())


def test_service_port_and_resolver() -> None:
    assert service_port(6, 51000, 5201) == 5201
    assert service_port(17, 53, 40000) == 53
    assert service_port(1, 0, 771) == 0
    r = OpdResolver([("192.0.2.0/24", 1), ("192.0.2.128/25", 2), ("10.0.0.0/8", 3),
                     ("2001:db8::/32", 4)])
    assert r.lookup("192.0.2.1") == 1
    assert r.lookup("192.0.2.200") == 2
    assert r.lookup("198.51.100.1") is None
    assert r.lookup("2001:db8::5") == 4
    assert r.lookup("not an address") is None


def test_long_flow_is_spread_over_minutes() -> None:
    agg = Aggregator()
    # 120 s flow from T0+30 to T0+150: 30 s in minute 0, 60 s in minute 1, 30 s in minute 2.
    agg.add("e", [(A1, B1, 6, 40000, 443, 1200, 120, T0 + 30.0, T0 + 150.0)], T0 + 160)
    rows = sorted((r for r in agg.drain() if r["kind"] == "c"), key=lambda r: r["ts"])
    assert [(r["ts"] - T0, r["bytes"], r["packets"], r["flows"]) for r in rows] == [
        (0, 300, 30, 0), (60, 600, 60, 0), (120, 300, 30, 1)]
    assert rows[0]["src_addr"] == "192.0.2.1" and rows[0]["dst_addr"] == "198.51.100.1"
    assert rows[0]["port"] == 443


def test_rows_grow_with_hosts_not_conversations() -> None:
    agg = Aggregator(OpdResolver([("192.0.2.0/24", 1)]).lookup, conversations_per_minute=10,
                     max_conversations=250)
    # 300 conversations from 3 sources to 100 destinations, one service.
    recs = [(A1 + i % 3, INTERNET + i // 3, 6, 40000 + i, 443, 100 + i, 1, T0 + 1.0,
             T0 + 2.0) for i in range(300)]
    agg.add("e", recs, T0 + 10)
    assert agg.conversations_dropped == 50  # beyond the cap of 250 tracked conversations
    rows = agg.drain()
    kinds = [r["kind"] for r in rows]
    assert (kinds.count("s"), kinds.count("d"), kinds.count("v"), kinds.count("c")) == (
        3, 100, 1, 10)
    assert sum(r["bytes"] for r in rows if r["kind"] == "s") == sum(100 + i for i in range(300))
    top = [r for r in rows if r["kind"] == "c"]
    assert max(r["bytes"] for r in top) == 349 and min(r["bytes"] for r in top) == 340
    assert {r["src_opd_id"] for r in rows} == {1}


def test_clock_far_off_counts_at_arrival() -> None:
    agg = Aggregator()
    agg.add("e", [(A1, B1, 17, 1, 2, 10, 1, 5.0, 6.0)], T0 + 10)
    assert {r["ts"] for r in agg.drain()} == {T0} and agg.clamped == 1


def test_top_talkers_and_opd_traffic(db: Database) -> None:
    disdik, dinkes = _opds(db)
    resolver = OpdResolver([("192.0.2.0/24", disdik), ("198.51.100.0/24", dinkes)])
    agg = Aggregator(resolver.lookup)
    recs = [
        # minute 0: A1 uploads 6 MB to the internet on tcp/443, A2 1 MB on udp/53
        (A1, INTERNET, 6, 40000, 443, 6_000_000, 4000, T0 + 1.0, T0 + 50.0),
        (A2, INTERNET, 17, 53000, 53, 1_000_000, 900, T0 + 1.0, T0 + 50.0),
        # minute 1: DINKES host downloads 3 MB from A1 (tcp/5201), internal DISDIK 500 kB
        (A1, B1, 6, 5201, 41000, 3_000_000, 2000, T0 + 61.0, T0 + 110.0),
        (A1, A2, 6, 22, 50000, 500_000, 400, T0 + 61.0, T0 + 110.0),
    ]
    agg.add("203.0.113.9", recs, T0 + 120)
    _load(db, agg)
    since = datetime.fromtimestamp(T0, UTC)
    until = since + timedelta(minutes=2)
    with db.session(write=False) as s:
        src = queries.top_talkers(s, by="source", since=since, until=until)
        assert [(t.key, t.bytes, t.opd_code) for t in src] == [
            ("192.0.2.1", 9_500_000, "DISDIK"), ("192.0.2.2", 1_000_000, "DISDIK")]
        assert src[0].bps == pytest.approx(9_500_000 * 8 / 120)
        svc = queries.top_talkers(s, by="service", since=since, until=until, limit=2)
        assert [(t.key, t.bytes) for t in svc] == [("tcp/443", 6_000_000),
                                                  ("tcp/5201", 3_000_000)]
        dst = queries.top_talkers(s, by="destination", since=since, until=until,
                                  opd_id=dinkes)
        assert [(t.key, t.bytes, t.opd_code) for t in dst] == [
            ("198.51.100.1", 3_000_000, "DINKES")]
        conv = queries.top_talkers(s, by="conversation", since=since, until=until, limit=1)
        assert conv[0].key == "192.0.2.1>203.0.113.1"
        by_opd = queries.top_talkers(s, by="opd", since=since, until=until)
        # DISDIK: out 6+1+3+0.5 MB, in 0.5 MB (internal), total counts internal once.
        assert [(t.label, t.bytes) for t in by_opd] == [("DISDIK", 10_500_000),
                                                       ("DINKES", 3_000_000)]
        traffic = {t.opd_code: t for t in queries.opd_traffic(s, since=since, until=until)}
        assert traffic["DISDIK"].bytes_out == 10_500_000
        assert traffic["DISDIK"].bytes_in == 500_000
        assert traffic["DISDIK"].peak_bps == pytest.approx(7_000_000 * 8 / 60)
        assert traffic["DISDIK"].peak_ts == since
        assert traffic["DINKES"].bytes_in == 3_000_000 and traffic["DINKES"].bytes_out == 0
        series = queries.opd_bps_series(s, opd_id=dinkes, since=since, until=until)
        assert [(p.ts, p.bytes, p.bytes_in) for p in series] == [
            (since, 0, 0), (since + timedelta(minutes=1), 3_000_000, 3_000_000)]
        vol = queries.flow_volume_series(s, since=since, until=until, step=60)
        assert [(p.bytes, p.flows) for p in vol] == [(7_000_000, 2), (3_500_000, 2)]
        with pytest.raises(ValidationError):
            queries.top_talkers(s, by="colour", since=since, until=until)
        with pytest.raises(ValidationError):
            queries.flow_volume_series(s, since=until, until=since)


def test_rollup_keeps_totals_and_retention_drops_minutes(db: Database) -> None:
    agg = Aggregator()
    hour = T0 - T0 % RES_HOUR
    recs = [(A1, B1, 6, 40000, 443, 1000, 10, hour + m * 60 + 5.0, hour + m * 60 + 6.0)
            for m in range(0, 60, 10)]
    recs.append((A1, B1, 6, 40000, 443, 7, 1, hour + 3600 + 5.0, hour + 3600 + 6.0))
    agg.add("e", recs, hour + 3700)
    _load(db, agg)
    since = datetime.fromtimestamp(hour, UTC)
    until = since + timedelta(hours=2)
    with db.session() as s:
        before = queries.top_talkers(s, by="source", since=since, until=until)[0].bytes
        assert store.rollup(s, now=hour + 2 * 3600 + 100) == 1
    with db.session() as s:
        assert queries.rollup_cut(s) == hour + 3600
        assert queries.top_talkers(s, by="source", since=since, until=until)[0].bytes == before
        assert before == 6007
        deleted = store.apply_retention(s, minute_hours=1, hour_days=90,
                                        now=hour + 2 * 3600 + 100)
        # The six rolled-up minutes, each with a source, destination, service and
        # conversation row; the minute of the hour not rolled up yet stays.
        assert deleted == 6 * 4
    with db.session(write=False) as s:
        assert queries.top_talkers(s, by="source", since=since, until=until)[0].bytes == 6007
        vol = queries.flow_volume_series(s, since=since, until=until, step=3600)
        assert [p.bytes for p in vol] == [6000, 7]
        # Finer than an hour: only minute rows, so an hour row never inflates one minute.
        fine = queries.flow_volume_series(s, since=since + timedelta(hours=1), until=until,
                                          step=60)
        assert sum(p.bytes for p in fine) == 7 and max(p.bytes for p in fine) == 7
        assert s.query(FlowAggregate).filter_by(resolution=RES_HOUR).count() == 4
