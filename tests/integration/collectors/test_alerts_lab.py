"""The alert engine on the province lab: an OPD over its allocation, a cut link.

Runs under ``flock /tmp/simpul-lab.lock``. Everything is the real thing: the inventory is
imported from ``labs/province/province.clab.yml`` (as ``simpul inventory import`` does),
the SNMP poller reads the lab's snmpd (v2c) over the management bridge, the alert engine
is built as ``simpul up`` builds it (``SIMPUL_ALERT_RULES``, ``SIMPUL_ALERT_WEBHOOK_URLS``)
and evaluated once per poll, like its background loop does. Notifications go to a webhook
receiver on loopback; alert changes land in the SIEM's own table.

A cut cable is simulated at the far end (``ip link set eth3 down`` on dist-a): the near
device, acc-a, sees its eth1 lose carrier while still administratively up — the
``interface_down`` rule's condition. The far end is admin-down, which the rule treats as
intended, so exactly one alert must fire.

net-snmp refreshes its interface table (counters and status) about every 3 s, so a poll
may read values up to 3 s old: the 4-s cycle here is the shortest for which "seen by the
next poll" always holds, and the traffic checks allow for that granularity.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.alerts.engine import AlertEngine, EvalReport
from collectors.alerts.models import Alert
from collectors.alerts.services import build_engine
from collectors.snmp import queries
from collectors.snmp.service import poll_once
from inventory.ipam.utilisation import create_bandwidth_allocation
from inventory.models import Device
from siem.models import SiemEvent
from simpul import migrate
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.models import Opd
from simpul.settings import load_settings
from tests.integration.collectors.alerts_fixtures import WebhookSink
from tests.integration.lab.labhelpers import REPO, Lab, in_ns, wait_until
from tests.integration.lab.labrouting import DC_SERVERS, apply_routing, ping, reachability

pytestmark = pytest.mark.lab

INTERVAL = 4.0          # seconds between polls (one "poll cycle")
ALLOCATION_MBPS = 10    # DISDIK's committed bandwidth for the test
RATE_BPS = 30_000_000   # what ha1 (DISDIK) sends: three times its allocation
SECONDS = 14            # iperf3 duration: covers three polls

RULES = """
[[rules]]
name = "interface-down"
kind = "interface_down"
severity = "high"
for_s = 0

