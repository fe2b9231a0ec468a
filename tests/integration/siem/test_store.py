"""Event storage and queries on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from siem import store
from siem.enrich import EnrichmentRegistry
from siem.errors import SiemError
from siem.normalise import NormaliseOptions
from siem.spool import Record
from siem.stats import SourceCounters
from siem.writer import build_rows, store_rows
from simpul.db import Database

T0 = datetime(2024, 11, 23, 10, 0, tzinfo=UTC)
OPTS = NormaliseOptions(epoch="e1")


def rec(i: int, line: str, peer: str = "192.0.2.1") -> Record:
    return Record(line.encode(), T0.timestamp() + i, "udp", peer, 514, "", 0, i * 100)


def ssh_fail(i: int, user: str = "admin", src: str = "198.51.100.7") -> Record:
    ts = (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return rec(i, f"<38>1 {ts} bastion sshd {1000 + i} - - Failed password for invalid user "
                  f"{user} from {src} port {40000 + i} ssh2")


def put(db: Database, records: list[Record]) -> int:
    return store_rows(db, build_rows(records, OPTS, EnrichmentRegistry(), None))


def test_insert_is_idempotent_and_keeps_raw(db: Database) -> None:
    records = [ssh_fail(i) for i in range(5)] + [rec(9, "\x00binary\xff".encode("latin-1")
                                                 .decode("latin-1"))]
    records[-1].raw = b"\x00\xffbinary"
    assert put(db, records) == 6
    assert put(db, records) == 0  # re-delivery after a crash: nothing twice
    with db.session(write=False) as session:
        assert store.count_events(session) == 6
        page = store.list_events(session, filters={"event.dataset": "syslog.generic"})
    (binary,) = page.events
    assert binary.raw_encoding == "base64" and binary.raw == "AP9iaW5hcnk="
    assert "parse_error" in binary.doc["tags"]


def test_list_events_filters_and_time_range(db: Database) -> None:
    put(db, [ssh_fail(i, user="admin" if i % 2 else "root",
                      src="198.51.100.7" if i < 6 else "203.0.113.5") for i in range(10)])
    with db.session(write=False) as session:
        page = store.list_events(session, filters={"source.ip": "198.51.100.7",
                                                   "event.outcome": "failure"})
        assert len(page.events) == 6
        assert page.events[0].timestamp == T0 + timedelta(seconds=5)  # newest first
        assert page.events[0].doc["event.action"] == "ssh_login"
        users = store.list_events(session, filters={"user.name": ["root"]})
        assert {e.user_name for e in users.events} == {"root"}
        window = store.list_events(session, since=T0 + timedelta(seconds=2),
                                   until=T0 + timedelta(seconds=4))
        assert [e.timestamp for e in window.events] == [T0 + timedelta(seconds=3),
                                                        T0 + timedelta(seconds=2)]
        assert store.list_events(session, filters={"event.category": "authentication",
                                                   "event.severity": 6}).events
        with pytest.raises(SiemError, match="cannot filter"):
            store.list_events(session, filters={"message": "x"})


def test_cursor_paging_visits_every_event_once(db: Database) -> None:
    # Two events per timestamp, so the cursor must break ties by id.
    put(db, [ssh_fail(i // 2) for i in range(0, 1)] +
        [rec(i, f"<13>1 {(T0 + timedelta(seconds=i // 2)).isoformat()} h app - - - n{i}")
         for i in range(1, 25)])
    seen: list[str] = []
    cursor = None
    with db.session(write=False) as session:
        while True:
            page = store.list_events(session, limit=7, cursor=cursor)
            seen += [e.event_id for e in page.events]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == store.count_events(session)
        with pytest.raises(SiemError):
            store.list_events(session, cursor="garbage")


def test_retention_by_age_and_count(db: Database) -> None:
    old = [ssh_fail(i) for i in range(5)]
    new = [ssh_fail(i) for i in range(5, 15)]
    for r in new:
        r.received = datetime.now(UTC).timestamp()
    put(db, old + new)
    with db.session() as session:
        deleted = store.delete_expired(session, older_than=datetime.now(UTC) - timedelta(days=1),
                                       below_id=None, batch=3)
    assert deleted == 3  # one small batch at a time
    with db.session() as session:
        assert store.delete_expired(session, older_than=datetime.now(UTC) - timedelta(days=1),
                                    below_id=None, batch=100) == 2
    with db.session() as session:
        boundary = store.retention_boundary(session, 4)
        while store.delete_expired(session, older_than=None, below_id=boundary, batch=2):
            pass
        assert store.count_events(session) == 4


def test_source_counters_accumulate(db: Database) -> None:
    seen = datetime.now(UTC).timestamp()
    with db.session() as session:
        store.flush_source_counters(session, {"192.0.2.1": SourceCounters(
            transport="udp", received=5, bytes=500, dropped=1, last_seen=seen)})
    with db.session() as session:
        store.flush_source_counters(session, {"192.0.2.1": SourceCounters(
            transport="udp", received=2, parsed=6, unparsed=1, bytes=200, last_seen=seen + 1)})
    with db.session(write=False) as session:
        (row,) = store.list_sources(session)
    assert (row.received, row.parsed, row.unparsed, row.dropped, row.bytes) == (7, 6, 1, 1, 700)
    assert row.last_seen is not None and row.last_seen.tzinfo is not None


def test_batch_counts_only_new_rows_and_docs_round_trip(db: Database) -> None:
    """The fast SQLite insert (executemany, orjson) stores what the Core path stores."""
    first = [ssh_fail(i, user="jos\u00e9") for i in range(3)]
    assert put(db, first) == 3
    assert put(db, first[1:] + [ssh_fail(i) for i in range(3, 5)]) == 2  # 2 old, 2 new
    events: list[dict] = []
    rows = build_rows([ssh_fail(7)], OPTS, EnrichmentRegistry(), None, events)
    # What orjson refuses (a lone surrogate, an integer beyond 64 bits) still stores.
    rows[0]["doc"]["odd.text"] = "bad \udcff byte"
    rows[0]["doc"]["odd.number"] = 2**70
    assert store_rows(db, rows) == 1
    with db.session(write=False) as session:
        page = store.list_events(session, limit=100)
        by_id = {e.event_id: e for e in page.events}
    assert len(by_id) == 6
    stored = by_id[rows[0]["event_id"]]
    assert stored.doc == rows[0]["doc"]
    assert store._utc(stored.timestamp) == events[0]["@timestamp"]
    assert stored.source_ip == "198.51.100.7" and stored.user_name == "admin"
    assert stored.category == "authentication" and stored.severity == 6
    accented = by_id[build_rows([first[0]], OPTS, EnrichmentRegistry(), None)[0]["event_id"]]
    assert accented.user_name == "jos\u00e9" and accented.doc["user.name"] == "jos\u00e9"
