"""Rules files and the evaluators over in-memory series shaped like the collectors' queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.alerts.evaluators import EVALUATORS, EvalContext, Observation
from collectors.alerts.rules import DEFAULT_RULES, Channel, Rule, load_rules, parse_rules
from collectors.alerts.settings import load_alert_settings
from collectors.alerts.sources import (
    DeviceState,
    HostResources,
    InterfaceRate,
    InterfaceState,
    MemorySource,
    SeriesRef,
    Where,
)
from simpul.errors import ConfigError

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
KINDS = frozenset(EVALUATORS)


def observe(kind: str, source: MemorySource, **params: Any) -> list[Observation]:
    ctx = EvalContext(None, NOW, source, ZoneInfo("Asia/Jakarta"))  # type: ignore[arg-type]
    return EVALUATORS[kind](ctx, Rule(kind, kind, params=params))


def test_default_rules_cover_every_kind() -> None:
    ruleset = load_rules(None, KINDS)
    assert ruleset.source == str(DEFAULT_RULES)
    assert {r.kind for r in ruleset.rules} == KINDS
    util = ruleset.get("utilisation-high")
    assert util is not None and util.timing.for_s == 300 and util.param("threshold_pct", 0) == 80
    assert util.timing.flap_threshold == 5  # from [defaults]


@pytest.mark.parametrize(("text", "message"), [
    ('[[rules]]\nname="x"\nkind="nope"', "rule x: unknown kind 'nope'"),
    ('[[rules]]\nname="x"\nkind="cpu"\nseverity="urgent"', "rule x: severity must be one of"),
    ('[[rules]]\nname="x"\nkind="cpu"\n[[rules]]\nname="x"\nkind="cpu"', "used twice"),
    ('[[rules]]\nname="x"\nkind="cpu"\nfor_s=-1', "for_s must be a number >= 0"),
    ('[[notify]]\nkind="webhook"\nurl="ftp://x"', "a webhook needs an http(s) url"),
    ('[[notify]]\nkind="email"', "an email channel needs to"),
    ("[[rules]\n", "is not valid TOML"),
])
def test_bad_rules_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_rules(path, KINDS)
    assert message in str(err.value) and str(path) in str(err.value)


def test_channels_and_min_severity() -> None:
    ruleset = parse_rules({"notify": [
        {"kind": "email", "to": "noc@sidoarjokab.go.id", "min_severity": "high"},
        {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}]}, "t", KINDS)
    email, hook = ruleset.channels
    assert email.to == ("noc@sidoarjokab.go.id",)
    assert email.wants("critical") and email.wants("high") and not email.wants("medium")
    assert hook.wants("info") and Channel("webhook", min_severity="low").wants("medium")


def test_settings_from_environment() -> None:
    s = load_alert_settings({"SIMPUL_SMTP_HOST": "127.0.0.1", "SIMPUL_SMTP_PORT": "2525",
                             "SIMPUL_SMTP_PASSWORD": "s3cret",
                             "SIMPUL_ALERT_WEBHOOK_URLS": "http://127.0.0.1:1/a, http://127.0.0.1:2/b",
                             "SIMPUL_ALERT_INTERVAL": "10"})
    assert s.smtp.port == 2525 and s.interval_s == 10 and len(s.webhooks) == 2
    assert "s3cret" not in repr(s)
    with pytest.raises(ConfigError, match="SIMPUL_ALERT_WEBHOOK_URLS"):
        load_alert_settings({"SIMPUL_ALERT_WEBHOOK_URLS": "file:///etc/passwd"})


CORE = Where("core1", "dc-diskominfo", "DISKOMINFO")


def test_device_unreachable() -> None:
    src = MemorySource(device_states=[
        DeviceState("core1", True, CORE), DeviceState("acc-b", False, Where("acc-b"),
                                                      NOW - timedelta(minutes=3), "172.20.20.32")])
    obs = {o.entity: o for o in observe("device_unreachable", src)}
    assert not obs["core1"].breached and obs["acc-b"].breached
    assert obs["acc-b"].title == "acc-b is unreachable (last answer 2026-11-23 09:57)"


def test_interface_down_ignores_admin_down() -> None:
    src = MemorySource(interface_states=[
        InterfaceState("core1", "eth1", True, True, CORE),
        InterfaceState("core1", "eth2", False, True, CORE, alias="to dist-a"),
        InterfaceState("core1", "eth9", False, False, CORE)])
    obs = {o.entity: o for o in observe("interface_down", src)}
    assert set(obs) == {"core1:eth1", "core1:eth2"}
    assert obs["core1:eth2"].breached and obs["core1:eth2"].title == \
        "core1 eth2 (to dist-a) is down"
    assert obs["core1:eth2"].where == CORE


def test_utilisation_and_errors() -> None:
    src = MemorySource(rates=[
        InterfaceRate("core1", "eth1", 930e6, 12e6, 1e9, where=CORE),
        InterfaceRate("core1", "eth2", 10e6, 12e6, 1e9, in_errors_ps=0.5, in_discards_ps=2),
        InterfaceRate("core1", "lo", 1e3, 1e3, None)])
    util = {o.entity: o for o in observe("utilisation", src, threshold_pct=80)}
    assert set(util) == {"core1:eth1", "core1:eth2"}  # no speed: cannot judge
    assert util["core1:eth1"].breached and util["core1:eth1"].value == 93.0
    assert util["core1:eth1"].title == ("core1 eth1 at 93% of 1 Gbps (in 930 Mbps, out 12 Mbps; "
                                        "limit 80%)")
    errs = {o.entity: o for o in observe("interface_errors", src, max_per_s=1)}
    assert errs["core1:eth2"].breached and not errs["core1:eth1"].breached
    assert errs["core1:eth2"].value == 2.5


def test_cpu_memory_disk() -> None:
    src = MemorySource(resources=[
        HostResources("web", 97.0, 40.0, {"/": 50.0, "/var": 95.5}, Where("web", service="web")),
        HostResources("mail", None, 92.0, {})])
    cpu = observe("cpu", src, threshold_pct=90)
    assert [(o.entity, o.breached) for o in cpu] == [("web", True)]
    mem = {o.entity: o.breached for o in observe("memory", src, threshold_pct=90)}
    assert mem == {"web": False, "mail": True}
    disk = {o.entity: o for o in observe("disk", src, threshold_pct=90)}
    assert not disk["web:/"].breached and disk["web:/var"].breached
    assert disk["web:/var"].title == "web disk /var 96% full (limit 90%)"


def test_anomaly_evaluator_says_expected_and_seen() -> None:
    ref = SeriesRef("flow:opd:3", "DINKES flow volume", "bps", Where(opd="DINKES"))
    past = [(NOW - timedelta(weeks=w) + timedelta(minutes=m), 50e6)
            for w in range(1, 5) for m in range(0, 60, 5)]
    recent = [(NOW - timedelta(minutes=m), 400e6) for m in range(1, 10)]
    src = MemorySource(series_refs=[ref], points={"flow:opd:3": past + recent})
    [obs] = observe("anomaly", src, score=5, min_samples=3)
    assert obs.breached and obs.entity == "series:flow:opd:3"
    assert obs.title.startswith("Unusual traffic: DINKES flow volume, Mon 10:00-11:00: "
                                "seen 400 Mbps, expected about 50 Mbps")
    calm = MemorySource(series_refs=[ref], points={"flow:opd:3": [
        *past, (NOW - timedelta(minutes=2), 51e6)]})
    [obs] = observe("anomaly", calm, score=5, min_samples=3)
    assert not obs.breached
    thin = MemorySource(series_refs=[ref], points={"flow:opd:3": recent})
    assert observe("anomaly", thin) == []


def test_every_s_is_a_common_setting_not_a_parameter() -> None:
    rule = load_rules(None, KINDS).get("traffic-anomaly")
    assert rule is not None and rule.every_s == 300 and "every_s" not in rule.params