[[rules]]
name = "opd-over-allocation"
kind = "opd_bandwidth"
severity = "medium"
for_s = 3               # must hold over two polls: one breaching poll only makes it pending
tolerance_pct = 0
"""


@dataclass
class AlertLab:
    """The database, the engine and the webhook receiver of these tests."""

    app: AppContext
    engine: AlertEngine
    hook: WebhookSink

    def ids(self, *names: str) -> list[int]:
        with self.app.db.session(write=False) as s:
            return list(s.scalars(select(Device.id).where(Device.name.in_(names))))

    def cycle(self, ids: list[int]) -> EvalReport:
        """One poll cycle of *ids* (stored), then one evaluation of every rule."""
        report = poll_once(self.app, device_ids=ids, with_lldp=False)
        assert all(r.ok for r in report.results), [(r.target.name, r.error)
                                                   for r in report.results if not r.ok]
        return self.engine.evaluate()

    def open_alerts(self, rule: str) -> dict[str, Alert]:
        with self.app.db.session(write=False) as s:
            rows = s.scalars(select(Alert).where(Alert.rule == rule,
                                                 Alert.state != "resolved")).unique().all()
            for a in rows:
                _ = a.opd  # loaded while the session is open
            return {a.entity: a for a in rows}

    def alert(self, alert_id: int) -> Alert:
        with self.app.db.session(write=False) as s:
            alert = s.get(Alert, alert_id)
            assert alert is not None
            _ = alert.opd
            return alert

    def hooks(self, entity: str) -> list[str]:
        return [p["body"]["event"] for p in self.hook.posts if p["body"]["entity"] == entity]

    def siem_messages(self) -> list[str]:
        with self.app.db.session(write=False) as s:
            return [f"{e.message} {e.raw}" for e in s.scalars(
                select(SiemEvent).where(SiemEvent.dataset == "simpul.alert"))]


@pytest.fixture(scope="module")
def alerts_lab(lab: Lab) -> Iterator[AlertLab]:
    """The routed lab, its inventory in a fresh SQLite database, the engine as configured."""
    from inventory.importer import import_file

    if not lab.routed:
        apply_routing()
        reached = wait_until(lambda: all(reachability().values()), 60, interval=1)
        assert reached, [pair for pair, ok in reachability().items() if not ok]
        lab.routed = True
    tmp = Path(tempfile.mkdtemp(prefix="simpul-alerts-lab-"))
    hook = WebhookSink()
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    rules = tmp / "rules.toml"
    rules.write_text(RULES)
    mp = pytest.MonkeyPatch()
    for key, value in {"SIMPUL_SNMP_VERSION": "2c", "SIMPUL_SNMP_COMMUNITY": "simpul-lab",
                       "SIMPUL_SNMP_TIMEOUT": "1.5", "SIMPUL_SNMP_RETRIES": "1",
                       "SIMPUL_SNMP_INTERVAL": str(INTERVAL),
                       "SIMPUL_ALERT_RULES": str(rules), "SIMPUL_ALERT_INTERVAL": str(INTERVAL),
                       "SIMPUL_ALERT_WEBHOOK_URLS": hook.url, "SIMPUL_ALERT_SIEM": "yes"}.items():
        mp.setenv(key, value)
    settings = load_settings(env={}, data_dir=str(tmp), database_url=f"sqlite:///{tmp}/s.db",
                             secret_key="test-secret-key-not-for-production")
    app = AppContext.create(settings)
    try:
        migrate.upgrade(app.db)
        with app.db.session() as s:
            import_file(s, Actor.system("test"), REPO / "labs" / "province" / "province.clab.yml")
        yield AlertLab(app, build_engine(app), hook)
    finally:
        hook.shutdown()
        hook.server_close()
        app.db.dispose()
        mp.undo()
        shutil.rmtree(tmp, ignore_errors=True)


def test_opd_above_its_allocation_raises_an_alert_and_resolves(alerts_lab: AlertLab) -> None:
    lab = alerts_lab
    with lab.app.db.session() as s:
        disdik = s.scalars(select(Opd).where(Opd.code == "DISDIK")).one()
        create_bandwidth_allocation(s, Actor.system("test"), opd_id=disdik.id, users=2,
                                    committed_mbps=ALLOCATION_MBPS)
    ids = lab.ids("acc-a")  # DISDIK's uplink acc-a:eth1 is its one boundary interface
    web = DC_SERVERS["web"]
    assert wait_until(lambda: ping("ha1", web), 60, interval=1), "ha1 cannot reach web"
    lab.cycle(ids)  # baseline counters
    report = lab.cycle(ids)  # a quiet interval: observed, not breached
    assert not lab.open_alerts("opd-over-allocation") and not report.fired

    server = subprocess.Popen(["ip", "netns", "exec", "sl-web", "iperf3", "-s", "-1", "-B", web],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    client: subprocess.Popen[str] | None = None
    try:
        time.sleep(0.5)  # the server listening
        client = subprocess.Popen(
            ["ip", "netns", "exec", "sl-ha1", "iperf3", "-c", web, "-t", str(SECONDS), "-b",
             str(RATE_BPS), "--connect-timeout", "2000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        time.sleep(INTERVAL)
        poll_once(lab.app, device_ids=ids, with_lldp=False)  # counters inside the run
        time.sleep(INTERVAL)
        first = lab.cycle(ids)  # breaching, but for_s = 3 s has not passed yet
        assert not first.fired, "fired before the rule's for_s"
        assert lab.open_alerts("opd-over-allocation") == {}
        time.sleep(INTERVAL)
        second = lab.cycle(ids)
        fired = lab.open_alerts("opd-over-allocation")
        assert list(fired) == ["opd:DISDIK"], fired
        alert = fired["opd:DISDIK"]
        assert second.fired == [alert.id] and alert.state == "firing"
        assert alert.opd is not None and alert.opd.code == "DISDIK"
        # "DISDIK uses 29.9 Mbps of its 10 Mbps allocation (299%)"
        match = re.fullmatch(r"DISDIK uses ([\d.]+) Mbps of its (\d+) Mbps allocation "
                             r"\((\d+)%\)", alert.title)
        assert match, alert.title
        seen_mbps = float(match.group(1))
        assert int(match.group(2)) == ALLOCATION_MBPS
        # The figure is what the poller measured on DISDIK's boundary interface ...
        with lab.app.db.session(write=False) as s:
            uplink = queries.find_interface(s, "acc-a", "eth1")
            assert uplink is not None and uplink.out_bps is not None
        assert seen_mbps == pytest.approx(uplink.out_bps / 1e6, rel=0.01), alert.title
        # ... and that is iperf3's traffic. net-snmp refreshes its interface counters about
        # every 3 s, so one 4-s sample holds one or two refreshes: 0.6-1.7 x the true
        # rate (test_snmp_lab.py checks 5 % over longer runs).
        assert 0.5 * RATE_BPS < uplink.out_bps < 2.0 * RATE_BPS, alert.title
        assert alert.value == pytest.approx(100 * seen_mbps / ALLOCATION_MBPS, rel=0.02)
        assert "SNMP" in alert.details
        output, _ = client.communicate(timeout=SECONDS + 20)
        assert client.returncode == 0, output
    finally:
        for proc in (client, server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(5)
    assert lab.hooks("opd:DISDIK") == ["firing"]

    # Traffic over: it resolves at the latest with the first wholly quiet interval (the
    # one before may already be below the allocation, as it holds only the run's tail).
    # Wait out snmpd's counter cache first, so that quiet interval is really quiet.
    time.sleep(3.5)
    after = [lab.cycle(ids)]
    time.sleep(INTERVAL)
    after.append(lab.cycle(ids))
    with lab.app.db.session(write=False) as s:
        quiet = queries.find_interface(s, "acc-a", "eth1")
        assert quiet is not None and (quiet.out_bps or 0) < 1e6
    assert [i for r in after for i in r.resolved] == [alert.id], after
    done = lab.alert(alert.id)
    assert done.state == "resolved" and done.resolved_by == "auto"
    assert lab.hooks("opd:DISDIK") == ["firing", "resolved"]
    assert sum(r.siem_events for r in after) == 1
    assert sum("DISDIK" in m for m in lab.siem_messages()) >= 2


def test_link_cut_raises_interface_down_within_one_cycle_and_clears(alerts_lab: AlertLab
                                                                     ) -> None:
    lab = alerts_lab
    ids = lab.ids("acc-a", "dist-a")
    assert len(ids) == 2
    lab.cycle(ids)
    assert not lab.open_alerts("interface-down"), "an interface was down before the cut"

    cut_at = time.time()
    assert in_ns("dist-a", "ip", "link", "set", "eth3", "down").returncode == 0
    try:
        time.sleep(INTERVAL)
        report = lab.cycle(ids)  # the very next cycle
        down = lab.open_alerts("interface-down")
        assert list(down) == ["acc-a:eth1"], list(down)  # not dist-a:eth3: admin-down there
        alert = down["acc-a:eth1"]
        assert report.fired == [alert.id]
        fired_at = alert.fired_at.replace(tzinfo=alert.fired_at.tzinfo or UTC)  # SQLite: naive
        assert fired_at.timestamp() - cut_at <= INTERVAL + 3  # one cycle (+ poll time)
        assert (alert.device, alert.state, alert.severity) == ("acc-a", "firing", "high")
        assert alert.title.startswith("acc-a eth1") and alert.title.endswith("is down")
        assert alert.opd is not None and alert.opd.code == "DISDIK"
        assert lab.hooks("acc-a:eth1") == ["firing"]
        siem_on_fire = report.siem_events
    finally:
        in_ns("dist-a", "ip", "link", "set", "eth3", "up")

    # veth carrier returns at once; the next cycle resolves the alert.
    assert wait_until(lambda: "LOWER_UP" in in_ns("acc-a", "ip", "link", "show", "eth1").stdout,
                      10, interval=0.2)
    time.sleep(INTERVAL)
    report = lab.cycle(ids)
    assert report.resolved == [alert.id]
    assert not lab.open_alerts("interface-down")
    done = lab.alert(alert.id)
    assert done.state == "resolved" and done.resolved_by == "auto"
    assert lab.hooks("acc-a:eth1") == ["firing", "resolved"]
    # Both changes were handed to the SIEM (dataset simpul.alert).
    assert siem_on_fire == 1 and report.siem_events == 1
    assert sum("acc-a" in m and "eth1" in m for m in lab.siem_messages()) >= 2

