"""vpn playbook: the plan from a topology, and golden renders for every platform.

Regenerate the golden files after an intended template change with
``SIMPUL_UPDATE_GOLDEN=1 pytest tests/unit/playbooks/test_vpn.py`` and review the diff.
The offline platforms (IOS, EOS, Junos, RouterOS) cannot run here: these files are what
we check instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playbooks import vpn
from playbooks.backbone import Node, Port
from playbooks.napalm_linux.bundle import parse

GOLDEN = Path(__file__).resolve().parents[3] / "playbooks" / "golden" / "vpn"
PSK = "golden-psk-0123456789"


def _topology() -> dict[str, Node]:
    """DC edge - ISP - remote OPD router, documentation-style addresses."""
    edge = Node("edge", "edge", "frr", "", {
        "eth0": Port("eth0", [], management=True),
        "lo": Port("lo", ["10.0.0.31/32"]),
        "eth1": Port("eth1", ["10.255.0.23/31"], peer="core1", peer_port="eth7"),
        "eth3": Port("eth3", ["198.51.100.0/31"], peer="isp", peer_port="eth1"),
    })
    isp = Node("isp", "internet", "frr", "", {
        "eth1": Port("eth1", ["198.51.100.1/31"], peer="edge", peer_port="eth3"),
        "eth2": Port("eth2", ["203.0.113.1/31"], peer="rmt", peer_port="eth1"),
    })
    rmt = Node("rmt", "vpn", "frr", "", {
        "eth0": Port("eth0", [], management=True),
        "lo": Port("lo", ["10.0.0.41/32"]),
        "eth1": Port("eth1", ["203.0.113.0/31"], peer="isp", peer_port="eth2"),
        "eth2": Port("eth2", ["10.60.10.1/24"]),
    })
    core = Node("core1", "core", "frr", "", {"lo": Port("lo", ["10.0.0.1/32"])})
    return {n.name: n for n in (edge, isp, rmt, core)}


def test_plan_hub_and_spoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vpn.INTRANET_ENV, raising=False)
    nodes = _topology()
    hub = vpn.plan(nodes["edge"], nodes, key=PSK)
    (peer,) = hub["peers"]
    assert (peer["conn"], peer["local_addr"], peer["remote_addr"]) == (
        "s2s-rmt", "198.51.100.0", "203.0.113.0")
    assert peer["local_ts"] == ["10.0.0.0/8"]
    assert peer["remote_ts"] == ["10.0.0.41/32", "10.60.10.0/24"]
    assert hub["routes"] == ["10.0.0.41/32", "10.60.10.0/24"] and hub["redistribute"]
    spoke = vpn.plan(nodes["rmt"], nodes, key=PSK)
    assert spoke["peers"][0]["initiator"] and spoke["routes"] == ["10.0.0.0/8"]
    assert not spoke["redistribute"]
    assert vpn.plan(nodes["core1"], nodes, key=PSK) == {}
    assert vpn.plan(nodes["isp"], nodes, key=PSK) == {}


def test_psk_from_environment_and_lab_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vpn.PSK_ENV, raising=False)
    assert vpn.psk() == vpn.LAB_PSK
    monkeypatch.setenv(vpn.PSK_ENV, "short")
    with pytest.raises(vpn.PlaybookError, match="at least 16"):
        vpn.psk()


def test_linux_layer_is_a_valid_candidate() -> None:
    nodes = _topology()
    text = vpn.render_for(nodes["rmt"], nodes, ("linux",), key=PSK)["linux"]
    bundle = parse(text)
    assert [f.path for f in bundle.files] == ["/etc/swanctl/conf.d/simpul-vpn.conf"]
    assert bundle.files[0].mode == 0o600 and bundle.run == ("swanctl --load-all",)


def test_sa_problems_reads_swanctl_list_sas() -> None:
    text = ("s2s-rmt: #3, ESTABLISHED, IKEv2, 1a2b_i 3c4d_r*\n"
            "  local  'edge' @ 198.51.100.0[4500]\n"
            "  s2s-rmt: #2, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-256/HMAC_SHA2_256_128\n"
            "other: #4, CONNECTING, IKEv2\n")
    assert vpn.sa_problems(text, ["s2s-rmt"]) == []
    assert vpn.sa_problems(text, ["other", "gone"]) == [
        "IKE SA other is not established", "IKE SA gone is not established"]


CASES = [(node, layer) for node in ("edge", "rmt")
         for layer in ("linux", "frr", "ios", "eos", "junos", "ros")]


@pytest.mark.parametrize(("node", "layer"), CASES)
def test_golden(node: str, layer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vpn.INTRANET_ENV, raising=False)
    nodes = _topology()
    text = vpn.render_for(nodes[node], nodes, (layer,), key=PSK,
                          remote_access=node == "edge")[layer]
    path = GOLDEN / f"{node}.{layer}.txt"
    if os.environ.get("SIMPUL_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs (SIMPUL_UPDATE_GOLDEN=1 to refresh)"
