"""The backbone playbook on the lab: from addresses-only routers to a converged network.

One ordered story on the session lab: the routers are reset to addresses only; a
dry-run shows every router's diff and changes nothing; the apply brings full OSPF
adjacency, BGP to the ISP and end-to-end reachability (every OPD host pings every DC
server); a re-run through the CLI changes nothing.
"""

from __future__ import annotations

import json

import pytest

from playbooks.runner import run_playbook
from tests.integration.lab.labhelpers import wait_until
from tests.integration.lab.labrouting import reachability
from tests.integration.playbooks.conftest import (
    BACKBONE_ROUTERS,
    PlaybookLab,
    events,
    reset_routing,
)

pytestmark = pytest.mark.lab

# OSPF interfaces (not passive) per router: a Full neighbour expected on each.
ACTIVE = {"core1": 7, "core2": 7, "dist-a": 3, "dist-b": 4, "dist-c": 3, "dist-d": 3,
          "dc-sw": 2, "edge": 2, "acc-a": 1, "acc-b": 1, "acc-c": 1, "acc-d": 1, "nac-sw": 1}


@pytest.fixture(scope="module")
def fresh(playbook_lab: PlaybookLab) -> PlaybookLab:
    reset_routing(playbook_lab)
    return playbook_lab


def test_dry_run_shows_diffs_and_changes_nothing(fresh: PlaybookLab) -> None:
    before = fresh.running_all()
    seen, on_event = events()
    result = run_playbook(fresh.db, fresh.settings, "backbone", dry_run=True,
                          on_event=on_event)
    assert sorted(result.hosts) == sorted(BACKBONE_ROUTERS)
    assert not result.failed
    for name, host in result.hosts.items():
        assert host.status == "changed" and host.changed, name
        assert host.verified is None  # nothing was applied, nothing to verify
    core1 = result.hosts["core1"].diffs["frr"]
    assert "+  ip ospf area 0" in core1 and "router ospf" in core1
    # The OSPF key never leaves the run in clear.
    assert "md5 ***" in core1 and "simpul-ospf" not in core1
    assert "neighbor 100.64.0.1 remote-as 64500" in result.hosts["edge"].diffs["frr"]
    assert any("line(s) to change" in message for _, message in seen)
    assert fresh.running_all() == before


def test_backbone_converges_the_lab(fresh: PlaybookLab) -> None:
    result = run_playbook(fresh.db, fresh.settings, "backbone", verify_timeout=60)
    assert not result.failed, {h: (r.status, r.error, r.verification)
                               for h, r in result.hosts.items()}
    assert {r.status for r in result.hosts.values()} == {"changed"}
    assert all(r.verified for r in result.hosts.values())
    assert result.seconds < 60

    # Full adjacency on every OSPF interface, checked here independently of verify().
    def full(node: str) -> int:
        device = fresh.driver(node)
        try:
            data = device.cli(["show ip ospf neighbor json"])["show ip ospf neighbor json"]
        finally:
            device.close()
        neighbors = json.loads(data[data.index("{"):])["neighbors"]
        return sum(1 for entries in neighbors.values() for n in entries
                   if str(n.get("nbrState", "")).startswith("Full"))

    assert {node: full(node) for node in ACTIVE} == ACTIVE

    edge = fresh.driver("edge")
    try:
        peer = edge.get_bgp_neighbors()["global"]["peers"]["100.64.0.1"]
    finally:
        edge.close()
    assert peer["is_up"] and peer["address_family"]["ipv4"]["received_prefixes"] == 1

    # End to end: every OPD host reaches every DC server.
    assert wait_until(lambda: all(reachability().values()), 20)


def test_rerun_through_the_cli_changes_nothing(fresh: PlaybookLab) -> None:
    before = fresh.running_all()
    proc = fresh.simpul("run", "backbone", "--yes")
    assert "line(s) to change" not in proc.stdout
    for router in BACKBONE_ROUTERS:
        assert any(line.split()[:3] == [router, "ok", "no"]
                   for line in proc.stdout.splitlines()), (router, proc.stdout)
    assert "backbone" in proc.stdout and ": ok" in proc.stdout
    assert fresh.running_all() == before
