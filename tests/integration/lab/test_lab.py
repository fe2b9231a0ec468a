"""The province lab as simpul sees it: SSH/vtysh, SNMP, syslog, LLDP, traffic, routing, VPN.

Tests run in file order against one lab (module fixture): management-plane checks
first, then routing applied through vtysh, a core link cut, and the VPN.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.integration.lab.labhelpers import UP_BUDGET_SECONDS, Lab, in_ns, parallel, wait_until
from tests.integration.lab.labrouting import (
    DC_SERVERS,
    EDGE,
    REMOTE,
    apply_routing,
    internet_counters,
    ping,
    reachability,
    set_tunnel,
    start_vpn,
    transfer_bytes,
)

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
LLDP_REM_SYSNAME = "1.0.8802.1.1.2.1.4.1.1.9"


def test_up_is_fast_and_every_node_runs(lab: Lab) -> None:
    assert lab.up_seconds < UP_BUDGET_SECONDS, f"lab up took {lab.up_seconds:.1f}s"
    rows = json.loads(lab.cli("status", "--json").stdout)
    assert {r["name"] for r in rows} == set(lab.topology.nodes)
    assert {r["name"]: r["state"] for r in rows} == {n: "running" for n in lab.topology.nodes}
    core1 = next(r for r in rows if r["name"] == "core1")
    assert core1["role"] == "core" and core1["mgmt_ipv4"] == "172.20.20.11"
    assert core1["credentials"]["ssh_user"] == "simpul"
    assert core1["credentials"]["snmpv3_user"] == "simpul"
    assert {"zebra", "ospfd", "bgpd", "staticd", "sshd", "snmpd", "lldpd", "rsyslog"} <= set(
        core1["services"])


def test_up_again_is_a_no_op(lab: Lab) -> None:
    out = lab.cli("up").stdout
    assert "already up" in out


def test_every_router_speaks_vtysh_over_ssh_with_netmiko(lab: Lab) -> None:
    from netmiko import ConnectHandler

    def session(name: str) -> tuple[str, str, bool]:
        node = lab.topology.node(name)
        conn = ConnectHandler(device_type="cisco_ios", host=str(node.mgmt_ipv4),
                              username="simpul", password="simpul-lab", fast_cli=False)
        try:
            prompt = conn.find_prompt()
            version = conn.send_command("show version")
            configured = False
            if name == "core1":
                conn.send_config_set(["interface eth1", "description netmiko was here"])
                configured = not conn.check_config_mode() and "netmiko was here" in (
                    conn.send_command("show running-config"))
            return prompt, version, configured if name == "core1" else True
        finally:
            conn.disconnect()

    results = dict(zip(lab.routers, parallel(session, lab.routers, workers=8), strict=True))
    for name, (prompt, version, configured) in results.items():
        assert prompt == f"{name}#"
        assert "FRRouting" in version
        assert configured, name


def _snmpwalk(args: list[str], oid: str) -> list[str]:
    proc = subprocess.run(["snmpwalk", *args, "-On", "-Oq", "-t", "2", "-r", "2", *[], oid],
                          capture_output=True, text=True, timeout=60)
    return [line.split(" ", 1)[1].strip('"') for line in proc.stdout.splitlines()
            if " " in line]


@pytest.mark.parametrize("version", ["v2c", "v3"])
def test_every_router_answers_snmp_with_its_own_interfaces(lab: Lab, version: str) -> None:
    def walk(name: str) -> set[str]:
        host = str(lab.topology.node(name).mgmt_ipv4)
        auth = (["-v2c", "-c", "simpul-lab"] if version == "v2c" else
                ["-v3", "-l", "authPriv", "-u", "simpul", "-a", "SHA", "-A", "simpul-lab-auth",
                 "-x", "AES", "-X", "simpul-lab-priv"])
        return set(_snmpwalk([*auth, host], IF_NAME))

    walked = dict(zip(lab.routers, parallel(walk, lab.routers), strict=True))
    for name, names in walked.items():
        node = lab.topology.node(name)
        expected = {"lo", "eth0", *lab.topology.interfaces(name), *node.bridges}
        assert expected <= names, f"{name}: {sorted(names)}"
        others = {i for n in lab.topology.nodes.values() if n.name != name for i in n.bridges}
        assert not (names & (others - expected)), f"{name} shows another node's interfaces"


def test_every_node_syslog_reaches_the_host_port(lab: Lab) -> None:
    tag = f"simpul-lab-test-{int(time.time())}"
    for name in lab.topology.nodes:
        # Into the node's own rsyslog, through its local log socket.
        proc = in_ns(name, "logger", "-u", f"/run/simpul-lab/nodes/{name}/log.sock", "-t",
                     "labtest", f"{tag} from {name}")
        assert proc.returncode == 0, proc.stderr
    assert wait_until(lambda: lab.syslog.hosts(tag) >= set(lab.topology.nodes), 15), (
        sorted(set(lab.topology.nodes) - lab.syslog.hosts(tag)))
    # Each message carries its node's name and came through that node's rsyslog.
    for host, msg in lab.syslog.messages:
        if tag in msg:
            assert msg.endswith(f"from {host}")
    # Daemons' own logs are forwarded too: FRR's from every router.
    assert wait_until(lambda: lab.syslog.hosts("frr:") >= set(lab.routers), 10), (
        sorted(set(lab.routers) - lab.syslog.hosts("frr:")))


def test_lldp_neighbours_via_snmp_lldp_mib(lab: Lab) -> None:
    expected = {"core2", "dist-a", "dist-b", "dist-c", "dist-d", "dc-sw", "edge"}
    args = ["-v2c", "-c", "simpul-lab", "172.20.20.11"]
    assert wait_until(lambda: expected <= set(_snmpwalk(args, LLDP_REM_SYSNAME)), 30), (
        _snmpwalk(args, LLDP_REM_SYSNAME))


def test_traffic_reports_throughput(lab: Lab) -> None:
    out = lab.cli("traffic", "web", "mail", "--seconds", "1", "--json").stdout
    result = json.loads(out)
    assert result["target"] == "10.10.20.11"
    assert result["received_bps"] > 1e6


def test_unknown_node_is_one_clear_line(lab: Lab) -> None:
    proc = lab.cli("exec", "nosuch", "--", "true", check=False)
    assert proc.returncode != 0
    assert "unknown node 'nosuch'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def routed(lab: Lab) -> Lab:
    """Apply the known-good OSPF/static configs and wait for full reachability."""
    apply_routing()
    ok = wait_until(lambda: all(reachability().values()), 40, interval=1)
    assert ok, [k for k, v in reachability().items() if not v]
    lab.routed = True
    return lab


def test_every_opd_host_reaches_every_dc_server(routed: Lab) -> None:
    results = reachability()
    assert all(results.values()), [k for k, v in results.items() if not v]
    out = in_ns("ha1", "curl", "-s", "-m", "5", f"http://{DC_SERVERS['web']}/health").stdout
    assert out.strip() == "ok"


def test_cutting_a_core_link_keeps_reachability(routed: Lab) -> None:
    for node, ifname in (("core1", "eth2"), ("core1", "eth6")):  # core1-dist-a, core1-dc-sw
        assert in_ns(node, "ip", "link", "set", ifname, "down").returncode == 0
    try:
        time.sleep(3.5)  # OSPF dead interval (3 s) in the test configs
        ok = wait_until(lambda: all(reachability().values()), 30, interval=1)
        assert ok, [k for k, v in reachability().items() if not v]
    finally:
        for node, ifname in (("core1", "eth2"), ("core1", "eth6")):
            in_ns(node, "ip", "link", "set", ifname, "up")


def test_remote_opd_reaches_the_dc_only_through_the_vpn(routed: Lab) -> None:
    web = DC_SERVERS["web"]
    assert not ping("rmt-h1", web), "remote OPD reached the DC without a VPN"
    assert ping("rmt-r1", "100.64.0.0"), "the internet underlay does not work"

    start_vpn()
    before = internet_counters()
    assert wait_until(lambda: ping("rmt-h1", web), 20, interval=1), "no DC reach over the VPN"
    assert ping("rmt-h1", web, count=5)
    after = internet_counters()
    # The internet carried the traffic encrypted: WireGuard datagrams, no plain packets.
    assert after["plain_intranet"] == before["plain_intranet"]
    assert after["wireguard"] >= before["wireguard"] + 10
    received, sent = transfer_bytes(EDGE)
    assert received > 0 and sent > 0
    assert transfer_bytes(REMOTE)[0] > 0

    set_tunnel(up=False)
    try:
        assert not ping("rmt-h1", web, count=2), "remote OPD reached the DC with the VPN down"
    finally:
        set_tunnel(up=True)
    assert wait_until(lambda: ping("rmt-h1", web), 20, interval=1)
