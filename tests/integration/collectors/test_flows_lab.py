"""Flows and traps from the province lab: real softflowd, iperf3 and snmptrap.

iperf3 runs from an OPD host (ha1, DISDIK's LAN) to the simulated internet through the
edge. Two exporters see it: the lab's own softflowds on the edge's two core-facing
interfaces (NetFlow v9, before the NAT), whose flows carry the OPD host's address and
are attributed to DISDIK through the inventory's prefixes, and a softflowd this test
starts on the edge's outside interface (IPFIX, after the NAT, so the source is the
edge's address 100.64.0.0). Traps are sent with net-snmp's snmptrap from inside core1.

Run under ``flock /tmp/simpul-lab.lock`` (the lab is shared by every helper).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.flows import queries
from collectors.flows.collector import FlowCollector
from collectors.flows.models import TrapEvent
from collectors.flows.settings import FlowSettings, load_trap_settings
from collectors.flows.traps import TrapReceiver
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from simpul.settings import load_settings
from tests.integration.collectors.flows_fixtures import COMMUNITY, V3, send_trap, wait_for
from tests.integration.lab.labhelpers import REPO, Lab, in_ns, wait_until
from tests.integration.lab.labrouting import apply_routing, reachability

pytestmark = pytest.mark.lab

GATEWAY = "172.20.20.1"
INTERNET = "100.100.100.100"
LAB_STATE = Path(os.environ.get("SIMPUL_LAB_STATE_DIR", "/run/simpul-lab"))


@pytest.fixture(scope="module")
def flows_routed(lab: Lab) -> Lab:
    """The lab with the known-good routing applied (once per session)."""
    if not lab.routed:
        apply_routing()
        assert wait_until(lambda: all(reachability().values()), 40, interval=1)
        lab.routed = True
    return lab


@pytest.fixture(scope="module")
def lab_db() -> Iterator[Database]:
    """A SQLite database holding the lab's inventory (OPDs, sites, prefixes, devices)."""
    from inventory.importer import import_file

    tmp = Path(tempfile.mkdtemp(prefix="simpul-flows-lab-"))
    settings = load_settings(env={}, data_dir=str(tmp), database_url=f"sqlite:///{tmp}/s.db",
                             secret_key="test-secret-key-not-for-production")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    with db.session() as s:
        import_file(s, Actor.system("test"), REPO / "inventory" / "lab" / "province.yml")
    yield db
    db.dispose()
    for path in sorted(tmp.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    tmp.rmdir()


def _host_address(node: str) -> str:
    out = in_ns(node, "ip", "-4", "-o", "addr", "show").stdout
    for line in out.splitlines():
        addr = line.split()[3].split("/")[0]
        if addr.startswith("10."):
            return addr
    raise AssertionError(f"{node} has no 10.x address: {out}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_iperf3_through_the_edge_shows_as_top_talkers_with_opd(flows_routed: Lab,
                                                                lab_db: Database) -> None:
    collector = FlowCollector(lab_db, FlowSettings(hosts=(GATEWAY,), port=2055, flush_s=0.5))
    collector.start()
    work = Path(tempfile.mkdtemp(prefix="simpul-softflowd-"))
    exporters: list[subprocess.Popen[bytes]] = []
    server = None
    try:
        # the edge's outside interface, after the NAT (the lab watches eth1/eth2, before)
        exporters.append(subprocess.Popen(
            ["ip", "netns", "exec", "sl-edge", "softflowd", "-d", "-i", "eth3", "-v", "10",
             "-n", f"{GATEWAY}:2055", "-p", str(work / "eth3.pid"),
             "-c", str(work / "eth3.ctl"), "-t", "maxlife=60"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        assert wait_for(lambda: (work / "eth3.ctl").exists())
        host = _host_address("ha1")
        server = subprocess.Popen(
            ["ip", "netns", "exec", "sl-internet", "iperf3", "-s", "-1", "-B", INTERNET],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        result = None
        for _ in range(20):
            # 50 Mbit/s: softflowd's pcap capture keeps up even on a busy host (unlimited
            # iperf3 runs at several Gbit/s on veths and softflowd misses packets).
            proc = in_ns("ha1", "iperf3", "-c", INTERNET, "-t", "3", "-b", "50M", "-J",
                         "--connect-timeout", "1000", timeout=40)
            result = json.loads(proc.stdout or "{}")
            if proc.returncode == 0 and "error" not in result:
                break
            time.sleep(0.2)
        assert result and "error" not in result, result
        sent = int(result["end"]["sum_sent"]["bytes"])
        # Make every softflowd export now instead of at its next timeout.
        edge = LAB_STATE / "nodes" / "edge"
        for ctl in [work / "eth3.ctl", edge / "softflowd-eth1.ctl",
                    edge / "softflowd-eth2.ctl"]:
            subprocess.run(["softflowctl", "-c", str(ctl), "expire-all"], capture_output=True,
                           timeout=10)
        until = datetime.now(UTC) + timedelta(minutes=2)
        since = until - timedelta(minutes=10)

        def seen(address: str) -> int:
            collector.flush()
            with lab_db.session(write=False) as s:
                rows = queries.top_talkers(s, by="source", since=since, until=until, limit=50)
            return next((t.bytes for t in rows if t.key == address), 0)

        # Flow bytes count IP and TCP headers (a few % above iperf3's payload bytes); a
        # capture on a loaded host may miss a packet now and then, hence the 5 % below.
        low, high = sent * 0.95, sent * 1.08
        assert wait_for(lambda: seen(host) >= low, timeout=30), (seen(host), sent)
        assert wait_for(lambda: seen("100.64.0.0") >= low, timeout=30), (seen("100.64.0.0"),
                                                                          sent)
        with lab_db.session(write=False) as s:
            src = {t.key: t for t in queries.top_talkers(s, by="source", since=since,
                                                          until=until, limit=50)}
            dst = {t.key: t for t in queries.top_talkers(s, by="destination", since=since,
                                                          until=until, limit=50)}
            svc = {t.key: t for t in queries.top_talkers(s, by="service", since=since,
                                                          until=until, limit=50)}
            conv = [t.key for t in queries.top_talkers(s, by="conversation", since=since,
                                                        until=until, limit=5)]
            opd = {r.opd_code: r for r in queries.opd_traffic(s, since=since, until=until)}
        assert low <= src[host].bytes <= high
        assert src[host].opd_code == "DISDIK"
        assert low <= src["100.64.0.0"].bytes <= high  # the NATed view (IPFIX exporter)
        assert dst[INTERNET].bytes >= 2 * low  # seen by both exporters
        assert svc["tcp/5201"].bytes >= 2 * low
        assert f"{host}>{INTERNET}" in conv
        assert opd["DISDIK"].bytes_out >= low
        assert collector.stats.malformed == 0
        with lab_db.session(write=False) as s:
            versions = {e.address: e for e in queries.list_exporters(s)}
        assert versions["172.20.20.41"].records > 0
    finally:
        if server is not None:
            _stop(server)
        for proc in exporters:
            _stop(proc)
        collector.stop()
        for path in work.iterdir():
            path.unlink()
        work.rmdir()


def test_traps_from_a_lab_router_name_the_device(flows_routed: Lab, lab_db: Database) -> None:
    receiver = TrapReceiver(lab_db, load_trap_settings({
        "SIMPUL_TRAP_HOSTS": GATEWAY, "SIMPUL_TRAP_PORT": "0",
        "SIMPUL_TRAP_COMMUNITIES": COMMUNITY, "SIMPUL_TRAP_V3_USER": V3[0],
        "SIMPUL_TRAP_V3_AUTH_KEY": V3[1], "SIMPUL_TRAP_V3_PRIV_KEY": V3[2]}))
    receiver.start()
    try:
        port = receiver.addresses[0][1]
        inside = ["ip", "netns", "exec", "sl-core1"]
        send_trap(port, ["1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.2", "i", "2"],
                  host=GATEWAY, clientaddr=None, prefix=inside)
        send_trap(port, ["1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.2", "i", "2"],
                  version="3", host=GATEWAY, clientaddr=None, prefix=inside,
                  engine_id="0x80001f88804c616231")

        def events() -> list[TrapEvent]:
            with lab_db.session(write=False) as s:
                return list(s.scalars(select(TrapEvent).order_by(TrapEvent.id)))

        assert wait_for(lambda: len(events()) == 2)
        got = events()
        assert [(e.trap, e.version, e.device_name, e.source_addr, e.if_index) for e in got] == [
            ("linkDown", "v2c", "core1", "172.20.20.11", 2),
            ("linkUp", "v3", "core1", "172.20.20.11", 2)]
    finally:
        receiver.stop()
