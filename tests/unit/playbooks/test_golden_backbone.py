"""Golden files: the backbone rendered for every lab router on every platform.

FRR is also proven on the lab; Cisco IOS, Arista EOS, Juniper Junos and MikroTik
RouterOS cannot run here, so their renders are checked against reviewed files in
playbooks/golden/backbone/<platform>/<router>.cfg. After a deliberate template change,
regenerate with ``SIMPUL_UPDATE_GOLDEN=1 pytest tests/unit/playbooks/test_golden_backbone.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playbooks import backbone
from tests.unit.playbooks.test_backbone import lab_nodes

GOLDEN = Path(backbone.__file__).resolve().parent / "golden" / "backbone"
PLATFORMS = ("frr", "ios", "eos", "junos", "ros")
ROUTERS = ("acc-a", "acc-b", "acc-c", "acc-d", "core1", "core2", "dc-sw", "dist-a", "dist-b",
           "dist-c", "dist-d", "edge", "internet", "nac-sw")
KEY = "GOLDEN-KEY"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_renders_match_golden_files(platform: str) -> None:
    nodes = lab_nodes()
    mismatched = []
    for router in ROUTERS:
        text = backbone.render_for(nodes[router], nodes, None, platform, key=KEY)
        path = GOLDEN / platform / f"{router}.cfg"
        if os.environ.get("SIMPUL_UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert text, f"{platform}/{router}: empty render"
        if not path.exists() or path.read_text() != text:
            mismatched.append(router)
    assert not mismatched, f"{platform}: renders differ from {GOLDEN / platform}: {mismatched}"
    assert sorted(p.stem for p in (GOLDEN / platform).glob("*.cfg")) == sorted(ROUTERS)


def test_no_golden_for_routers_outside_the_backbone() -> None:
    nodes = lab_nodes()
    assert backbone.render_for(nodes["rmt-r1"], nodes, None, "ios", key=KEY) == ""


def test_golden_files_hold_the_essentials() -> None:
    ios = (GOLDEN / "ios" / "dist-a.cfg").read_text()
    assert "interface eth3\n description to acc-a:eth1\n ip address 10.255.0.26 255.255.255.254" \
        in ios
    assert " ip ospf 1 area 1\n" in ios and " ip ospf message-digest-key 1 md5 GOLDEN-KEY\n" in ios
    junos = (GOLDEN / "junos" / "dist-a.cfg").read_text()
    assert "area 0.0.0.1 {\n            interface eth3.0 {" in junos
    eos = (GOLDEN / "eos" / "edge.cfg").read_text()
    assert "neighbor 100.64.0.1 route-map ISP-IN in" in eos
    ros = (GOLDEN / "ros" / "acc-a.cfg").read_text()
    assert "add area=area1 interfaces=br0 passive" in ros
