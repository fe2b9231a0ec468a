"""Ansible playbooks through ansible-runner on the lab's Linux servers (bash over SSH).

The hardening writes into a scratch directory of the lab user (``simpul_etc``), without
root and without reloading the lab's own daemons, which other tests rely on.
"""

from __future__ import annotations

import pytest

from playbooks.ansible_runner import run_ansible
from tests.integration.playbooks.conftest import PlaybookLab

pytestmark = pytest.mark.lab
SERVERS = "web,mail,proxy"
SCRATCH = {"simpul_etc": "/var/lib/simpul-lab/simpul-ansible-test", "simpul_become": False,
           "simpul_reload": False}


def test_server_baseline_check_then_apply_then_idempotent(playbook_lab: PlaybookLab) -> None:
    seen: list[tuple[str, str]] = []
    check = run_ansible(playbook_lab.db, "server-baseline", hosts=SERVERS, check=True,
                        extravars=SCRATCH, on_event=lambda h, m: seen.append((h, m)))
    assert {h: r.status for h, r in check.hosts.items()} == {
        "mail": "changed", "proxy": "changed", "web": "changed"}, \
        {h: r.error for h, r in check.hosts.items()}
    assert check.dry_run and ("web", "Login banner: changed") in seen

    applied = run_ansible(playbook_lab.db, "server-baseline", hosts=SERVERS, extravars=SCRATCH)
    assert {r.status for r in applied.hosts.values()} == {"changed"}
    again = run_ansible(playbook_lab.db, "server-baseline", hosts=SERVERS, extravars=SCRATCH)
    assert {r.status for r in again.hosts.values()} == {"ok"}, \
        {h: r.error for h, r in again.hosts.items()}


def test_patch_status_and_unreachable(playbook_lab: PlaybookLab) -> None:
    result = run_ansible(playbook_lab.db, "patch-status", hosts="web,proxy")
    assert {h: r.status for h, r in result.hosts.items()} == {"proxy": "ok", "web": "ok"}
    assert result.hosts["web"].diffs["report"].endswith("security\n")
    # Port 22 of a router is vtysh, not a shell: Ansible fails there, reported per host.
    bad = run_ansible(playbook_lab.db, "patch-status", hosts="core1,web")
    assert bad.failed and bad.hosts["core1"].status == "failed" and bad.hosts["core1"].error
    assert bad.hosts["web"].status == "ok"
