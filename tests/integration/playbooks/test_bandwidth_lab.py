"""The ``bandwidth`` playbook on the lab: an OPD's allocation becomes a tc shaper on its
access node's LAN bridge, and iperf3 towards an OPD host shows the limit."""

from __future__ import annotations

import json

import pytest

from inventory.ipam.utilisation import create_bandwidth_allocation, delete_bandwidth_allocation
from simpul.audit import Actor
from simpul.models import Opd
from tests.integration.lab.labhelpers import in_ns, lab_cli
from tests.integration.playbooks.conftest import PlaybookLab

pytestmark = pytest.mark.lab
RATE_MBPS = 20


def received_mbps(pl: PlaybookLab) -> float:
    out = lab_cli("traffic", "acc-a", "ha1", "--seconds", "2", "--json", env=pl.lab.env)
    return json.loads(out.stdout)["received_bps"] / 1e6


def test_allocation_limits_the_opd(playbook_lab: PlaybookLab,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from playbooks.runner import run_playbook

    monkeypatch.setenv("SIMPUL_DEVICE_SHELL_PORT", "2222")
    monkeypatch.setenv("SIMPUL_BANDWIDTH_TC_DIR", "/var/lib/simpul-lab/simpul-tc")
    before = received_mbps(playbook_lab)
    assert before > 5 * RATE_MBPS, before
    with playbook_lab.db.session() as s:
        opd = s.query(Opd).filter_by(code="DISDIK").one()
        alloc_id = create_bandwidth_allocation(s, Actor.system("test"), opd_id=opd.id,
                                               users=4, committed_mbps=RATE_MBPS).id
    try:
        result = run_playbook(playbook_lab.db, playbook_lab.settings, "bandwidth",
                              hosts="acc-a", verify_timeout=10)
        host = result.hosts["acc-a"]
        assert host.status == "changed" and host.verified, (host.error, host.verification)
        assert "tbf rate 20mbit" in host.diff
        limited = received_mbps(playbook_lab)
        assert limited < RATE_MBPS * 1.1, limited
        again = run_playbook(playbook_lab.db, playbook_lab.settings, "bandwidth",
                             hosts="acc-a", verify_timeout=10)
        assert again.hosts["acc-a"].status == "ok"
    finally:
        in_ns("acc-a", "tc", "qdisc", "del", "dev", "br0", "root")
        with playbook_lab.db.session() as s:
            delete_bandwidth_allocation(s, Actor.system("test"), alloc_id)
    assert received_mbps(playbook_lab) > 5 * RATE_MBPS
