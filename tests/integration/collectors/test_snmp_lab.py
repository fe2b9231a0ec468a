"""The SNMP poller on the province lab: iperf3 bandwidth within 5 %, link cut and restore.

Runs under ``flock /tmp/simpul-lab.lock``. Traffic goes from OPD host ha1 to the web
server (ha1 -> acc-a -> dist-a -> core -> dc-sw -> web) inside the lab's namespaces; the
poller reads the lab's snmpd over the management bridge, like it would real devices.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.snmp import queries
from collectors.snmp.service import poll_once
from collectors.snmp.settings import load_snmp_settings
from inventory.models import Device
from simpul import migrate
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.settings import load_settings
from tests.integration.lab.labhelpers import REPO, Lab, in_ns, wait_until
from tests.integration.lab.labrouting import DC_SERVERS, apply_routing, ping, reachability

pytestmark = pytest.mark.lab

POLLED = ("acc-a", "dc-sw", "web", "dist-a")
RATE_BPS = 80_000_000
SECONDS = 20
INTERVAL = 5.0


@pytest.fixture(scope="module")
def snmp_routed(lab: Lab) -> Lab:
    """The lab with the known-good routing applied (once per session)."""
    if not lab.routed:
        apply_routing()
        assert wait_until(lambda: all(reachability().values()), 60, interval=1)
        lab.routed = True
    return lab


@pytest.fixture(scope="module")
def snmp_lab_app(snmp_routed: Lab) -> Iterator[AppContext]:
    """A SQLite database with the lab's inventory and the lab's SNMP credentials (v3)."""
    from inventory.importer import import_file

    env = {"SIMPUL_SNMP_VERSION": "3", "SIMPUL_SNMP_V3_USER": "simpul",
           "SIMPUL_SNMP_V3_AUTH_KEY": "simpul-lab-auth",
           "SIMPUL_SNMP_V3_PRIV_KEY": "simpul-lab-priv", "SIMPUL_SNMP_TIMEOUT": "1.5",
           "SIMPUL_SNMP_RETRIES": "1", "SIMPUL_SNMP_INTERVAL": str(INTERVAL)}
    mp = pytest.MonkeyPatch()
    for key, value in env.items():
        mp.setenv(key, value)
    tmp = Path(tempfile.mkdtemp(prefix="simpul-snmp-lab-"))
    settings = load_settings(env={}, data_dir=str(tmp), database_url=f"sqlite:///{tmp}/s.db",
                             secret_key="test-secret-key-not-for-production")
    app = AppContext.create(settings)
    migrate.upgrade(app.db)
    with app.db.session() as s:
        import_file(s, Actor.system("test"), REPO / "inventory" / "lab" / "province.yml")
    try:
        yield app
    finally:
        app.db.dispose()
        mp.undo()
        shutil.rmtree(tmp, ignore_errors=True)


def _ids(app: AppContext, names: tuple[str, ...]) -> list[int]:
    with app.db.session(write=False) as s:
        return [d.id for d in s.query(Device).filter(Device.name.in_(names))]


class Poller(threading.Thread):
    """Poll some lab devices every INTERVAL seconds until stopped (like the service)."""

    def __init__(self, app: AppContext, device_ids: list[int]) -> None:
        super().__init__(daemon=True)
        self.app, self.device_ids = app, device_ids
        self.stop_event = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        settings = load_snmp_settings()
        while not self.stop_event.is_set():
            started = time.monotonic()
            report = poll_once(self.app, settings, device_ids=self.device_ids, with_lldp=False)
            self.errors += [f"{r.target.name}: {r.error}" for r in report.results if not r.ok]
            self.stop_event.wait(max(0.0, INTERVAL - (time.monotonic() - started)))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(INTERVAL + 10)


def _mean_rate(app: AppContext, device: str, ifname: str, direction: str, lo: float,
               hi: float) -> tuple[float, int]:
    """Time-weighted mean rate of the samples whose whole interval lies in [lo, hi]."""
    with app.db.session(write=False) as s:
        iface = queries.find_interface(s, device, ifname)
        assert iface is not None, f"{device}:{ifname} not polled"
        pts = queries.interface_series(s, iface.snmp_interface_id, lo, hi + 60, "raw")
    from collectors.snmp.models import SnmpInterfaceSample
    with app.db.session(write=False) as s:
        rows = {r.ts: r.interval_s for r in s.query(SnmpInterfaceSample).filter_by(
            snmp_interface_id=iface.snmp_interface_id)}
    inside = [(p, rows[int(p.ts.timestamp())]) for p in pts
              if p.ts.timestamp() - rows[int(p.ts.timestamp())] >= lo
              and p.ts.timestamp() <= hi]
    total = sum(iv for _p, iv in inside)
    value = sum(getattr(p, f"{direction}_bps") * iv for p, iv in inside) / total if total else 0.0
    return value, len(inside)


def test_iperf3_bandwidth_appears_within_5_percent(snmp_lab_app: AppContext) -> None:
    app = snmp_lab_app
    web = DC_SERVERS["web"]
    assert ping("ha1", web)
    poller = Poller(app, _ids(app, POLLED))
    server = subprocess.Popen(["ip", "netns", "exec", "sl-web", "iperf3", "-s", "-1", "-B", web],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        poller.start()
        time.sleep(INTERVAL * 1.5)  # a baseline poll of every device
        started = time.time()
        proc = in_ns("ha1", "iperf3", "-c", web, "-t", str(SECONDS), "-b", str(RATE_BPS), "-J",
                     "--connect-timeout", "2000", timeout=SECONDS + 30)
        ended = time.time()
        time.sleep(INTERVAL * 1.5)
    finally:
        poller.stop()
        if server.poll() is None:
            server.terminate()
            server.wait(5)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["end"]
    iperf_bps = result["sum_received"]["bits_per_second"]
    assert iperf_bps == pytest.approx(RATE_BPS, rel=0.05)
    # A loaded CI host may make one cycle miss its deadline; more would be a fault.
    assert len(poller.errors) <= len(POLLED), poller.errors
    # Skip the first second (TCP slow start) and compare where traffic was steady.
    lo, hi = started + 1.0, ended
    checks = {("acc-a", "eth1", "out"), ("web", "eth1", "in"), ("dc-sw", "eth3", "out")}
    for device, ifname, direction in sorted(checks):
        measured, samples = _mean_rate(app, device, ifname, direction, lo, hi)
        print(f"{device}:{ifname} {direction}: {measured / 1e6:.2f} Mb/s over {samples} samples,"
              f" iperf3 {iperf_bps / 1e6:.2f} Mb/s ({100 * (measured / iperf_bps - 1):+.2f} %)")
        assert samples >= 2, f"{device}:{ifname}: only {samples} samples inside the run"
        assert measured == pytest.approx(iperf_bps, rel=0.05), (
            f"{device}:{ifname} {direction} {measured / 1e6:.2f} Mb/s vs iperf3 "
            f"{iperf_bps / 1e6:.2f} Mb/s")
    # The wrong interfaces stayed quiet (the other access port, the other direction).
    quiet, _n = _mean_rate(app, "acc-a", "eth3", "out", lo, hi)
    assert quiet < 0.01 * iperf_bps


def test_link_cut_is_seen_within_one_poll_cycle_and_clears(snmp_lab_app: AppContext) -> None:
    app = snmp_lab_app
    ids = _ids(app, ("acc-a",))
    poll_once(app, device_ids=ids, with_lldp=False)
    with app.db.session(write=False) as s:
        before = queries.find_interface(s, "acc-a", "eth1")
        assert before is not None and before.oper_status == "up"
        last_id = max([c.id for c in queries.list_status_changes(s, 0)], default=0)
    cut_at = time.time()
    assert in_ns("acc-a", "ip", "link", "set", "eth1", "down").returncode == 0
    try:
        # The very next poll (one cycle) must show it.
        time.sleep(INTERVAL)
        poll_once(app, device_ids=ids, with_lldp=False)
        with app.db.session(write=False) as s:
            down = queries.list_status_changes(s, cut_at, after_id=last_id)
            assert [(c.device_name, c.interface_name, c.old_status, c.new_status)
                    for c in down] == [("acc-a", "eth1", "up", "down")]
            assert down[0].at.timestamp() - cut_at <= INTERVAL + 3
            now = queries.find_interface(s, "acc-a", "eth1")
            assert now is not None and now.oper_status == "down" and now.admin_status == "down"
    finally:
        in_ns("acc-a", "ip", "link", "set", "eth1", "up")
    restored_at = time.time()
    time.sleep(INTERVAL)
    poll_once(app, device_ids=ids, with_lldp=False)
    with app.db.session(write=False) as s:
        up = queries.list_status_changes(s, restored_at)
        assert [(c.old_status, c.new_status) for c in up] == [("down", "up")]
        now = queries.find_interface(s, "acc-a", "eth1")
        assert now is not None and now.oper_status == "up"


def test_lldp_neighbours_and_host_resources_from_the_lab(snmp_lab_app: AppContext) -> None:
    app = snmp_lab_app
    ids = _ids(app, ("core1", "web"))
    assert wait_until(lambda: _core1_neighbours(app, ids) >= {"core2", "dist-a", "dc-sw"}, 40,
                      interval=2)
    with app.db.session(write=False) as s:
        links = queries.list_topology_links(s)
    assert links and all(link.a_device_id != link.b_device_id for link in links)
    # net-snmp reports CPU load only after it has sampled /proc/stat for a while.
    assert wait_until(lambda: _web_host(app, ids).cpu_pct is not None, 70, interval=5), (
        in_ns("web", "snmpwalk", "-v2c", "-c", "simpul-lab", "172.20.20.51",
              "1.3.6.1.4.1.2021.11").stdout)
    web = _web_host(app, ids)
    assert web.cpu_pct is not None and 0 <= web.cpu_pct <= 100
    assert web.mem_pct is not None and 0 < web.mem_pct < 100
    assert web.disk_max_pct is not None


def _core1_neighbours(app: AppContext, ids: list[int]) -> set[str]:
    poll_once(app, device_ids=ids, with_lldp=True)
    with app.db.session(write=False) as s:
        core1 = s.query(Device).filter_by(name="core1").one()
        return {n.remote_sys_name for n in queries.list_lldp_neighbours(s, core1.id)
                if n.remote_device_id is not None}


def _web_host(app: AppContext, ids: list[int]) -> queries.HostResources:
    poll_once(app, device_ids=ids, with_lldp=False)
    with app.db.session(write=False) as s:
        return {h.device_name: h for h in queries.list_host_resources(s)}["web"]
