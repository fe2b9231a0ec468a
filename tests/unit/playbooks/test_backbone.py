"""The backbone plan from the lab's inventory: areas, passive interfaces, BGP, verify data."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from playbooks import backbone
from playbooks.backbone import Node, Port, area_number, plan
from playbooks.base import PlaybookError
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database

CLAB = Path(__file__).resolve().parents[3] / "labs" / "province" / "province.clab.yml"


@functools.cache
def lab_nodes() -> dict[str, Node]:
    """The lab topology as the playbook loads it (the clab file imported into SQLite)."""
    from inventory.importer import import_file

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'lab.db'}")
        try:
            migrate.upgrade(db)
            with db.session() as session:
                import_file(session, Actor.system("test"), CLAB)
            with db.session(write=False) as session:
                return backbone.load_topology(session)
        finally:
            db.dispose()


def ospf_of(node: str) -> dict[str, tuple[int, bool] | None]:
    variables = plan(lab_nodes()[node], lab_nodes(), key="k")
    return {i["name"]: (i["ospf"]["area"], i["ospf"]["passive"]) if i["ospf"] else None
            for i in variables["interfaces"]}


def test_area_numbers() -> None:
    assert [area_number(z) for z in ("", "A", "b", "D", "7")] == [0, 1, 2, 4, 7]
    with pytest.raises(PlaybookError, match="neither a letter nor a number"):
        area_number("north")


def test_areas_follow_the_distribution_zones() -> None:
    assert ospf_of("core1") == {f"eth{n}": (0, False) for n in range(1, 8)} | {"lo": (0, True)}
    # dist-a is the ABR of zone A: area 0 to the cores, area 1 to its access router.
    assert ospf_of("dist-a") == {"eth1": (0, False), "eth2": (0, False), "eth3": (1, False),
                                 "lo": (0, True)}
    assert ospf_of("dist-b")["eth4"] == (2, False)  # nac-sw sits in zone B
    assert ospf_of("acc-a") == {"br0": (1, True), "eth1": (1, False), "lo": (1, True)}
    assert ospf_of("nac-sw") == {"br-vlan10": (2, True), "br-vlan20": (2, True),
                                 "br-vlan99": (2, True), "eth1": (2, False), "lo": (2, True)}
    assert ospf_of("dc-sw") == {"br-int": (0, True), "br-mgmt": (0, True), "eth1": (0, False),
                                "eth2": (0, False), "lo": (0, True)}
    # The edge's uplink to the ISP is BGP's, not OSPF's.
    assert ospf_of("edge") == {"eth1": (0, False), "eth2": (0, False), "eth3": None,
                               "lo": (0, True)}


def test_management_interface_is_never_touched() -> None:
    for node in ("core1", "acc-a", "edge", "internet"):
        assert "eth0" not in {i["name"] for i in plan(lab_nodes()[node], lab_nodes(),
                                                      key="k")["interfaces"]}


def test_bgp_between_edge_and_isp() -> None:
    edge = plan(lab_nodes()["edge"], lab_nodes(), key="k")
    isp = plan(lab_nodes()["internet"], lab_nodes(), key="k")
    assert edge["bgp"] == {"asn": 65001, "remote_as": 64500, "router_id": "10.0.0.31",
                           "side": "customer",
                           "neighbors": [{"address": "100.64.0.1", "peer": "internet",
                                          "port": "eth3"}]}
    assert isp["bgp"]["side"] == "isp" and isp["bgp"]["neighbors"][0]["address"] == "100.64.0.0"
    assert isp["ospf"] is None
    assert edge["ospf"]["default_originate"] is True
    assert plan(lab_nodes()["core1"], lab_nodes(), key="k")["bgp"] is None


def test_asns_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_BACKBONE_ASN", "65123")
    monkeypatch.setenv("SIMPUL_BACKBONE_ISP_ASN", "64511")
    edge = plan(lab_nodes()["edge"], lab_nodes(), key="k")["bgp"]
    assert (edge["asn"], edge["remote_as"]) == (65123, 64511)


def test_routers_outside_the_backbone_get_nothing() -> None:
    assert plan(lab_nodes()["rmt-r1"], lab_nodes(), key="k") == {}
    assert plan(lab_nodes()["web"], lab_nodes(), key="k") == {}
    lonely_isp = Node("isp2", "router", "frr", "", {"eth1": Port("eth1", ["192.0.2.1/31"])})
    assert plan(lonely_isp, {"isp2": lonely_isp}, key="k") == {}


def test_ospf_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIMPUL_OSPF_KEY", raising=False)
    assert backbone.ospf_key() == "simpul-ospf"
    monkeypatch.setenv("SIMPUL_OSPF_KEY", "s3cret-key")
    assert plan(lab_nodes()["acc-a"], lab_nodes())["ospf"]["key"] == "s3cret-key"
    monkeypatch.setenv("SIMPUL_OSPF_KEY", "x" * 17)
    with pytest.raises(PlaybookError, match="at most 16"):
        backbone.ospf_key()


def test_key_is_redacted_from_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    from simpul.logging import redact

    monkeypatch.setenv("SIMPUL_OSPF_KEY", "hush-hush-42")
    backbone.ospf_key()
    assert redact("ip ospf message-digest-key 1 md5 hush-hush-42") == (
        "ip ospf message-digest-key 1 md5 ***")


def test_frr_render_is_canonical() -> None:
    text = backbone.render_for(lab_nodes()["acc-a"], lab_nodes(), None, "frr", key="k")
    assert text.startswith("interface br0\n description bridge: eth2,eth3\n")
    assert " ip ospf message-digest-key 1 md5 k\n" in text
    assert "router ospf\n ospf router-id 10.0.0.21\n" in text
