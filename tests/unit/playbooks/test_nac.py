"""nac playbook: access ports, RADIUS settings, and golden renders for every platform.

Regenerate after an intended template change with
``SIMPUL_UPDATE_GOLDEN=1 pytest tests/unit/playbooks/test_nac.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playbooks import nac
from playbooks.backbone import Node, Port
from playbooks.napalm_linux.bundle import parse

GOLDEN = Path(__file__).resolve().parents[3] / "playbooks" / "golden" / "nac"
SERVERS = [{"host": "192.0.2.10", "auth_port": 1812, "acct_port": 1813}]


def _topology() -> dict[str, Node]:
    switch = Node("nac-sw", "nac-access", "frr", "B", {
        "eth0": Port("eth0", [], management=True),
        "eth1": Port("eth1", ["10.255.0.35/31"], peer="dist-b", peer_port="eth4"),
        "eth2": Port("eth2", [], peer="nac-h1", peer_port="eth1"),
        "br-vlan10": Port("br-vlan10", ["10.50.10.1/24"]),
        "br-vlan20": Port("br-vlan20", ["10.50.20.1/24"]),
        "br-vlan99": Port("br-vlan99", ["10.50.99.1/24"]),
    })
    return {"nac-sw": switch, "dist-b": Node("dist-b", "distribution", "frr", "B"),
            "nac-h1": Node("nac-h1", "host", "linux", "B")}


def _plan() -> dict[str, object]:
    nodes = _topology()
    return nac.plan(nodes["nac-sw"], nodes, servers=SERVERS, secret="golden-secret",
                    nas_ip="192.0.2.35")


def test_access_ports_and_vlans() -> None:
    nodes = _topology()
    assert nac.access_ports(nodes["nac-sw"], nodes) == ["eth2"]
    assert nac.node_vlans(nodes["nac-sw"]) == [10, 20, 99]
    assert nac.plan(nodes["dist-b"], nodes, servers=SERVERS, secret="x", nas_ip="x") == {}


def test_radius_servers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(nac.SERVERS_ENV, "192.0.2.10,192.0.2.11:11812:11813")
    monkeypatch.delenv("SIMPUL_RADIUS_AUTH_PORT", raising=False)
    monkeypatch.delenv("SIMPUL_RADIUS_ACCT_PORT", raising=False)
    assert nac.radius_servers() == [
        {"host": "192.0.2.10", "auth_port": 1812, "acct_port": 1813},
        {"host": "192.0.2.11", "auth_port": 11812, "acct_port": 11813}]
    monkeypatch.delenv(nac.SERVERS_ENV)
    monkeypatch.setenv("SIMPUL_RADIUS_HOST", "127.0.0.1")
    with pytest.raises(nac.PlaybookError, match="loopback"):
        nac.radius_servers()


def test_per_switch_secret_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_RADIUS_SECRET", "shared-secret")
    monkeypatch.setenv("SIMPUL_RADIUS_SECRET_NAC_SW", "switch-secret")
    assert nac.radius_secret("nac-sw") == "switch-secret"
    monkeypatch.delenv("SIMPUL_RADIUS_SECRET_NAC_SW")
    assert nac.radius_secret("nac-sw") == "shared-secret"


def test_linux_layer_is_a_valid_candidate() -> None:
    from playbooks.base import render_template

    bundle = parse(render_template("linux", "nac", **_plan()))
    assert [(f.path, f.mode) for f in bundle.files] == [
        ("/etc/hostapd/simpul-eth2.conf", 0o600), ("/etc/hostapd/simpul-vlans", 0o644),
        ("/etc/hostapd/simpul-nac-action", 0o755)]
    assert bundle.run[0] == "wpa_cli -g /run/hostapd/global raw REMOVE eth2"


@pytest.mark.parametrize("layer", ["linux", "ios", "eos", "junos", "ros"])
def test_golden(layer: str) -> None:
    from playbooks.base import render_template

    text = render_template(layer, "nac", **_plan())
    path = GOLDEN / f"nac-sw.{layer}.txt"
    if os.environ.get("SIMPUL_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs (SIMPUL_UPDATE_GOLDEN=1 to refresh)"
