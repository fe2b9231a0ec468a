"""Baseline playbook: rendered per platform, compared with golden files, audited clean."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playbooks import baseline
from playbooks.audit.parse import BUNDLE_MARK
from playbooks.audit.policy import BaselinePolicy, Port, load_policy, parse_service_ports
from playbooks.audit.rules import FAIL, NA, PASS, check_config
from simpul.errors import ConfigError

GOLDEN = Path(baseline.__file__).resolve().parent / "golden" / "baseline"
UPDATE = os.environ.get("SIMPUL_UPDATE_GOLDEN") == "1"
POLICY = BaselinePolicy(
    ssh_port=2022, mgmt_subnets=("192.0.2.0/24",), syslog_host="198.51.100.10",
    syslog_port=514, ntp_servers=("198.51.100.123", "198.51.100.124"), snmp_user="noc",
    snmp_auth="authkey-test", snmp_priv="privkey-test", idle_minutes=5,
    banner="Authorised access only.",
    service_ports={"web": (Port("tcp", 80), Port("tcp", 443))})
LAYERS = ("frr", "linux", "ios", "eos", "junos", "ros")
SECTION_OF_FILE = {"sshd_config.d": "sshd", "snmpd.conf.d": "snmpd", "rsyslog.d": "rsyslog",
                   "chrony": "ntp", "nftables.d": "nftables", "issue.net": "banner"}


def linux_bundle(candidate: str, listening: str) -> str:
    """Turn a rendered Linux candidate into the evidence bundle the audit collects."""
    sections: dict[str, list[str]] = {"listening": [listening]}
    current: list[str] | None = None
    for line in candidate.splitlines():
        if line.startswith("### file "):
            path = line.split()[2]
            name = next(s for key, s in SECTION_OF_FILE.items() if key in path)
            current = sections.setdefault(name, [])
        elif line.startswith("### "):
            current = None
        elif current is not None:
            current.append(line)
    return "".join(f"{BUNDLE_MARK}{name}\n" + "\n".join(body) + "\n"
                   for name, body in sections.items())


@pytest.mark.parametrize("layer", LAYERS)
def test_golden(layer: str) -> None:
    text = baseline.render_baseline(layer, POLICY, name="web", role="server")
    path = GOLDEN / f"{layer}.cfg"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("layer", ("ios", "eos", "junos", "ros", "frr"))
def test_rendered_baseline_passes_its_own_audit(layer: str) -> None:
    text = baseline.render_baseline(layer, POLICY, name="r1")
    results = check_config(layer, {layer: text} if layer != "frr" else {"frr": text}, POLICY)
    checked = {r.rule_id: r.status for r in results if r.layer == layer}
    assert checked and set(checked.values()) == {PASS}, [r for r in results if r.status == FAIL]


def test_linux_baseline_passes_its_own_audit() -> None:
    text = baseline.render_baseline("linux", POLICY, name="web")
    listening = ("tcp LISTEN 0 128 0.0.0.0:2022 0.0.0.0:*\n"
                 "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:*\n"
                 "tcp LISTEN 0 100 127.0.0.1:25 0.0.0.0:*\n"
                 "udp UNCONN 0 0 0.0.0.0:161 0.0.0.0:*")
    results = check_config("linux", {"linux": linux_bundle(text, listening)}, POLICY, name="web")
    assert {r.rule_id: r.status for r in results} == {
        "SB-SERVICES": PASS, "SB-SSH-PORT": PASS, "SB-MGMT-ACL": PASS, "SB-SNMPV3": PASS,
        "SB-SYSLOG": PASS, "SB-NTP": PASS, "SB-BANNER": PASS, "SB-PASSWORD-ENC": NA,
        "SB-IDLE-TIMEOUT": PASS, "SB-ROOT-LOGIN": PASS}


def test_only_one_rule() -> None:
    text = baseline.render_baseline("ios", POLICY, only=["SB-NTP"])
    assert text == "ntp server 198.51.100.123\nntp server 198.51.100.124\n"
    assert baseline.render_baseline("frr", POLICY, only=["SB-SNMPV3"]) == ""


def test_secrets_stay_out_of_remediation() -> None:
    text = baseline.render_baseline("ios", POLICY.without_secrets(), only=["SB-SNMPV3"])
    assert "authkey-test" not in text and "<set SIMPUL_BASELINE_SNMP_AUTH>" in text


def test_layers_and_select(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIMPUL_BASELINE_ROUTER_LINUX", raising=False)
    assert baseline.layers_for("frr") == ["frr"]
    assert baseline.layers_for("routeros") == ["ros"]
    assert baseline.layers_for("vyos") == []
    monkeypatch.setenv("SIMPUL_BASELINE_ROUTER_LINUX", "on")
    assert baseline.layers_for("frr") == ["frr", "linux"]


def test_policy_from_env() -> None:
    policy = load_policy({"SIMPUL_BASELINE_SSH_PORT": "2200",
                          "SIMPUL_BASELINE_MGMT_SUBNETS": "192.0.2.0/24, 2001:db8::/64",
                          "SIMPUL_BASELINE_SERVICE_PORTS": "web=tcp/80"})
    assert policy.ssh_port == 2200 and policy.mgmt_subnets == ("192.0.2.0/24", "2001:db8::/64")
    assert policy.in_mgmt("192.0.2.7") and not policy.in_mgmt("198.51.100.1")
    assert policy.ports_for("web") == (Port("tcp", 80),)
    with pytest.raises(ConfigError, match="non-standard"):
        load_policy({"SIMPUL_BASELINE_SSH_PORT": "22"})
    with pytest.raises(ConfigError, match="not a prefix"):
        load_policy({"SIMPUL_BASELINE_MGMT_SUBNETS": "mgmt"})
    with pytest.raises(ConfigError, match="bad port"):
        parse_service_ports("web=http")
