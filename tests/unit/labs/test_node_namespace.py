"""The node's own mount namespace, shell login and daemons' configs (rendered text)."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from labs import render
from labs.settings import LabSettings
from labs.topology import Node

D = Path("/run/simpul-lab/nodes/edge")


def _node(platform: str = "frr") -> Node:
    return Node(name="edge", kind="linux", image="", role="edge",
                mgmt_ipv4=IPv4Address("172.20.20.41"), site="dc", opd="x", platform=platform)


def test_routers_have_vtysh_on_22_and_bash_on_the_shell_port() -> None:
    text = render.sshd_config(_node(), LabSettings(), D, Path("/keys"))
    assert "ListenAddress 172.20.20.41:22\nListenAddress 172.20.20.41:2222\n" in text
    assert text.endswith("Match LocalPort 22\n    ForceCommand /usr/bin/vtysh -N edge\n")
    host = render.sshd_config(_node("linux"), LabSettings(), D, Path("/keys"))
    assert "ForceCommand" not in host and ":2222" in host


def test_mount_script_privatises_run_and_binds_the_node_etc() -> None:
    script = render.mount_script(D, "/var/lib/simpul-lab", ["frr", "simpul-lab"],
                                 D / "mntns.ready")
    lines = script.splitlines()
    assert lines[:3] == ["set -e", "exec 3</run",
                         "mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m simpul-lab-run /run"]
    assert "mount --no-canonicalize --bind /proc/self/fd/3/frr /run/frr" in lines
    assert f"mount --bind {D}/etc/swanctl /etc/swanctl" in lines
    assert f"mount --bind {D}/etc/sudoers.d /etc/sudoers.d" in lines
    assert f"mount --bind {D}/home /var/lib/simpul-lab" in lines
    assert lines[-2:] == [f"touch {D}/mntns.ready", "exec sleep infinity"]


def test_sudoers_allows_only_the_reload_commands() -> None:
    text = render.sudoers(LabSettings())
    rule = text.splitlines()[-1]
    assert rule.startswith("simpul ALL=(root) NOPASSWD: /usr/sbin/swanctl, ")
    assert "ALL" not in rule.split("NOPASSWD:")[1]


def test_strongswan_uses_userspace_esp_and_leaves_routes_to_frr() -> None:
    text = render.strongswan_conf(D)
    assert "kernel-libipsec {\n            load = yes" in text
    assert "install_routes = no" in text and "routing_table_prio = 32800" in text
    assert f"path = {D}/charon.log" in text
