"""Sigma and correlation rules on events normalised from real log lines."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from siem.detect.correlation import build_rule, load_correlation_dir
from siem.detect.engine import Detector
from siem.detect.sigma_rules import load_sigma_dir
from tests.unit.siem.helpers import event_of

SSH_FAIL = ("<38>Nov 23 10:15:{s:02d} web1 sshd[811]: Failed password for {u} from "
            "203.0.113.9 port 4{s:04d} ssh2")
SSH_OK = ("<38>Nov 23 10:16:00 web1 sshd[811]: Accepted password for alice from 203.0.113.9 "
          "port 40000 ssh2")


def detector() -> Detector:
    return Detector.from_dirs()


def test_shipped_rules_all_load() -> None:
    det = detector()
    assert det.problems == []
    assert len(det.sigma) >= 20 and len(det.correlation) >= 10
    techniques = {r.technique for r in det.rules() if r.technique}
    assert {"T1110.001", "T1078", "T1046"} <= techniques


def test_ssh_brute_force_then_success_raises_both_rules() -> None:
    det = detector()
    events = [event_of(SSH_FAIL.format(s=i, u="alice")) for i in range(6)]
    events.append(event_of(SSH_OK))
    alerts = det.process(events)
    ids = [a.rule_id for a in alerts]
    assert ids.count("corr:ssh-brute-force") == 1
    assert "corr:ssh-compromise" in ids
    brute = next(a for a in alerts if a.rule_id == "corr:ssh-brute-force")
    assert brute.entity == "source.ip=203.0.113.9" and brute.technique == "T1110.001"
    assert len(brute.event_ids) == 5
    assert det.hits["corr:ssh-brute-force"] == 1


def test_sigma_root_login_and_invalid_user() -> None:
    det = detector()
    alerts = det.process([
        event_of(SSH_FAIL.format(s=1, u="root")),
        event_of("<38>Nov 23 10:15:01 web1 sshd[9]: Invalid user oracle from 198.51.100.7 port 5"),
    ])
    titles = {a.title for a in alerts}
    assert "SSH login as root failed" in titles
    assert "SSH login with an unknown (invalid) user" in titles


def test_disabled_rule_does_not_fire() -> None:
    det = detector()
    det.set_disabled({"sigma:6f7d2a5e-2d41-4c1e-9a0b-1d8a8b6b1002"})
    alerts = det.process([event_of(SSH_FAIL.format(s=1, u="root"))])
    assert "SSH login as root failed" not in {a.title for a in alerts}


def test_web_attack_and_cisco_config_change() -> None:
    det = detector()
    web = event_of('<190>Nov 23 10:15:30 www nginx: 198.51.100.4 - - [23/Nov/2024:10:15:30 '
                   '+0700] "GET /index.php?id=1%27%20UNION%20SELECT%20password%20FROM%20users '
                   'HTTP/1.1" 200 512 "-" "sqlmap/1.7"')
    ios = event_of("<189>123: *Nov 23 10:15:30: %SYS-5-CONFIG_I: Configured from console "
                   "by admin on vty0 (10.0.0.9)", peer="10.0.0.1")
    titles = {a.title for a in det.process([web, ios])}
    assert "Web SQL injection attempt" in titles
    assert "Web vulnerability scanner user agent" in titles
    assert "Cisco IOS configuration changed" in titles
    # no work order lookup and no maintenance window at this time: flagged
    assert "Configuration change outside a work order or maintenance window" in titles


def test_change_window_honours_approved_work_order() -> None:
    seen: list[str] = []

    def lookup(device: str, _when: datetime) -> bool:
        seen.append(device)
        return True

    det = Detector.from_dirs(change_lookup=lookup)
    ios = event_of("<189>123: *Nov 23 10:15:30: %SYS-5-CONFIG_I: Configured from console "
                   "by admin on vty0 (10.0.0.9)", peer="10.0.0.1")
    titles = {a.title for a in det.process([ios])}
    assert "Configuration change outside a work order or maintenance window" not in titles
    assert seen


def test_unsupported_sigma_is_reported(tmp_path: Path) -> None:
    (tmp_path / "win.yml").write_text(textwrap.dedent("""
        title: Windows thing
        logsource: {product: windows, service: security}
        detection: {sel: {EventID: 4625}, condition: sel}
        """))
    (tmp_path / "b64.yml").write_text(textwrap.dedent("""
        title: Encoded
        logsource: {product: linux, service: sshd}
        detection: {sel: {Message|base64: evil}, condition: sel}
        """))
    rules, problems = load_sigma_dir([tmp_path])
    assert rules == []
    reasons = " ".join(p.reason for p in problems)
    assert "not one simpul receives" in reasons and "modifier 'base64'" in reasons


def test_spread_detects_port_scan() -> None:
    rule = build_rule({"id": "scan", "type": "spread", "match": "event.action:firewall_deny",
                       "group_by": ["source.ip"], "distinct": "destination.port", "count": 5,
                       "window": "1m"}, "test")
    base = datetime(2024, 11, 23, tzinfo=UTC)
    hits = [rule.process({"event.action": "firewall_deny", "source.ip": "192.0.2.7",
                          "destination.port": p, "@timestamp": base + timedelta(seconds=p),
                          "event.id": str(p)}, None) for p in range(1, 6)]
    assert [h is not None for h in hits] == [False] * 4 + [True]


def test_threshold_window_expires_and_state_is_bounded() -> None:
    rule = build_rule({"id": "t", "type": "threshold", "match": "event.outcome:failure",
                       "group_by": ["source.ip"], "count": 3, "window": "1m",
                       "max_groups": 10}, "test")
    base = datetime(2024, 11, 23, tzinfo=UTC)
    for i in range(3):  # 3 failures spread over 3 minutes: never 3 within one
        assert rule.process({"event.outcome": "failure", "source.ip": "1.1.1.1",
                             "@timestamp": base + timedelta(minutes=i)}, None) is None
    for i in range(100):
        rule.process({"event.outcome": "failure", "source.ip": f"10.0.0.{i}",
                      "@timestamp": base}, None)
    assert len(rule.state) == 10


def test_state_survives_dump_and_load() -> None:
    spec = {"id": "t", "type": "threshold", "match": "event.outcome:failure",
            "group_by": ["source.ip"], "count": 3, "window": "1h"}
    rule = build_rule(spec, "test")
    now = datetime.now(UTC)
    for i in range(2):
        rule.process({"event.outcome": "failure", "source.ip": "1.1.1.1", "@timestamp": now,
                      "event.id": str(i)}, None)
    saved = rule.dump_state()
    again = build_rule(spec, "test")
    again.load_state(saved, now.timestamp())
    alert = again.process({"event.outcome": "failure", "source.ip": "1.1.1.1",
                           "@timestamp": now, "event.id": "2"}, None)
    assert alert is not None and alert.event_ids == ["0", "1", "2"]


def test_absence_fires_once_for_a_silent_device() -> None:
    rule = build_rule({"id": "quiet", "type": "absence", "window": "10m",
                       "kind": "infrastructure"}, "test")
    t0 = datetime(2024, 11, 23, tzinfo=UTC)
    rule.seen({"host.ip": "10.0.0.1", "host.name": "sw1", "@timestamp": t0})
    assert rule.silent(t0.timestamp() + 60, None) == []
    alerts = rule.silent(t0.timestamp() + 700, None)
    assert len(alerts) == 1 and alerts[0].damage_class == "interruption"
    assert rule.silent(t0.timestamp() + 800, None) == []


def test_bad_correlation_rules_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("rules:\n  - {id: x, type: threshold, match: 'a:(', "
                                      "group_by: [a]}\n  - {id: y, type: nope}\n")
    rules, problems = load_correlation_dir([tmp_path])
    assert rules == [] and len(problems) == 2


def test_frr_file_lines_and_vtysh_commands() -> None:
    """FRR logging to a file that rsyslog forwards (the lab's setup), with log commands."""
    adj = event_of("<30>Nov 23 14:06:47 dist-a frr: 2026/11/23 14:06:47 OSPF: [HZN6M-XRM1G] "
                   "AdjChg: Nbr 10.0.0.1(default) on eth1:10.255.0.3: Full -> Deleted "
                   "(InactivityTimer)")
    assert adj["event.action"] == "ospf_neighbor_down" and adj["frr.daemon"] == "ospf"
    frr10 = event_of("<30>Nov 23 14:17:34 dist-a frr: 2026/11/23 14:17:34 OSPF: [Y05P2-YJVXY] "
                     "AdjChg: Nbr 10.0.0.1, NbrIP 10.255.0.2 (default) on eth1:10.255.0.3: "
                     "Full -> Deleted (KillNbr)")
    assert frr10["event.action"] == "ospf_neighbor_down"
    assert frr10["ospf.neighbor.ip"] == "10.255.0.2"
    assert frr10["observer.ingress.interface.name"] == "eth1"
    cmds = [event_of(f"<30>Nov 23 14:06:47 core1 frr: 2026/11/23 14:06:47 {d}: "
                     "[M7Q4P-46WDR] vty[49]@(config-if)# description x") for d in
            ("ZEBRA", "OSPF", "BGP")]
    assert {c["event.action"] for c in cmds} == {"config_change"}
    assert cmds[0]["frr.command"] == "description x"
    alerts = detector().process([adj, *cmds])
    ids = [a.rule_id for a in alerts]
    assert ids.count("corr:config-change-unapproved") == 1  # one command, three daemons
    assert "sigma:6f7d2a5e-2d41-4c1e-9a0b-1d8a8b6b1053" in ids  # OSPF neighbour lost


def test_radius_reject_and_nac_reject_storm() -> None:
    from siem.parsers import format_simpul_syslog

    det = detector()
    radius = event_of("<38>Nov 23 10:15:30 radius radiusd[55]: (12) Login incorrect (mschap: "
                      "MS-CHAP2-Response is incorrect): [budi] (from client nas1 port 3 cli "
                      "aa-bb-cc-dd-ee-01)")
    assert radius["event.outcome"] == "failure"
    assert "RADIUS access rejected" in {a.title for a in det.process([radius])}
    storm = [event_of(format_simpul_syslog("nac", {
        "decision": "reject", "mac": f"02:00:00:00:00:{i:02x}", "nas_ip": "10.50.0.2",
        "nas_port": "Gi1/0/3", "reason": "unknown device"}).decode()) for i in range(20)]
    alerts = [a for a in det.process(storm) if a.rule_id == "corr:nac-reject-storm"]
    assert len(alerts) == 1 and alerts[0].entity == "observer.ip=10.50.0.2"
    assert alerts[0].technique == "T1200"


GATED_SIGMA = """title: Gate on a list of users
id: 7a000000-0000-4000-8000-000000000001
logsource: {product: linux, service: sshd}
detection:
  sel:
    User: [Root, admin]
    Message|contains: password
  condition: sel
level: low
---
title: Action or message (no gate)
id: 7a000000-0000-4000-8000-000000000002
logsource: {product: linux, service: sshd}
detection:
  a: {Action: ssh_login}
  b: {Message|contains: 'Invalid user'}
  condition: a or b
level: low
---
title: Cased user
id: 7a000000-0000-4000-8000-000000000003
logsource: {product: linux, service: sshd}
detection:
  sel: {User|cased: alice}
  condition: sel
level: low
---
title: A list field (tags)
id: 7a000000-0000-4000-8000-000000000004
logsource: {product: linux}
detection:
  sel: {tags: unparsed}
  filter: {Action: ssh_login}
  condition: sel and not filter
level: low
---
title: Port number
id: 7a000000-0000-4000-8000-000000000005
logsource: {product: linux, service: sshd}
detection:
  sel: {SourcePort: 40001}
  condition: sel
level: low
"""

GATE_LINES = [
    *(SSH_FAIL.format(s=i, u=u) for i, u in enumerate(["root", "ROOT", "admin", "alice",
                                                         "Alice", "bob"])),
    SSH_OK,
    "<38>Nov 23 10:15:01 web1 sshd[811]: Invalid user test from 198.51.100.7 port 4",
    "<38>Nov 23 10:15:01 web1 sshd[811]: Connection closed by 198.51.100.7 port 4",
    "<13>Nov 23 10:15:01 web1 custom: nobody parses this",
    "<189>12: *Nov 23 10:15:01: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
    "<4>Nov 23 10:15:01 fw1 kernel: nft-drop IN=eth0 OUT= SRC=198.51.100.9 "
    "DST=10.10.1.2 LEN=60 PROTO=TCP SPT=4000 DPT=22 SYN",
    "<30>1 2024-11-23T10:15:01Z core1 ospfd 99 - - AdjChg: Nbr 10.0.0.2 on eth1:10.255.0.1: "
    "Full -> Deleted (InactivityTimer)",
    "<38>Nov 23 10:15:01 radius radiusd[55]: (12) Login incorrect: [bob] (from client nas1 "
    "port 1 cli aa-bb-cc-dd-ee-ff)",
]


def test_rule_indexes_skip_only_rules_that_cannot_match(tmp_path: Path) -> None:
    """Gates are necessary conditions: a rule left out for an event never matches it."""
    (tmp_path / "sigma").mkdir()
    (tmp_path / "sigma" / "gated.yml").write_text(GATED_SIGMA)
    det = Detector.from_dirs([tmp_path])
    assert det.problems == []
    by_title = {r.title: r for r in det.sigma}
    assert by_title["Gate on a list of users"].gate == ("user.name",
                                                         frozenset({"root", "admin"}))
    assert by_title["Action or message (no gate)"].gate is None
    corr_order = det.correlation_candidates({})  # the ungated ones
    skipped_some = False
    for line in GATE_LINES:
        event = event_of(line)
        tried = det.sigma_candidates(event)
        module = event.get("event.module")
        # the order every rule would be tried in: the module's own, then generic ones
        full = [r for r in det.sigma if r.modules is not None and module in r.modules]
        full += [r for r in det.sigma if r.modules is None]
        assert tried == [r for r in full if r in tried]
        for rule in det.sigma:
            if rule not in tried:
                skipped_some = True
                module = event.get("event.module")
                if rule.modules is None or module in rule.modules:
                    assert not rule.predicate(event), (rule.title, line)
        fed = det.correlation_candidates(event)
        assert set(map(id, corr_order)) <= set(map(id, fed))
        for crule in det.correlation:
            if crule not in fed and crule.type != "absence":
                assert not crule.match(event), (crule.rule_id, line)
                assert crule.then is None or not crule.then(event), (crule.rule_id, line)
    assert skipped_some
    # the rules that can match still fire: user list (any case), cased user, list field
    alerts = {a.title for a in det.process([event_of(line) for line in GATE_LINES])}
    assert {"Gate on a list of users", "Cased user", "A list field (tags)",
            "Action or message (no gate)", "Port number"} <= alerts
