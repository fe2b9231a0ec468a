"""Audit rules on real-looking configs: the lab's start-up configs fail, fixes pass, reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from playbooks.audit import AuditReport, audit_device, write_report
from playbooks.audit.collect import Evidence, bundle_command
from playbooks.audit.parse import BUNDLE_MARK
from playbooks.audit.rules import FAIL, NA, NOT_CHECKED, PASS, check_config
from tests.unit.playbooks.test_baseline import POLICY

# What a lab FRR router shows right after `simpul lab up` (addresses only).
FRR_FRESH = """!
frr version 8.4.4
frr defaults traditional
hostname core1
log file /run/simpul-lab/nodes/core1/frr.log informational
service integrated-vtysh-config
!
interface lo
 ip address 10.0.0.1/32
exit
!
end
"""

# The lab's web server: its own sshd/snmpd/rsyslog configs, v2c community, no NTP.
LAB_WEB = f"""{BUNDLE_MARK}sshd
ListenAddress 198.51.100.51:22
PermitRootLogin no
PasswordAuthentication yes
{BUNDLE_MARK}snmpd
agentAddress udp:198.51.100.51:161
rocommunity simpul-lab default
createUser simpul SHA "x" AES "y"
rouser simpul priv
{BUNDLE_MARK}rsyslog
*.* action(type="omfwd" target="198.51.100.10" port="5514" protocol="udp")
{BUNDLE_MARK}ntp
{BUNDLE_MARK}nftables
{BUNDLE_MARK}banner
{BUNDLE_MARK}listening
tcp   LISTEN 0      511    198.51.100.51:80    0.0.0.0:*
tcp   LISTEN 0      128    198.51.100.51:22    0.0.0.0:*
tcp   LISTEN 0      128    198.51.100.51:23    0.0.0.0:*
udp   UNCONN 0      0      198.51.100.51:161   0.0.0.0:*
udp   UNCONN 0      0          127.0.0.1:514   0.0.0.0:*
"""

IOS_WEAK = """hostname r1
ip http server
snmp-server community public RO
logging host 203.0.113.9
ip access-list standard VTY
 permit 192.0.2.0 0.0.0.255
 permit any
line vty 0 4
 access-class VTY in
 exec-timeout 0 0
 transport input telnet ssh
