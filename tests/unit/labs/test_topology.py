"""The lab topology: parsing, validation, address plan, inventory data, names."""

from __future__ import annotations

from ipaddress import IPv4Interface
from pathlib import Path

import pytest
import yaml

from labs import DEFAULT_TOPOLOGY, render
from labs.errors import TopologyError
from labs.netns import mgmt_veth_name
from labs.settings import LabSettings
from labs.topology import connected_prefixes, inventory_yaml, load_topology, parse_topology

REPO = Path(__file__).resolve().parents[3]
MINIMAL = {
    "name": "mini",
    "mgmt": {"network": "m", "ipv4-subnet": "192.0.2.0/24"},
    "topology": {
        "nodes": {
            "r1": {"kind": "linux", "image": "frr", "mgmt-ipv4": "192.0.2.11",
                   "labels": {"simpul.role": "core", "simpul.site": "dc", "simpul.opd": "x",
                              "simpul.platform": "frr", "simpul.addr.eth1": "198.51.100.0/31"}},
            "h1": {"kind": "linux", "image": "alpine", "mgmt-ipv4": "192.0.2.12",
                   "labels": {"simpul.role": "host", "simpul.site": "dc", "simpul.opd": "x",
                              "simpul.addr.eth1": "198.51.100.1/31",
                              "simpul.gateway": "198.51.100.0"}},
        },
        "links": [{"endpoints": ["r1:eth1", "h1:eth1"]}],
    },
}


def _mini(**changes: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(MINIMAL))
    for dotted, value in changes.items():
        target = data
        *path, last = dotted.split("/")
        for key in path:
            target = target[key]
        target[last] = value
    return data


@pytest.fixture(scope="module")
def province():
    return load_topology(DEFAULT_TOPOLOGY)


def test_minimal_topology_parses() -> None:
    topo = parse_topology(_mini(), Path("mini.clab.yml"))
    assert str(topo.mgmt_gateway) == "192.0.2.1"
    assert topo.node("r1").is_router and not topo.node("h1").is_router
    assert topo.node("r1").addresses["eth1"] == IPv4Interface("198.51.100.0/31")
    assert topo.interfaces("r1") == ["eth1"]


@pytest.mark.parametrize(("change", "message"), [
    ({"topology/nodes/r1/kind": "bridge"}, "kind 'bridge' is not supported"),
    ({"topology/nodes/r1/labels/simpul.role": "router"}, "simpul.role must be one of"),
    ({"topology/nodes/h1/mgmt-ipv4": "192.0.2.11"}, "mgmt-ipv4 192.0.2.11 already used by"),
    ({"topology/nodes/h1/mgmt-ipv4": "203.0.113.5"}, "is not a host of 192.0.2.0/24"),
    ({"topology/links": [{"endpoints": ["r1:eth1", "zz:eth1"]}]}, "names no known node"),
    ({"topology/links": [{"endpoints": ["r1:eth1", "h1:eth0"]}]}, "bad interface name"),
    ({"topology/nodes/h1/labels/simpul.gateway": "203.0.113.1"}, "on no connected subnet"),
    ({"topology/nodes/r1/labels/simpul.addr.eth9": "203.0.113.1/24"}, "neither a link"),
    ({"topology/nodes/r1/labels/simpul.addr.eth1": "10.0.0.300/31"}, "bad address"),
    ({"name": "Bad Name"}, "'name' must be"),
])
def test_bad_topology_is_one_clear_error(change: dict, message: str) -> None:
    with pytest.raises(TopologyError, match=message) as info:
        parse_topology(_mini(**change), Path("bad.clab.yml"))
    assert str(info.value).startswith("bad.clab.yml: ")
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read topology"):
        load_topology(tmp_path / "nope.clab.yml")
    bad = tmp_path / "bad.clab.yml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(TopologyError, match="not valid YAML"):
        load_topology(bad)


def test_province_models_the_seeds(province) -> None:
    roles: dict[str, list[str]] = {}
    for node in province.nodes.values():
        roles.setdefault(node.role, []).append(node.name)
    assert sorted(roles["core"]) == ["core1", "core2"]
    assert sorted(roles["distribution"]) == ["dc-sw", "dist-a", "dist-b", "dist-c", "dist-d"]
    assert len(roles["access"]) >= 4
    assert {"edge", "internet", "vpn", "nac-access", "radius", "server"} <= set(roles)
    for area in "abcd":  # each distribution router dual-homed to both cores
        peers = {province.peer(e).node for e in _ends(province, f"dist-{area}")}
        assert {"core1", "core2"} <= peers
    assert len(province.nodes) < 40


def _ends(topo, node):
    from labs.topology import Endpoint

    return [Endpoint(node, i) for i in topo.interfaces(node)]


def test_address_plan(province) -> None:
    prefixes = {p["prefix"]: p for p in connected_prefixes(province)}
    assert prefixes["172.20.20.0/24"]["role"] == "management"
    assert prefixes["10.255.0.0/31"]["members"] == ["core1:eth1", "core2:eth1"]
    assert prefixes["10.10.20.0/24"]["role"] == "lan"
    assert prefixes["10.50.99.0/24"]["role"] == "vlan"
    assert prefixes["100.64.0.0/31"]["role"] == "internet"
    # every p2p link has both ends addressed in the same /31
    for link in province.links:
        a = province.node(link.a.node).addresses.get(link.a.interface)
        b = province.node(link.b.node).addresses.get(link.b.interface)
        if a and b:
            assert a.network == b.network, link
    # management addresses are unique and never the host side
    mgmt = [n.mgmt_ipv4 for n in province.nodes.values()]
    assert len(set(mgmt)) == len(mgmt) and province.mgmt_gateway not in mgmt


def test_committed_inventory_equals_derived(province) -> None:
    committed = (REPO / "inventory" / "lab" / "province.yml").read_text()
    assert committed == inventory_yaml(province), "run `simpul lab inventory`"


def test_committed_clab_configs_equal_rendered(province) -> None:
    base = DEFAULT_TOPOLOGY.parent / "configs"
    for node in province.nodes.values():
        for name, text in render.clab_files(province, node).items():
            assert (base / node.name / name).read_text() == text, "run `simpul lab render`"


def test_startup_configs_hold_no_routing(province) -> None:
    for node in province.nodes.values():
        if node.is_router:
            conf = render.frr_conf(province, node)
            for word in ("router ospf", "router bgp", "ip route"):
                assert word not in conf
            assert f"hostname {node.name}" in conf
        assert "ip route" not in render.setup_script(province, node) or node.gateway


def test_interface_names_fit_the_kernel_limit(province) -> None:
    settings = LabSettings()
    names = {mgmt_veth_name(settings, province.name, n) for n in province.nodes}
    assert len(names) == len(province.nodes)
    assert all(len(n) <= 15 for n in names)
    for node in province.nodes.values():
        for ifname in [*province.interfaces(node.name), *node.bridges]:
            assert len(ifname) <= 15


def test_settings_from_env() -> None:
    s = LabSettings.from_env({"SIMPUL_LAB_SYSLOG_PORT": "6514", "SIMPUL_LAB_USER": "u"})
    assert s.syslog_port == 6514 and s.user == "u"
    assert s.credentials()["ssh_user"] == "u"
    from labs.errors import LabError

    with pytest.raises(LabError, match="not a port"):
        LabSettings.from_env({"SIMPUL_LAB_NETFLOW_PORT": "x"})
