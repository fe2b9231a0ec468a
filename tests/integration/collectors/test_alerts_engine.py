"""The alert engine on SQLite and PostgreSQL: probe failure fires once, notifies by e-mail
(real SMTP socket) and webhook (real HTTP), reaches the SIEM, resolves on recovery;
maintenance windows, manual ack/resolve, flapping, OPD allocation, failing rules."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from collectors.alerts.engine import AlertEngine
from collectors.alerts.models import Alert, AlertSignal
from collectors.alerts.rules import Rule, RuleSet, parse_rules
from collectors.alerts.service import (
    acknowledge_alert,
    create_maintenance,
    list_alerts,
    require_alert,
    resolve_alert,
)
from collectors.alerts.settings import AlertSettings
from collectors.alerts.sources import InterfaceState, MemorySource, OpdRate, Where
from collectors.probes.service import create_probe, run_probes
from inventory.ipam.utilisation import create_bandwidth_allocation
from siem.models import SiemEvent
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import ConflictError
from simpul.tenancy import require_opd
from tests.integration.collectors.alerts_fixtures import *  # noqa: F403 (fixtures)
from tests.integration.collectors.alerts_fixtures import SmtpSink, WebhookSink

ACTOR = Actor.system("test")
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PROBE_RULES = parse_rules({"rules": [{"name": "probe-failure", "kind": "probe_failure",
                                      "severity": "high", "failures": 2}]})


class Service:
    """A TCP service on loopback that can be stopped and started on the same port."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.port = 0
        self.start()

    def start(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.port = self.sock.getsockname()[1]

    def stop(self) -> None:
        assert self.sock is not None
        self.sock.close()
        self.sock = None


@pytest.fixture
def service() -> Service:
    svc = Service()
    yield svc  # type: ignore[misc]
    if svc.sock is not None:
        svc.sock.close()


def engine(app: AppContext, ruleset: RuleSet, settings: AlertSettings,
           source: MemorySource | None = None) -> AlertEngine:
    return AlertEngine(app.db, ruleset, source or MemorySource(), settings)


def add_probe(app: AppContext, port: int, **extra: object) -> None:
    with app.db.session() as s:
        create_probe(s, ACTOR, name="portal-tcp", service="web", kind="tcp",
                     target="127.0.0.1", port=port, opd="DINKES", device="web",
                     site="dc-diskominfo", **extra)


def alerts_of(app: AppContext) -> list[Alert]:
    with app.db.session(write=False) as s:
        found = list(list_alerts(s))
        for a in found:
            s.expunge(a)
        return found


def test_probe_failure_fires_once_notifies_and_resolves(
        opds: AppContext, alert_settings: AlertSettings, smtp_sink: SmtpSink,
        webhook_sink: WebhookSink, service: Service) -> None:
    add_probe(opds, service.port)
    eng = engine(opds, PROBE_RULES, alert_settings)
    run_probes(opds.db)
    assert eng.evaluate(T0).fired == []

    service.stop()
    run_probes(opds.db)
    assert eng.evaluate(T0 + timedelta(minutes=1)).fired == []  # one failure is not enough
    run_probes(opds.db)
    report = eng.evaluate(T0 + timedelta(minutes=2))
    assert len(report.fired) == 1 and report.siem_events == 1
    for minute in (3, 4):  # still failing: the same alert, refreshed, no new notice
        run_probes(opds.db)
        again = eng.evaluate(T0 + timedelta(minutes=minute))
        assert again.fired == [] and again.refreshed == 1 and again.notices == []

    [alert] = alerts_of(opds)
    assert alert.state == "firing" and alert.rule == "probe-failure"
    assert alert.entity == "probe:portal-tcp" and alert.device == "web"
    assert alert.title.startswith("web probe portal-tcp (tcp 127.0.0.1) failing: connect "
                                  f"127.0.0.1:{service.port}: Connection refused")
    with opds.db.session() as s:
        assert alert.opd_id == require_opd(s, "DINKES").id

    assert smtp_sink.subjects() == [f"[simpul HIGH] firing: {alert.title}"[:200]]
    [(rcpt, mail)] = smtp_sink.received
    assert rcpt == ["noc@sidoarjokab.go.id"] and mail["From"] == "simpul@sidoarjokab.go.id"
    assert "Device: web" in mail.get_payload() and "OPD: DINKES" in mail.get_payload()
    [post] = webhook_sink.posts
    assert post["content_type"] == "application/json" and post["path"] == "/hooks/simpul"
    assert post["body"]["event"] == "firing" and post["body"]["alert_id"] == alert.id
    assert post["body"]["severity"] == "high" and post["body"]["opd"] == "DINKES"

    service.start()
    run_probes(opds.db)
    resolved = eng.evaluate(T0 + timedelta(minutes=5))
    assert resolved.resolved == [alert.id]
    [alert] = alerts_of(opds)
    assert alert.state == "resolved" and alert.resolved_by == "auto"
    assert webhook_sink.events() == [("firing", "probe-failure"), ("resolved", "probe-failure")]
    assert len(smtp_sink.received) == 2

    with opds.db.session(write=False) as s:
        events = s.scalars(select(SiemEvent).where(SiemEvent.dataset == "simpul.alert")
                           .order_by(SiemEvent.id)).all()
        assert [e.doc["rule.name"] for e in events] == ["probe-failure", "probe-failure"]
        assert events[0].doc["event.severity"] == 3 and events[0].message == alert.title


def test_maintenance_window_records_but_does_not_notify(
        opds: AppContext, alert_settings: AlertSettings, smtp_sink: SmtpSink,
        webhook_sink: WebhookSink, service: Service) -> None:
    add_probe(opds, service.port)
    with opds.db.session() as s:
        create_maintenance(s, ACTOR, scope="device", target="web", starts_at=T0,
                           ends_at=T0 + timedelta(hours=1), reason="nginx upgrade")
    eng = engine(opds, PROBE_RULES, alert_settings)
    service.stop()
    run_probes(opds.db)
    run_probes(opds.db)
    report = eng.evaluate(T0 + timedelta(minutes=10))
    assert len(report.fired) == 1 and report.notices == []
    [alert] = alerts_of(opds)
    assert alert.suppressed and not alert.notified
    service.start()
    run_probes(opds.db)
    assert eng.evaluate(T0 + timedelta(minutes=20)).resolved == [alert.id]
    assert smtp_sink.received == [] and webhook_sink.posts == []

    # After the window the same failure is notified.
    service.stop()
    run_probes(opds.db)
    run_probes(opds.db)
    after = eng.evaluate(T0 + timedelta(hours=2))
    assert len(after.fired) == 1 and len(after.notices) == 1
    assert webhook_sink.events() == [("firing", "probe-failure")]


def test_ack_then_manual_resolve_holds_until_clear(
        opds: AppContext, alert_settings: AlertSettings, service: Service) -> None:
    add_probe(opds, service.port)
    eng = engine(opds, PROBE_RULES, alert_settings)
    service.stop()
    run_probes(opds.db)
    run_probes(opds.db)
    [alert_id] = eng.evaluate(T0).fired
    with opds.db.session() as s:
        notice = acknowledge_alert(s, ACTOR, require_alert(s, alert_id), note="on it")
        assert notice.state == "acknowledged"
    assert eng.evaluate(T0 + timedelta(minutes=1)).refreshed == 1
    with opds.db.session() as s:
        alert = require_alert(s, alert_id)
        assert alert.state == "acknowledged" and alert.note == "on it"
        resolve_alert(s, ACTOR, alert)
        with pytest.raises(ConflictError, match="already resolved"):
            resolve_alert(s, ACTOR, alert)
    run_probes(opds.db)
    # still failing, but resolved by hand: no new alert until it has recovered once
    assert eng.evaluate(T0 + timedelta(minutes=2)).fired == []
    service.start()
    run_probes(opds.db)
    eng.evaluate(T0 + timedelta(minutes=3))
    service.stop()
    run_probes(opds.db)
    run_probes(opds.db)
    assert len(eng.evaluate(T0 + timedelta(minutes=4)).fired) == 1
    assert [a.state for a in alerts_of(opds)] == ["firing", "resolved"]


def test_flapping_interface_is_held_open_and_quiet(
        opds: AppContext, alert_settings: AlertSettings, webhook_sink: WebhookSink) -> None:
    rules = parse_rules({"rules": [{"name": "interface-down", "kind": "interface_down",
                                    "severity": "high", "flap_window_s": 600,
                                    "flap_threshold": 4}]})
    source = MemorySource()
    eng = engine(opds, rules, alert_settings, source)
    where = Where("acc-b", "opd-dinkes", "DINKES")
    for minute in range(12):
        source.interface_states = [InterfaceState("acc-b", "eth1", minute % 2 == 1, True, where)]
        eng.evaluate(T0 + timedelta(minutes=minute))
    found = alerts_of(opds)
    # down, up, down, up: the fourth change makes the key flap; the second alert stays open
    # through the remaining eight changes instead of firing and resolving four more times.
    assert [a.state for a in found] == ["firing", "resolved"]
    assert found[0].flapping and found[0].occurrences == 5
    fired_resolved = [("firing", "interface-down"), ("resolved", "interface-down")]
    assert webhook_sink.events() == [*fired_resolved, ("firing", "interface-down")]
    # up for a full flap window: the changes age out, flapping clears, the alert resolves
    source.interface_states = [InterfaceState("acc-b", "eth1", True, True, where)]
    for minute in range(12, 24):
        eng.evaluate(T0 + timedelta(minutes=minute))
    assert [a.state for a in alerts_of(opds)] == ["resolved", "resolved"]
    assert webhook_sink.events() == fired_resolved * 2
    with opds.db.session(write=False) as s:
        signal = s.scalar(select(AlertSignal))
        assert signal is not None and not signal.flapping


def test_opd_over_allocation_uses_inventory_quota(
        opds: AppContext, alert_settings: AlertSettings) -> None:
    with opds.db.session() as s:
        create_bandwidth_allocation(s, ACTOR, opd_id=require_opd(s, "DINKES").id, users=10,
                                    committed_mbps=50)
    rules = parse_rules({"rules": [{"name": "opd-over", "kind": "opd_bandwidth",
                                    "severity": "medium", "for_s": 120}]})
    source = MemorySource(opd=[OpdRate("DINKES", 62e6, "flows"), OpdRate("DISDIK", 900e6)])
    eng = engine(opds, rules, alert_settings, source)
    assert eng.evaluate(T0).fired == [] and eng.evaluate(T0 + timedelta(minutes=1)).fired == []
    [alert_id] = eng.evaluate(T0 + timedelta(minutes=2)).fired
    with opds.db.session(write=False) as s:
        alert = require_alert(s, alert_id)
        assert alert.title == "DINKES uses 62 Mbps of its 50 Mbps allocation (124%)"
        assert alert.opd is not None and alert.opd.code == "DINKES"
    # DISDIK has no allocation: not judged
    assert eng.last_report is not None and eng.last_report.observed == 1


def test_a_failing_rule_does_not_stop_the_others(
        opds: AppContext, alert_settings: AlertSettings) -> None:
    class Broken(MemorySource):
        def devices(self, session, now):  # type: ignore[no-untyped-def]
            raise RuntimeError("poller tables missing")

    rules = RuleSet((Rule("unreachable", "device_unreachable"), Rule("ifdown", "interface_down"),
                     Rule("mystery", "no_such_kind")))
    source = Broken(interface_states=[InterfaceState("core1", "eth1", False, True)])
    report = engine(opds, rules, alert_settings, source).evaluate(T0)
    assert report.errors == {"unreachable": "RuntimeError: poller tables missing",
                             "mystery": "no evaluator for kind 'no_such_kind'"}
    assert len(report.fired) == 1


def test_database_refuses_a_second_open_alert_per_key(opds: AppContext) -> None:
    def alert() -> Alert:
        return Alert(rule="r", kind="cpu", dedup_key="r|web", entity="web", severity="low",
                     title="web CPU", fired_at=T0, last_seen_at=T0)

    with opds.db.session() as s:
        s.add(alert())
    with pytest.raises(ConflictError), opds.db.session() as s:
        s.add(alert())
    with opds.db.session() as s:
        s.scalars(select(Alert)).one().state = "resolved"
        s.flush()
        s.add(alert())  # a new one after the old was resolved is fine
    with opds.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 2


def test_expensive_rules_run_at_most_every_s(opds: AppContext,
                                             alert_settings: AlertSettings) -> None:
    rules = parse_rules({"rules": [{"name": "ifdown", "kind": "interface_down",
                                    "every_s": 300}]})
    source = MemorySource(interface_states=[InterfaceState("core1", "eth1", True, True)])
    eng = engine(opds, rules, alert_settings, source)
    assert [eng.evaluate(T0 + timedelta(seconds=s)).observed for s in (0, 60, 299, 300)] == \
        [1, 0, 0, 1]


def test_maintenance_in_local_time_applies_at_the_right_instant(opds: AppContext) -> None:
    from collectors.alerts.service import list_maintenance

    with opds.db.session() as s:
        create_maintenance(s, ACTOR, scope="site", target="dc-diskominfo",
                           starts_at="2026-11-23T09:00+07:00", ends_at="2026-11-23T10:00+07:00")
    with opds.db.session(write=False) as s:
        # 09:30 WIB = 02:30 UTC is inside; 09:30 UTC (16:30 WIB) is not
        assert len(list_maintenance(s, active_at=T0 + timedelta(minutes=30))) == 1
        assert list_maintenance(s, active_at=T0 + timedelta(hours=7, minutes=30)) == []
