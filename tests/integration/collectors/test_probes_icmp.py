"""ICMP probes through the unprivileged datagram socket, in a throw-away network namespace.

This host keeps the Debian default ``net.ipv4.ping_group_range = 1 0`` (nobody may open a
ping socket), so probes use the ping binary here. The setting is per network namespace:
in a new one (``unshare --net``, root) the test allows its own group, and checks that the
datagram path answers on loopback and fails fast where there is no route — without
touching the host's setting or sending anything beyond that namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent("""
    import asyncio, json, os, subprocess
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    before = __import__("collectors.probes.checks", fromlist=["x"]).icmp_dgram_allowed()
    with open("/proc/sys/net/ipv4/ping_group_range", "w") as fh:
        fh.write(f"{os.getgid()} {os.getgid()}")
    from collectors.probes.checks import ProbeSpec, icmp_dgram_allowed, run_check
    up = asyncio.run(run_check(ProbeSpec("icmp", "127.0.0.1", timeout=2)))
    down = asyncio.run(run_check(ProbeSpec("icmp", "192.0.2.1", timeout=2)))
    print(json.dumps({"before": before, "after": icmp_dgram_allowed(),
                      "up": [up.ok, up.detail, up.rtt_ms], "down": [down.ok, down.detail]}))
""")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare for a private network namespace")
def test_datagram_icmp_in_a_private_namespace() -> None:
    import json

    out = subprocess.run(["unshare", "--net", "--", sys.executable, "-c", SCRIPT],
                         capture_output=True, text=True, timeout=30, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["before"] is False and result["after"] is True
    ok, detail, rtt = result["up"]
    assert ok and detail == "echo reply from 127.0.0.1" and rtt > 0
    down_ok, down_detail = result["down"]
    assert not down_ok and down_detail == "echo to 192.0.2.1: Network is unreachable"
