"""The vpn playbook on the lab: IPsec between the DC edge and the remote OPD router.

Routing comes from the known-good lab configs (tests/integration/lab/labrouting.py); the
tunnel, its routes and the remote OPD's reachability come from the playbook alone (the
WireGuard tunnel of the lab tests is not started here). The Linux layer is pushed over the
nodes' shell port (2222) by playbooks.napalm_linux, the routes over vtysh by napalm_frr.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from napalm.base.exceptions import CommitError

from playbooks.napalm_linux import LinuxDriver
from playbooks.runner import run_playbook
from tests.integration.lab.labhelpers import in_ns, wait_until
from tests.integration.lab.labrouting import (
    DC_SERVERS,
    EDGE,
    REMOTE,
    apply_routing,
    nft_counters,
    ping,
    reachability,
)
from tests.integration.playbooks.conftest import LAB_PASSWORD, LAB_USER, PlaybookLab

pytestmark = pytest.mark.lab
VPN_HOSTS = ["edge", "rmt-r1"]
SWANCTL_FILE = "/etc/swanctl/conf.d/simpul-vpn.conf"
COUNTERS = """table ip simpul_vpn_test {
  counter plain_intranet { }
  counter esp_in_udp { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr 10.0.0.0/8 ip daddr 10.0.0.0/8 counter name plain_intranet
    udp dport 4500 @th,64,32 != 0 counter name esp_in_udp
  }
}
"""


def linux(pl: PlaybookLab, node: str) -> LinuxDriver:
    device = LinuxDriver(str(pl.lab.topology.node(node).mgmt_ipv4), LAB_USER, LAB_PASSWORD,
                         optional_args={"shell_port": 2222})
    device.open()
    return device


def shell(pl: PlaybookLab, node: str, command: str) -> str:
    device = linux(pl, node)
    try:
        return device.cli([command])[command]
    finally:
        device.close()


def counters() -> dict[str, int]:
    return nft_counters("internet", "simpul_vpn_test", COUNTERS)


def _vtysh(node: str, *lines: str) -> None:
    args = [a for line in lines for a in ("-c", line)]
    in_ns(node, "vtysh", "-N", node, "-c", "configure terminal", *args)


def remove_wireguard() -> None:
    """Take down the lab tests' WireGuard tunnel, if an earlier test started it."""
    for end, route in ((EDGE, "10.60.10.0/24"), (REMOTE, "10.0.0.0/8")):
        _vtysh(end.node, f"no ip route {route} {end.ifname}")
        in_ns(end.node, "ip", "link", "del", end.ifname)  # wireguard-go exits with it


def remove_vpn(pl: PlaybookLab) -> None:
    """Undo this module's VPN: config, SAs and routes (later tests expect none)."""
    for node, peer, routes in (("edge", "rmt-r1", ("10.60.10.0/24", "10.0.0.41/32")),
                               ("rmt-r1", "edge", ("10.0.0.0/8",))):
        shell(pl, node, f"rm -f {SWANCTL_FILE}; sudo -n swanctl --load-all >/dev/null 2>&1; "
                        f"sudo -n swanctl --terminate --ike s2s-{peer} >/dev/null 2>&1")
        _vtysh(node, *(f"no ip route {r} ipsec0" for r in routes))


@pytest.fixture(scope="module")
def routed(playbook_lab: PlaybookLab) -> Iterator[PlaybookLab]:
    """Lab routing applied, the shell port used for the Linux layer, no VPN yet."""
    apply_routing()
    remove_wireguard()
    assert wait_until(lambda: all(reachability().values()), 60, interval=1), (
        [k for k, v in reachability().items() if not v])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIMPUL_DEVICE_SHELL_PORT", "2222")
        yield playbook_lab
    remove_vpn(playbook_lab)


def test_dry_run_shows_both_layers_and_changes_nothing(routed: PlaybookLab) -> None:
    assert not ping("rmt-h1", DC_SERVERS["web"]), "remote OPD reached the DC without a VPN"
    result = run_playbook(routed.db, routed.settings, "vpn", dry_run=True)
    assert sorted(result.hosts) == VPN_HOSTS and not result.failed
    edge = result.hosts["edge"].diffs
    assert f"+++ b{SWANCTL_FILE}" in edge["linux"] and "### run swanctl --load-all" in edge["linux"]
    assert "remote_addrs = 100.64.0.2" in edge["linux"]
    assert "ip route 10.60.10.0/24 ipsec0" in edge["frr"]
    assert "ip route 10.0.0.0/8 ipsec0" in result.hosts["rmt-r1"].diffs["frr"]
    # The pre-shared key never appears in a diff.
    assert "simpul-lab-vpn-psk" not in edge["linux"]
    assert shell(routed, "edge", f"test -e {SWANCTL_FILE} && echo present").strip() == ""
    assert "10.60.10.0/24" not in in_ns("edge", "ip", "route").stdout


def test_vpn_brings_the_tunnel_up_and_traffic_crosses_encrypted(routed: PlaybookLab) -> None:
    result = run_playbook(routed.db, routed.settings, "vpn", verify_timeout=40)
    assert not result.failed, {h: (r.status, r.error, r.verification)
                               for h, r in result.hosts.items()}
    assert {h: r.status for h, r in result.hosts.items()} == {
        "edge": "changed", "rmt-r1": "changed"}
    sas = shell(routed, "rmt-r1", "sudo -n swanctl --list-sas 2>/dev/null")
    assert "s2s-edge" in sas and "ESTABLISHED" in sas and "INSTALLED" in sas

    web = DC_SERVERS["web"]
    before = counters()
    assert wait_until(lambda: ping("rmt-h1", web), 30, interval=1), "no DC reach over the VPN"
    assert ping("rmt-h1", web, count=5)
    assert ping("web", "10.60.10.10", count=3), "the DC does not reach the remote OPD"
    after = counters()
    # The internet carried the traffic as ESP (in UDP 4500), no plain intranet packet.
    assert after["plain_intranet"] == before["plain_intranet"]
    assert after["esp_in_udp"] >= before["esp_in_udp"] + 16


def test_rerun_changes_nothing(routed: PlaybookLab) -> None:
    result = run_playbook(routed.db, routed.settings, "vpn", verify_timeout=20)
    assert {h: r.status for h, r in result.hosts.items()} == {"edge": "ok", "rmt-r1": "ok"}


def test_broken_change_is_rolled_back_byte_identical(routed: PlaybookLab) -> None:
    device = linux(routed, "edge")
    try:
        digest = f"sha256sum {SWANCTL_FILE}"
        before = device.cli([digest])[digest]
        assert SWANCTL_FILE in before
        device.load_merge_candidate(config=(
            f"### file {SWANCTL_FILE} mode=0600\n"
            "connections {\n  broken {\n    proposals = no-such-cipher\n  }\n}\n"
            f"### file /etc/swanctl/conf.d/simpul-extra.conf\n# new file\n"
            "### run swanctl --load-all\n"))
        assert "broken" in device.compare_config()
        with pytest.raises(CommitError, match="rolled back"):
            device.commit_config()
        assert device.cli([digest])[digest] == before
        listing = "ls /etc/swanctl/conf.d"
        assert device.cli([listing])[listing].split() == ["simpul-vpn.conf"]
    finally:
        device.close()
    # The restored config was reloaded: the tunnel still carries traffic.
    assert wait_until(lambda: ping("rmt-h1", DC_SERVERS["web"]), 20, interval=1)
