"""Detection end to end on both databases: writer rows, rules, incidents, state, search."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from siem.detect.engine import Detector
from siem.detect.runner import DetectionRunner
from siem.enrich import EnrichmentRegistry, StaticAssetMap
from siem.incidents import file_alerts, incidents_query, update_incident
from siem.maintenance import maintenance_report
from siem.models import SiemAlert, SiemIncident, SiemRule, SiemRuleState
from siem.normalise import NormaliseOptions
from siem.query import QueryError
from siem.search import events_query
from siem.spool import Record
from siem.writer import build_rows, store_rows
from simpul.db import Database
from simpul.errors import ValidationError

ASSETS = StaticAssetMap({"10.10.2.0/24": {"device": "srv-simpus", "opd": "DINKES",
                                          "criticality": "high", "site": "DC", "role": "server"},
                         "10.10.1.1": {"device": "core-sw1", "opd": "DISKOMINFO",
                                       "criticality": "critical", "role": "core"}})


def ingest(db: Database, lines: list[str], peer: str = "10.10.2.10",
           runner: DetectionRunner | None = None) -> list[dict]:
    """Store *lines* the way the writer does and run detection on them."""
    now = time.time()
    records = [Record(line.encode(), now, "tcp", peer, 514, "", 0, i + int(now * 1000))
               for i, line in enumerate(lines)]
    events: list[dict] = []
    rows = build_rows(records, NormaliseOptions(epoch=f"t{now}"),
                      EnrichmentRegistry([ASSETS]), None, events)
    store_rows(db, rows)
    if runner is not None:
        runner.after_batch(events)
    return events


def ssh_fail(user: str, src: str, sec: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return (f"<38>1 {stamp}.{sec:03d}Z srv-simpus sshd 811 - - Failed password for {user} "
            f"from {src} port {40000 + sec} ssh2")


def test_brute_force_becomes_one_incident_with_links(db: Database) -> None:
    runner = DetectionRunner(db, Detector.from_dirs())
    runner.start()
    ingest(db, [ssh_fail("alice", "203.0.113.9", i) for i in range(12)], runner=runner)
    with db.session(write=False) as s:
        incidents = list(s.scalars(select(SiemIncident)))
        assert len(incidents) == 1, [i.title for i in incidents]
        inc = incidents[0]
        assert inc.entity == "source.ip=203.0.113.9"
        assert inc.severity == "high" and inc.status == "new"
        assert "T1110.001" in inc.techniques
        alerts = list(s.scalars(select(SiemAlert).where(SiemAlert.rule_id
                                                        == "corr:ssh-brute-force")))
        assert len(alerts) == 1  # fired twice (12 failures, threshold 5); repeat suppressed
        linked = events_query(f"event.id:{alerts[0].event_ids[0]}")
        assert s.scalars(linked).first() is not None
    runner.periodic(force=True)
    with db.session(write=False) as s:
        rule = s.get(SiemRule, "corr:ssh-brute-force")
        assert rule is not None and rule.hits == 2


def test_state_survives_a_restart(db: Database) -> None:
    first = DetectionRunner(db, Detector.from_dirs())
    first.start()
    ingest(db, [ssh_fail("bob", "198.51.100.20", i) for i in range(3)], runner=first)
    first.stop()
    with db.session(write=False) as s:
        assert s.get(SiemRuleState, "corr:ssh-brute-force") is not None
    second = DetectionRunner(db, Detector.from_dirs())
    second.start()
    alerts = second.after_batch(ingest(db, [ssh_fail("bob", "198.51.100.20", i)
                                            for i in range(3, 5)]))
    assert [a.rule_id for a in alerts if a.rule_id.startswith("corr:")] == \
        ["corr:ssh-brute-force"]


def test_disabled_rule_switch_is_read_from_the_database(db: Database) -> None:
    runner = DetectionRunner(db, Detector.from_dirs())
    runner.start()
    with db.session() as s:
        s.get(SiemRule, "corr:ssh-brute-force").enabled = False
    runner.periodic(force=True)
    alerts = runner.after_batch(ingest(db, [ssh_fail("eve", "192.0.2.44", i)
                                            for i in range(6)]))
    assert "corr:ssh-brute-force" not in {a.rule_id for a in alerts}


def test_incident_workflow_and_opd_scope(db: Database) -> None:
    runner = DetectionRunner(db, Detector.from_dirs())
    runner.start()
    ingest(db, ["<38>Nov 23 10:15:01 srv-simpus sshd[9]: Failed password for root from "
                "10.10.2.77 port 5 ssh2"], runner=runner)
    with db.session() as s:
        inc = s.scalars(select(SiemIncident)).one()
        assert inc.opd == "DINKES"  # enrichment of the source address
        update_incident(s, inc, actor="sec", status="in_progress", assignee="sec",
                        note="looking")
        with pytest.raises(ValidationError):
            update_incident(s, inc, actor="sec", status="done")
    with db.session(write=False) as s:
        inc = s.scalars(select(SiemIncident)).one()
        assert inc.status == "in_progress" and inc.assignee == "sec"
        assert inc.notes[0]["text"] == "looking"
        assert s.scalars(incidents_query(scope_opd="DINKES")).all()
        assert not s.scalars(incidents_query(scope_opd="DISDIK")).all()


def test_infrastructure_incident_carries_damage_class(db: Database) -> None:
    from siem.detect.alerts import Alert

    with db.session() as s:
        file_alerts(s, [Alert(rule_id="corr:device-silent", title="Device stopped logging",
                              severity="medium", entity="host.name=sw1",
                              when=datetime.now(UTC), kind="infrastructure",
                              damage_class="interruption")])
    with db.session(write=False) as s:
        inc = s.scalars(select(SiemIncident)).one()
        assert inc.kind == "infrastructure" and inc.damage_class == "interruption"


QUERIES = [
    ("source.ip:203.0.113.0/24 AND event.outcome:failure", 3),
    ("source.ip:203.0.113.128/25", 0),
    ("user.name:ali* AND NOT source.ip:198.51.100.1", 2),
    ('"Failed password for root"', 1),
    ("source.asset.opd:DINKES", 0),
    ("host.asset.opd:DINKES", 4),
    ("source.port:>=40001", 2),
    ("tags:unparsed", 1),
    ("event.outcome:(failure OR success) AND NOT user.name:root", 2),
    ("event.severity:<=6 AND message:*password*", 3),
]


def test_query_language_compiles_to_sql(db: Database) -> None:
    ingest(db, [ssh_fail("alice", "203.0.113.9", 0), ssh_fail("alina", "203.0.113.10", 1),
                ssh_fail("root", "203.0.113.11", 2), "<13>Nov 23 10:00:00 srv foo: bar"])
    with db.session(write=False) as s:
        got = {q: len(s.scalars(events_query(q, since="1d")).all()) for q, _ in QUERIES}
    assert got == dict(QUERIES)


def test_bad_query_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="missing"):
        events_query("(source.ip:1.2.3.4")


def test_maintenance_report_ranks_recurring_warnings(db: Database) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    lines = [f"<28>1 {stamp}Z srv-simpus kernel - - EXT4-fs error (device sda1): I/O error"
             for _ in range(4)]
    lines += [f"<187>1 {stamp}Z core-sw1 ios - - %LINK-3-UPDOWN: Interface Gi0/1, changed "
              f"state to {'down' if i % 2 else 'up'}" for i in range(6)]
    lines.append(f"<28>1 {stamp}Z srv-simpus kernel - - fan 2 failed")
    ingest(db, lines, peer="10.10.1.1")
    with db.session(write=False) as s:
        report = maintenance_report(s, days=1)
    items = [(i["device"], i["problem"]) for i in report["items"]]
    assert ("core-sw1", "link_flap") in items and ("srv-simpus", "disk") in items
    assert ("srv-simpus", "fan_power") not in items  # once is not recurring
    assert all(i["action"] for i in report["items"])

