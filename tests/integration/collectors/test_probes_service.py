"""Probe management, the scheduler and the CLI on SQLite and PostgreSQL, against real
loopback services: validation keyed by field, tenancy, availability, the monthly SLA
report, ``simpul collectors probes ...`` and ``alerts ...`` commands."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from collectors.cli import collectors
from collectors.probes.models import ProbeResult
from collectors.probes.scheduler import ProbeScheduler
from collectors.probes.service import (
    availability,
    create_probe,
    get_probe,
    list_probes,
    require_probe,
    update_probe,
)
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import NotFoundError, PermissionDeniedError, ValidationError
from simpul.models import User
from tests.integration.collectors.alerts_fixtures import *  # noqa: F403 (fixtures)

ACTOR = Actor.system("test")


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"Dinas Kesehatan portal\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_validation_is_keyed_by_field_and_changes_nothing(opds: AppContext) -> None:
    with opds.db.session() as s:
        with pytest.raises(ValidationError) as err:
            create_probe(s, ACTOR, name="", service="", kind="ftp", target="", port=70000,
                         interval_s=1, timeout_s=0)
        assert set(err.value.errors) == {"name", "kind", "service", "target", "port",
                                         "interval_s", "timeout_s"}
        with pytest.raises(ValidationError, match=r"dns probes need expect\.name"):
            create_probe(s, ACTOR, name="dns", service="dns", kind="dns", target="127.0.0.1")
        with pytest.raises(NotFoundError, match="unknown OPD 'NOPE'"):
            create_probe(s, ACTOR, name="x", service="web", kind="icmp", target="127.0.0.1",
                         opd="NOPE")
        probe = create_probe(s, ACTOR, name="portal", service="web", kind="http",
                             target="http://127.0.0.1/", opd="DINKES")
        with pytest.raises(ValidationError, match="target"):
            update_probe(s, ACTOR, probe, {"target": "portal.local"})
        assert probe.target == "http://127.0.0.1/"


def test_tenancy_and_editor_roles(people: AppContext) -> None:
    with people.db.session() as s:
        create_probe(s, ACTOR, name="dinkes-web", service="web", kind="icmp",
                     target="127.0.0.1", opd="DINKES")
        create_probe(s, ACTOR, name="disdik-web", service="web", kind="icmp",
                     target="127.0.0.1", opd="DISDIK")
        users = {u.username: u for u in s.scalars(select(User))}
        assert [p.name for p in list_probes(s, users["rina"])] == ["dinkes-web"]
        assert len(list_probes(s, users["desk"])) == 2  # Diskominfo staff see all
        assert get_probe(s, "disdik-web", users["rina"]) is None
        with pytest.raises(NotFoundError):
            require_probe(s, "disdik-web", users["rina"])
        with pytest.raises(PermissionDeniedError):
            create_probe(s, ACTOR, user=users["rina"], name="mine", service="web",
                         kind="icmp", target="127.0.0.1")
        with pytest.raises(PermissionDeniedError):
            create_probe(s, ACTOR, user=users["desk"], name="mine", service="web",
                         kind="icmp", target="127.0.0.1")
        create_probe(s, ACTOR, user=users["noc"], name="mine", service="web", kind="icmp",
                     target="127.0.0.1")


def test_scheduler_runs_due_probes_on_their_interval(opds: AppContext, web: str) -> None:
    with opds.db.session() as s:
        create_probe(s, ACTOR, name="portal", service="web", kind="http", target=web,
                     expect={"contains": "Kesehatan"}, interval_s=3600)
        create_probe(s, ACTOR, name="gone", service="web", kind="tcp", target="127.0.0.1",
                     port=closed_port(), interval_s=3600)
    scheduler = ProbeScheduler(opds.db)
    assert scheduler.run_due() == 2
    assert scheduler.run_due() == 0  # not due again for an hour
    with opds.db.session(write=False) as s:
        now = datetime.now(UTC)
        stats = availability(s, [require_probe(s, "portal").id, require_probe(s, "gone").id],
                             now - timedelta(minutes=1), now + timedelta(minutes=1))
        assert [(a.checks, a.up) for a in stats.values()] == [(1, 1), (1, 0)]
    scheduler.start()
    scheduler.stop()


def test_cli_add_run_list_sla_and_alerts(opds: AppContext, web: str) -> None:
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(collectors, list(args), obj={"app": opds},
                               catch_exceptions=False)
        return f"{result.exit_code}|{result.output}"

    assert cli("probes", "add", "portal", "--kind", "http", "--target", web, "--service", "web",
               "--opd", "DINKES", "--expect", '{"status": 200, "contains": "portal"}'
               ).startswith("0|probe portal added")
    port = closed_port()
    cli("probes", "add", "mailer", "--kind", "smtp", "--target", "127.0.0.1", "--port",
        str(port), "--service", "mail")
    out = cli("probes", "run")
    assert out.startswith("2|")  # exit 2: something is down
    assert "portal                   UP" in out
    assert (f"mailer                   DOWN          -  connect 127.0.0.1:{port}: "
            "Connection refused") in out
    cli("probes", "run", "mailer")
    listed = cli("probes", "list")
    assert "portal" in listed and "UP" in listed and "DOWN" in listed
    month = datetime.now(ZoneInfo(opds.settings.timezone)).strftime("%Y-%m")
    sla = cli("probes", "sla", "--month", month, "--opd", "DINKES")
    assert sla.splitlines()[1].startswith("DINKES,web,portal,http,")
    assert cli("probes", "set", "mailer", "--disabled").startswith("0|probe mailer updated")

    cli("probes", "set", "mailer", "--enabled")
    evaluated = cli("alerts", "evaluate")
    assert "1 fired" in evaluated
    alerts = cli("alerts", "list")
    assert "probe-failure" in alerts and "mailer" in alerts
    alert_id = alerts.split("|", 1)[1].split()[0]
    acked = cli("alerts", "ack", alert_id, "--note", "x")
    assert acked.startswith(f"0|alert {alert_id} acknowledged")
    assert cli("alerts", "maintenance", "add", "--scope", "service", "--target", "mail",
               "--hours", "1").startswith("0|maintenance 1: service mail")
    assert "service  mail" in cli("alerts", "maintenance", "list")
    with opds.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(ProbeResult)) == 3


def test_simpul_up_runs_the_scheduler_and_the_engine(opds: AppContext,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from collectors.alerts.services import background_services as alert_services
    from collectors.probes.services import background_services as probe_services

    assert [s.name for s in probe_services(opds)] == ["probes"]
    [engine] = alert_services(opds)
    assert engine.name == "alerts" and engine.ruleset.get("probe-failure") is not None
    engine.start()
    engine.stop()
    monkeypatch.setenv("SIMPUL_PROBES_ENABLED", "no")
    monkeypatch.setenv("SIMPUL_ALERTS_ENABLED", "no")
    assert probe_services(opds) == [] and alert_services(opds) == []


def test_demo_seeds_the_lab_probes_once(opds: AppContext) -> None:
    from collectors.probes.demo import load_demo

    with opds.db.session() as s:
        created = load_demo(s)
        assert created == ["probe lab-web-http", "probe lab-web-icmp", "probe lab-mail-smtp",
                           "probe lab-proxy-tcp", "probe lab-proxy-http"]
        assert load_demo(s) == []
        assert {p.opd.code for p in list_probes(s)} == {"DISKOMINFO"}
