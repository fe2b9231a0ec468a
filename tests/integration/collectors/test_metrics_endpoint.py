"""/metrics: Prometheus exposition of polled values, behind a token or an allow-list."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from collectors.snmp.service import poll_once
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tokens import create_token
from simpul.users import create_user
from tests.integration.collectors.conftest import (
    SNMP_COMMUNITY,
    SnmpAgent,
    load_snmp_inventory,
    wait_for_fresh_counters,
)
from webui import create_app

TOKEN = "metrics-scrape-token-0123456789"


@pytest.fixture(scope="module")
def metrics_env(snmp_agents: list[SnmpAgent],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    """Once per module: an inventory on SQLite, polled twice, with a NOC user.

    (The store and queries are tested on both databases elsewhere.)
    """
    from simpul import migrate
    from simpul.db import Database
    from simpul.settings import load_settings

    tmp = tmp_path_factory.mktemp("metrics")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"SIMPUL_SNMP_PORT": str(snmp_agents[0].port),
                           "SIMPUL_SNMP_COMMUNITY": SNMP_COMMUNITY,
                           "SIMPUL_SNMP_TIMEOUT": "1.0", "SIMPUL_SNMP_RETRIES": "0",
                           "SIMPUL_METRICS_TOKEN": TOKEN,
                           "SIMPUL_METRICS_ALLOW": "192.0.2.0/28"}.items():
            mp.setenv(key, value)
        settings = load_settings(env={}, data_dir=str(tmp / "data"),
                                 database_url=f"sqlite:///{tmp / 'm.db'}",
                                 secret_key="test-secret-key-not-for-production")
        app_context = AppContext(settings=settings, db=Database.from_settings(settings))
        migrate.upgrade(app_context.db)
        load_snmp_inventory(app_context.db, snmp_agents)
        with app_context.db.session() as s:
            create_user(s, Actor.system("test"), "noc1", role="noc", opd_code="DISKOMINFO",
                        password="noc-password-123")
        poll_once(app_context)
        wait_for_fresh_counters()
        poll_once(app_context)
        yield app_context
        app_context.db.dispose()


@pytest.fixture
def metrics_client(metrics_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("SIMPUL_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("SIMPUL_METRICS_ALLOW", "192.0.2.0/28")
    return create_app({"TESTING": True}, context=metrics_env).test_client()


def _families(body: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def _one(fam: dict[tuple[tuple[str, str], ...], float], **labels: str) -> float:
    found = [v for k, v in fam.items() if all((lk, lv) in k for lk, lv in labels.items())]
    assert len(found) == 1, (labels, fam)
    return found[0]


def test_scrape_needs_token_allow_list_or_login(metrics_client: FlaskClient,
                                                metrics_env: AppContext) -> None:
    app_context = metrics_env
    assert metrics_client.get("/metrics").status_code == 401
    wrong = metrics_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    ok = metrics_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.content_type.startswith("text/plain")
    allowed = metrics_client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.5"})
    assert allowed.status_code == 200
    outside = metrics_client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert outside.status_code == 401
    with app_context.db.session() as s:
        key = create_token(s, Actor.system("test"), "noc1").key
    assert metrics_client.get("/metrics",
                              headers={"Authorization": f"Token {key}"}).status_code == 200


def test_exposition_carries_polled_values(metrics_client: FlaskClient,
                                          snmp_agents: list[SnmpAgent]) -> None:
    body = metrics_client.get("/metrics",
                              headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    fams = _families(body)
    assert _one(fams["simpul_snmp_device_up"], device="agent1") == 1.0, _status(metrics_client)
    assert _one(fams["simpul_snmp_device_up"], device="dead1") == 0.0
    assert _one(fams["simpul_snmp_device_consecutive_failures"], device="dead1") == 2.0
    assert _one(fams["simpul_snmp_poll_duration_seconds"], device="agent2") > 0
    assert _one(fams["simpul_interface_oper_up"], device="agent1", ifname="lo") == 1.0
    assert _one(fams["simpul_interface_in_bps"], device="agent1", ifname="lo") > 0
    octets = _one(fams["simpul_interface_in_octets_total"], device="agent1", ifname="lo")
    # The agent's own counter now is at least what we exported (it only grows).
    agent = snmp_agents[0]
    out = subprocess.run(["snmpget", "-v2c", "-c", SNMP_COMMUNITY, "-Oqv",
                          f"{agent.address}:{agent.port}", "1.3.6.1.2.1.31.1.1.1.6.1"],
                         capture_output=True, text=True, check=True).stdout
    assert 0 < octets <= int(out.strip())
    assert 0 < _one(fams["simpul_host_memory_used_percent"], device="agent3") < 100


def _status(client: FlaskClient) -> str:
    from collectors.snmp.queries import list_device_reachability
    from webui.extensions import app_context as ctx

    with client.application.app_context(), ctx().db.session(write=False) as s:
        return repr(list_device_reachability(s))


def test_grafana_dashboard_uses_only_exposed_metrics(metrics_client: FlaskClient) -> None:
    import json
    import re
    from pathlib import Path

    body = metrics_client.get("/metrics",
                              headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    exposed = set(re.findall(r"^# TYPE (\S+) (\w+)", body, re.M))
    names = {n for n, _t in exposed} | {f"{n}_total" for n, t in exposed if t == "counter"}
    dashboard = Path(__file__).resolve().parents[3] / "collectors" / "grafana" / \
        "simpul-dashboard.json"
    doc = json.loads(dashboard.read_text())
    used = set(re.findall(r"\bsimpul_[a-z_]+", json.dumps(doc["panels"]) +
                          json.dumps(doc["templating"])))
    assert used and used <= names, used - names
