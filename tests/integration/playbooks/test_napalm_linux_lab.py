"""playbooks.napalm_linux against a lab router's shell port: merge, replace, rollback.

Runs on edge's node-local /etc/hostapd (a directory no daemon of edge reads), through
SSH to port 2222 as the lab user, exactly as the runner drives the Linux layer.
"""

from __future__ import annotations

import pytest
from napalm import get_network_driver

import playbooks  # noqa: F401  (napalm_linux alias)
from playbooks.napalm_linux import LinuxDriver
from tests.integration.playbooks.conftest import LAB_PASSWORD, LAB_USER, PlaybookLab

pytestmark = pytest.mark.lab
DIR = "/etc/hostapd/napalm-linux-test"


def _tree(device: object) -> str:
    command = f"cd {DIR} 2>/dev/null && for f in $(ls -A); do stat -c '%n %a' $f; " \
              "sha256sum < $f; done"
    return device.cli([command])[command]  # type: ignore[attr-defined]


def test_registered_as_the_linux_driver() -> None:
    assert get_network_driver("linux").__name__ == "LinuxDriver"


def test_commit_replace_and_rollback_over_ssh(playbook_lab: PlaybookLab) -> None:
    # Run lines as the login user here (sudo only allows the lab's reload commands).
    device = LinuxDriver(str(playbook_lab.lab.topology.node("edge").mgmt_ipv4), LAB_USER,
                         LAB_PASSWORD, optional_args={"shell_port": 2222, "sudo": "no"})
    device.open()
    try:
        device.cli([f"rm -rf {DIR}"])
        facts = device.get_facts()
        assert facts["hostname"] == "edge" and "ipsec0" in facts["interface_list"]
        device.load_merge_candidate(config=(
            f"### file {DIR}/a.conf mode=0600\nalpha\n### file {DIR}/b.conf\nbeta\n"
            f"### run test -s {DIR}/a.conf\n"))
        assert f"+++ b{DIR}/a.conf" in device.compare_config()
        device.commit_config()
        first = _tree(device)
        assert "a.conf 600" in first and "b.conf 644" in first

        # Replace: b.conf was written by simpul in the same directory, so it goes.
        device.load_replace_candidate(config=f"### file {DIR}/a.conf mode=0640\nalpha 2\n")
        diff = device.compare_config()
        assert f"--- a{DIR}/b.conf\n+++ /dev/null" in diff and "+alpha 2" in diff
        device.commit_config()
        assert "b.conf" not in _tree(device)

        # Rollback restores the state before that commit byte for byte.
        device.rollback()
        assert _tree(device) == first
        # A candidate equal to the device is no change at all.
        device.load_merge_candidate(config=f"### file {DIR}/b.conf\nbeta\n")
        assert device.compare_config() == ""
        device.discard_config()
    finally:
        device.cli([f"rm -rf {DIR}"])
        device.close()
