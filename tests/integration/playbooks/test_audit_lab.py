"""``simpul audit`` on the lab, and the ``baseline`` playbook fixing what it finds.

A fresh lab fails the baseline (addresses-only start-up configs, v2c SNMP, SSH on 22);
after the baseline playbook the router's vtysh-side rules pass; the router is then put
back byte-for-byte as it was, for the other tests of the session.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playbooks.audit import run_audit
from playbooks.audit.policy import load_policy
from playbooks.audit.rules import FAIL, PASS
from simpul.context import AppContext
from tests.integration.lab.labhelpers import in_ns
from tests.integration.playbooks.conftest import PlaybookLab

pytestmark = pytest.mark.lab
NODE_FILES = "/run/simpul-lab/nodes/{name}"
# In the namespace lab each node's daemons read their configs from the state dir.
AUDIT_ENV = {
    "SIMPUL_DEVICE_SHELL_PORT": "2222",
    "SIMPUL_AUDIT_LINUX_SSHD": f"cat {NODE_FILES}/sshd_config",
    "SIMPUL_AUDIT_LINUX_SNMPD": f"cat {NODE_FILES}/snmpd.conf",
    "SIMPUL_AUDIT_LINUX_RSYSLOG": f"cat {NODE_FILES}/rsyslog.conf",
    "SIMPUL_AUDIT_LINUX_NTP": "true", "SIMPUL_AUDIT_LINUX_NFTABLES": "true",
    "SIMPUL_AUDIT_LINUX_BANNER": "true",
}


def statuses(report, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    device = next(d for d in report.devices if d.name == name)
    assert not device.error, device.error
    return {r.rule_id: r.status for r in device.results}


@pytest.fixture
def audit_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in AUDIT_ENV.items():
        monkeypatch.setenv(key, value)


def test_fresh_lab_fails_then_baseline_fixes_router(
        playbook_lab: PlaybookLab, audit_env: None, tmp_path: Path) -> None:
    from playbooks.runner import run_playbook

    app = AppContext(settings=playbook_lab.settings, db=playbook_lab.db)
    report, paths = run_audit(app, hosts="core1,web", out_dir=tmp_path / "before")
    core1, web = statuses(report, "core1"), statuses(report, "web")
    for rule in ("SB-PASSWORD-ENC", "SB-MGMT-ACL", "SB-IDLE-TIMEOUT", "SB-SSH-PORT",
                 "SB-SNMPV3", "SB-NTP", "SB-BANNER"):
        assert core1[rule] == FAIL, (rule, core1)
    assert core1["SB-SYSLOG"] == PASS and core1["SB-ROOT-LOGIN"] == PASS
    # The web server: sshd on 22 and v2c SNMP fail; rsyslog to the SIEM and
    # management-only ListenAddress pass.
    assert web["SB-SSH-PORT"] == FAIL and web["SB-SNMPV3"] == FAIL
    assert web["SB-SYSLOG"] == PASS and web["SB-MGMT-ACL"] == PASS
    data = json.loads(paths["json"].read_text())
    assert {d["name"] for d in data["devices"]} == {"core1", "web"}
    remediation = next(r["remediation"] for d in data["devices"] if d["name"] == "core1"
                       for r in d["rules"] if r["rule_id"] == "SB-IDLE-TIMEOUT")
    assert remediation == "line vty\n exec-timeout 5 0\nexit\n"
    assert "SB-MGMT-ACL" in paths["html"].read_text()

    before = playbook_lab.running("core1")
    try:
        result = run_playbook(playbook_lab.db, playbook_lab.settings, "baseline",
                              hosts="core1", verify_timeout=10)
        host = result.hosts["core1"]
        assert host.status == "changed" and host.verified, (host.error, host.verification)
        assert "+ service password-encryption" in host.diff
        after, _ = run_audit(app, hosts="core1", out_dir=tmp_path / "after")
        fixed = statuses(after, "core1")
        for rule in ("SB-PASSWORD-ENC", "SB-MGMT-ACL", "SB-IDLE-TIMEOUT"):
            assert fixed[rule] == PASS, (rule, fixed)
        # Running it again changes nothing.
        again = run_playbook(playbook_lab.db, playbook_lab.settings, "baseline",
                             hosts="core1", verify_timeout=10)
        assert again.hosts["core1"].status == "ok", again.hosts["core1"].diff
    finally:
        undo = in_ns("core1", "vtysh", "-N", "core1", "-c", "configure terminal",
                     "-c", "no service password-encryption", "-c", "line vty",
                     "-c", "exec-timeout 10 0", "-c", "no access-class SIMPUL-MGMT", "-c", "exit",
                     "-c", "no access-list SIMPUL-MGMT")
        assert undo.returncode == 0, undo.stdout + undo.stderr
    assert playbook_lab.running("core1") == before
    assert load_policy().ssh_port != 22


def test_audit_cli_exit_status_and_files(playbook_lab: PlaybookLab, tmp_path: Path) -> None:
    proc = playbook_lab.simpul("audit", "--hosts", "core2", "--out", str(tmp_path), "--json",
                               check=False)
    assert proc.returncode == 1, proc.stderr  # a fresh router fails the baseline
    out = json.loads(proc.stdout)
    assert out["summary"]["devices"] == 1 and out["summary"]["failed"] == 1
    assert Path(out["files"]["html"]).exists() and Path(out["files"]["json"]).exists()