end
"""


def statuses(results: list) -> dict[str, str]:
    return {r.rule_id: r.status for r in results}


def test_fresh_lab_router_fails_vtysh_rules() -> None:
    results = check_config("frr", {"frr": FRR_FRESH}, POLICY, name="core1")
    assert statuses(results) == {
        "SB-SERVICES": NOT_CHECKED, "SB-SSH-PORT": NOT_CHECKED, "SB-MGMT-ACL": FAIL,
        "SB-SNMPV3": NOT_CHECKED, "SB-SYSLOG": NOT_CHECKED, "SB-NTP": NOT_CHECKED,
        "SB-BANNER": NOT_CHECKED, "SB-PASSWORD-ENC": FAIL, "SB-IDLE-TIMEOUT": FAIL,
        "SB-ROOT-LOGIN": NOT_CHECKED}
    detail = {r.rule_id: r.detail for r in results}
    assert detail["SB-IDLE-TIMEOUT"] == "vty idle timeout 10 min (default) exceeds 5 min"
    assert detail["SB-SSH-PORT"] == "linux layer not collected"


def test_lab_server_findings() -> None:
    results = check_config("linux", {"linux": LAB_WEB}, POLICY, name="web")
    by_id = {r.rule_id: r for r in results}
    assert statuses(results) == {
        "SB-SERVICES": FAIL, "SB-SSH-PORT": FAIL, "SB-MGMT-ACL": FAIL, "SB-SNMPV3": FAIL,
        "SB-SYSLOG": PASS, "SB-NTP": FAIL, "SB-BANNER": FAIL, "SB-PASSWORD-ENC": NA,
        "SB-IDLE-TIMEOUT": FAIL, "SB-ROOT-LOGIN": PASS}
    assert by_id["SB-SERVICES"].detail == "unneeded listening ports: tcp/23"
    assert by_id["SB-SNMPV3"].detail == "snmpd has v1/v2c communities (rocommunity)"


def test_sshd_listening_only_on_management_passes_acl() -> None:
    bundle = LAB_WEB.replace("198.51.100.51:22", "192.0.2.51:22")
    results = check_config("linux", {"linux": bundle}, POLICY, name="web")
    assert statuses(results)["SB-MGMT-ACL"] == PASS


def test_weak_ios_config_fails_with_remediation() -> None:
    audit = audit_device(Evidence("r1", "ios", {"ios": IOS_WEAK}), POLICY, role="core")
    by_id = {r.rule_id: r for r in audit.results}
    assert not audit.passed and audit.score == "0/9"
    assert by_id["SB-SERVICES"].detail == "enabled: ip http server, telnet on vty lines"
    assert by_id["SB-MGMT-ACL"].detail == \
        "access list VTY permits 0.0.0.0/0 outside the management subnet"
    assert by_id["SB-IDLE-TIMEOUT"].detail == "vty sessions never time out (exec-timeout 0)"
    assert by_id["SB-SYSLOG"].detail == "no 'logging host 198.51.100.10'"
    assert by_id["SB-NTP"].remediation == "ntp server 198.51.100.123\nntp server 198.51.100.124\n"
    assert "no ip http server" in by_id["SB-SERVICES"].remediation
    assert "<set SIMPUL_BASELINE_SNMP_AUTH>" in by_id["SB-SNMPV3"].remediation
    assert "authkey-test" not in json.dumps(audit.as_dict())


def test_fixed_ios_config_passes() -> None:
    from playbooks.baseline import render_baseline

    fixed = IOS_WEAK.replace("ip http server\n", "").replace(" permit any\n", "") \
        .replace("snmp-server community public RO\n", "") \
        .replace("exec-timeout 0 0", "exec-timeout 5 0").replace("telnet ssh", "ssh") \
        .replace("hostname r1\n", "hostname r1\nip ssh port 2022 rotary 1\n")
    audit = audit_device(Evidence("r1", "ios", {"ios": fixed + render_baseline(
        "ios", POLICY, only=["SB-SNMPV3", "SB-SYSLOG", "SB-NTP", "SB-BANNER",
                             "SB-PASSWORD-ENC"])}), POLICY)
    assert audit.passed, audit.failures


def test_unreachable_device_is_an_error() -> None:
    audit = audit_device(Evidence("r9", "frr", errors=["running config: timeout"]), POLICY)
    assert audit.error == "running config: timeout" and not audit.passed and not audit.results


def test_report_files(tmp_path: Path) -> None:
    report = AuditReport(datetime(2026, 11, 23, 3, 0, tzinfo=UTC), POLICY, [
        audit_device(Evidence("r1", "ios", {"ios": IOS_WEAK}), POLICY, role="core",
                     site="dc", opd="DISKOMINFO"),
        audit_device(Evidence("<x>", "frr", errors=["timeout"]), POLICY)])
    paths = write_report(report, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert data["summary"]["devices"] == 2 and data["summary"]["failed"] == 1
    assert data["summary"]["errors"] == 1 and data["summary"]["by_rule"]["SB-NTP"] == 1
    assert data["devices"][0]["rules"][0]["rule_id"] == "SB-SERVICES"
    html = paths["html"].read_text()
    assert "&lt;x&gt;" in html and "<x>" not in html  # escaped
    assert "ntp server 198.51.100.123" in html and "authkey-test" not in html


def test_bundle_command_overrides() -> None:
    command = bundle_command("web", {"SIMPUL_AUDIT_LINUX_SSHD": "cat /run/n/{name}/sshd_config"})
    assert f"echo '{BUNDLE_MARK}sshd'; (cat /run/n/web/sshd_config) 2>/dev/null" in command
    assert "(ss -Htuln) 2>/dev/null" in command
    assert bundle_command("a b; rm", {"SIMPUL_AUDIT_LINUX_SSHD": "cat {name}"}).count(
        "'a b; rm'") == 1
