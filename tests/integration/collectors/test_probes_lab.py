"""Service probes on the lab: web (nginx), mail (SMTP), proxy (tinyproxy) answer over the
management network; blocking nginx and ICMP inside the web namespace with nftables makes
the probes fail, raises probe-failure alerts with e-mail and webhook notifications, and
they resolve when the block is removed.

Run under the lab lock:
``flock /tmp/simpul-lab.lock pytest tests/integration/collectors/test_probes_lab.py``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.alerts.engine import AlertEngine
from collectors.alerts.rules import parse_rules
from collectors.alerts.settings import AlertSettings
from collectors.alerts.sources import MemorySource
from collectors.probes.seed import seed_lab_probes
from collectors.probes.service import run_probes
from simpul import migrate
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import load_settings
from simpul.tenancy import create_opd
from tests.integration.collectors.alerts_fixtures import *  # noqa: F403 (fixtures)
from tests.integration.collectors.alerts_fixtures import SmtpSink, WebhookSink
from tests.integration.lab.labhelpers import Lab

pytestmark = pytest.mark.lab
WEB_NS = "sl-web"
TABLE = "simpul_probe_test"
RULES = parse_rules({"rules": [{"name": "probe-failure", "kind": "probe_failure",
                                "severity": "high", "failures": 2}]})


@pytest.fixture
def lab_app(tmp_path: Path) -> Iterator[AppContext]:
    """One SQLite database (the lab proof needs no second backend)."""
    settings = load_settings(env={}, data_dir=str(tmp_path / "data"),
                             database_url=f"sqlite:///{tmp_path / 'simpul.db'}",
                             secret_key="test-secret-key-not-for-production")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    with db.session() as s:
        create_opd(s, Actor.system("test"), "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        seed_lab_probes(s, Actor.system("test"), interval_s=10)
    yield AppContext(settings=settings, db=db)
    db.dispose()


def nft(*script: str) -> None:
    subprocess.run(["ip", "netns", "exec", WEB_NS, "nft", "-f", "-"], check=True,
                   input="\n".join(script), text=True, capture_output=True, timeout=10)


@pytest.fixture
def web_blocker() -> Iterator[None]:
    """Yields; the test calls block()/unblock(); the table is removed whatever happens."""
    yield
    subprocess.run(["ip", "netns", "exec", WEB_NS, "nft", "delete", "table", "inet", TABLE],
                   capture_output=True, timeout=10)


def block_web() -> None:
    nft(f"table inet {TABLE} {{",
        "  chain input { type filter hook input priority 0; policy accept;",
        "    tcp dport 80 reject with tcp reset",
        "    icmp type echo-request drop",
        "  }",
        "}")


def unblock_web() -> None:
    nft(f"delete table inet {TABLE}")


def results(app: AppContext) -> dict[str, tuple[bool, str]]:
    return {p.name: (r.ok, r.detail) for p, r in run_probes(app.db)}


def test_lab_services_probe_fail_alert_and_recover(
        lab: Lab, lab_app: AppContext, alert_settings: AlertSettings, smtp_sink: SmtpSink,
        webhook_sink: WebhookSink, web_blocker: None) -> None:
    first = results(lab_app)
    assert all(ok for ok, _ in first.values()), first
    assert first["lab-web-http"][1] == "HTTP 200"
    assert first["lab-mail-smtp"][1].startswith("220 ")
    assert first["lab-proxy-http"][1] == "HTTP 200"  # through tinyproxy to web's DC address
    assert first["lab-web-icmp"][1] == "echo reply from 172.20.20.51"

    engine = AlertEngine(lab_app.db, RULES, MemorySource(), alert_settings)
    t0 = datetime.now(UTC)
    assert engine.evaluate(t0).fired == []

    block_web()
    for _ in range(2):
        down = results(lab_app)
    assert down["lab-web-http"] == (False, "connect 172.20.20.51:80: Connection refused")
    assert down["lab-web-icmp"][0] is False
    assert down["lab-proxy-http"][0] is False  # tinyproxy cannot reach nginx either
    assert down["lab-mail-smtp"][0] and down["lab-proxy-tcp"][0]
    fired = engine.evaluate(t0 + timedelta(minutes=1))
    assert len(fired.fired) == 3
    titles = sorted(n.title for n in fired.notices)
    assert titles[0].startswith("proxy probe lab-proxy-http (http http://10.10.20.10/) failing")
    assert titles[1] == ("web probe lab-web-http (http http://172.20.20.51/) failing: "
                         "connect 172.20.20.51:80: Connection refused")
    assert titles[2].startswith("web probe lab-web-icmp (icmp 172.20.20.51) failing")
    assert sorted(webhook_sink.events()) == [("firing", "probe-failure")] * 3
    assert len(smtp_sink.received) == 3

    unblock_web()
    back = results(lab_app)
    assert all(ok for ok, _ in back.values()), back
    recovered = engine.evaluate(t0 + timedelta(minutes=2))
    assert sorted(recovered.resolved) == sorted(fired.fired)
    assert sorted(webhook_sink.events()).count(("resolved", "probe-failure")) == 3
    assert any("resolved: web probe lab-web-http" in s for s in smtp_sink.subjects())
