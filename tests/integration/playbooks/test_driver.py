"""The FRR NAPALM driver against the lab's real routers (vtysh over SSH)."""

from __future__ import annotations

import napalm
import pytest
from napalm.base.exceptions import CommitError

import playbooks  # noqa: F401
from playbooks.napalm_frr import FRRDriver
from tests.integration.playbooks.conftest import PlaybookLab

pytestmark = pytest.mark.lab
CHANGE = ("ip prefix-list SIMPUL-DRIVER-TEST seq 5 permit 192.0.2.0/24\n"
          "interface eth1\n description driver test\nexit\n")


def test_napalm_resolves_frr_to_our_driver() -> None:
    assert napalm.get_network_driver("frr") is FRRDriver


def test_getters(playbook_lab: PlaybookLab) -> None:
    device = playbook_lab.driver("acc-d")
    try:
        facts = device.get_facts()
        assert facts["hostname"] == "acc-d" and facts["vendor"] == "FRRouting"
        assert facts["os_version"].startswith("8.")
        assert {"eth0", "eth1", "br0", "lo"} <= set(facts["interface_list"])
        interfaces = device.get_interfaces()
        assert interfaces["eth1"]["is_up"] and interfaces["eth1"]["is_enabled"]
        assert interfaces["eth1"]["mac_address"]
        addresses = device.get_interfaces_ip()
        assert addresses["eth1"]["ipv4"] == {"10.255.0.33": {"prefix_length": 31}}
        assert addresses["br0"]["ipv4"] == {"10.4.10.1": {"prefix_length": 24}}
        assert "show version" in device.cli(["show version"])
        assert "FRRouting" in device.cli(["show version"])["show version"]
        lldp = device.get_lldp_neighbors()
        assert {"hostname": "dist-d", "port": "eth3"} in lldp["eth1"], lldp
        assert device.is_alive() == {"is_alive": True}
    finally:
        device.close()
    assert device.is_alive() == {"is_alive": False}


def test_bgp_neighbors_after_backbone(backbone_applied: PlaybookLab) -> None:
    device = backbone_applied.driver("internet")
    try:
        peers = device.get_bgp_neighbors()["global"]["peers"]
    finally:
        device.close()
    edge = peers["100.64.0.0"]
    assert edge["is_up"] and edge["remote_as"] == 65001 and edge["local_as"] == 64500
    assert edge["address_family"]["ipv4"]["sent_prefixes"] == 1  # the default only


def test_merge_compare_discard_commit_rollback(playbook_lab: PlaybookLab) -> None:
    device = playbook_lab.driver("acc-d")
    try:
        before = device.get_config()["running"]
        device.load_merge_candidate(config=CHANGE)
        diff = device.compare_config()
        assert "+ ip prefix-list SIMPUL-DRIVER-TEST seq 5 permit 192.0.2.0/24" in diff
        assert "  interface eth1\n+  description driver test" in diff
        device.discard_config()
        assert device.compare_config() == ""
        assert device.get_config()["running"] == before

        device.load_merge_candidate(config=CHANGE)
        device.commit_config()
        after = device.get_config()["running"]
        assert "description driver test" in after and "SIMPUL-DRIVER-TEST" in after
        device.load_merge_candidate(config=CHANGE)
        assert device.compare_config() == ""  # committed: nothing left to do
        device.discard_config()
        device.rollback()
        assert device.get_config()["running"] == before
    finally:
        device.close()


def test_replace_removes_what_the_candidate_lacks(playbook_lab: PlaybookLab) -> None:
    device = playbook_lab.driver("acc-d")
    try:
        before = device.get_config()["running"]
        device.load_merge_candidate(config=CHANGE)
        device.commit_config()
        # Replace with the original config: the test lines go, the old description is back.
        device.load_replace_candidate(config=before)
        assert device.compare_config() == (
            "- ip prefix-list SIMPUL-DRIVER-TEST seq 5 permit 192.0.2.0/24\n"
            "  interface eth1\n"
            "-  description driver test\n"
            "+  description to dist-d:eth3\n")
        device.commit_config()
        assert device.get_config()["running"] == before
    finally:
        device.close()


def test_refused_command_restores_the_device(playbook_lab: PlaybookLab) -> None:
    device = playbook_lab.driver("acc-d")
    try:
        before = device.get_config()["running"]
        device.load_merge_candidate(config=CHANGE + "interface eth1\n ip ospf bogus 1\nexit\n")
        with pytest.raises(CommitError, match="bogus"):
            device.commit_config()
        assert device.get_config()["running"] == before
    finally:
        device.close()
