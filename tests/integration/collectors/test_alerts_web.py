"""Alerts, maintenance and probes over HTTP: API and pages, roles, OPD tenancy, CSRF,
OpenAPI, and the SLA report downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from collectors.alerts.models import Alert
from collectors.probes.models import Probe, ProbeResult
from siem.models import SiemEvent
from simpul.context import AppContext
from simpul.tenancy import require_opd
from tests.integration.collectors.alerts_fixtures import *  # noqa: F403 (fixtures)
from tests.integration.collectors.alerts_fixtures import PASSWORD

NOW = datetime.now(UTC).replace(microsecond=0)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def _alerts(app: AppContext) -> dict[str, int]:
    """One open alert for DINKES, one for DISDIK, one resolved for DINKES."""
    out = {}
    with app.db.session() as s:
        for key, opd, state in (("dinkes", "DINKES", "firing"), ("disdik", "DISDIK", "firing"),
                                ("old", "DINKES", "resolved")):
            alert = Alert(rule="probe-failure", kind="probe_failure", dedup_key=f"k|{key}",
                          entity=f"probe:{key}", severity="high", state=state,
                          title=f"{key} portal down", opd_id=require_opd(s, opd).id,
                          fired_at=NOW - timedelta(minutes=len(out)), last_seen_at=NOW)
            s.add(alert)
            s.flush()
            out[key] = alert.id
    return out


def test_alerts_api_tenancy_roles_and_siem(alerts_app: Flask, people: AppContext,
                                           tokens: dict[str, dict[str, str]]) -> None:
    ids = _alerts(people)
    client = alerts_app.test_client()
    assert client.get("/api/alerts/").status_code == 401

    every = client.get("/api/alerts/", headers=tokens["noc"]).get_json()
    assert every["count"] == 3
    open_only = client.get("/api/alerts/?open=true", headers=tokens["noc"]).get_json()
    assert [a["title"] for a in open_only["results"]] == ["dinkes portal down",
                                                          "disdik portal down"]
    rina = client.get("/api/alerts/", headers=tokens["rina"]).get_json()
    assert {a["opd"] for a in rina["results"]} == {"DINKES"} and rina["count"] == 2
    assert client.get(f"/api/alerts/{ids['disdik']}/", headers=tokens["rina"]).status_code == 404
    refused = client.post(f"/api/alerts/{ids['dinkes']}/acknowledge/", headers=tokens["rina"],
                          json={"note": "me"})
    assert refused.status_code == 403 and "NOC" in refused.get_json()["detail"]
    bad = client.get("/api/alerts/?state=burning", headers=tokens["noc"])
    assert bad.status_code == 400 and bad.get_json()["errors"] == {"state": ["unknown"]}

    acked = client.post(f"/api/alerts/{ids['dinkes']}/acknowledge/", headers=tokens["noc"],
                        json={"note": "ticket WO-17"})
    assert acked.status_code == 200
    body = acked.get_json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "noc"
    assert body["note"] == "ticket WO-17"
    resolved = client.post(f"/api/alerts/{ids['dinkes']}/resolve/", headers=tokens["infra"])
    assert resolved.get_json()["state"] == "resolved"
    again = client.post(f"/api/alerts/{ids['dinkes']}/resolve/", headers=tokens["infra"])
    assert again.status_code == 409
    with people.db.session(write=False) as s:
        events = s.scalars(select(SiemEvent).where(SiemEvent.dataset == "simpul.alert")).all()
        assert sorted(e.doc["rule.name"] for e in events) == ["probe-failure"] * 2
        assert "acknowledged" in " ".join(e.raw for e in events)


def test_maintenance_api(alerts_app: Flask, people: AppContext,
                         tokens: dict[str, dict[str, str]]) -> None:
    client = alerts_app.test_client()
    start = NOW.isoformat()
    made = client.post("/api/alerts/maintenance/", headers=tokens["noc"], json={
        "scope": "opd", "target": "dinkes", "starts_at": start,
        "ends_at": (NOW + timedelta(hours=2)).isoformat(), "reason": "switch swap"})
    assert made.status_code == 201
    window = made.get_json()
    assert window["target"] == "DINKES" and window["created_by"] == "noc"
    backwards = client.post("/api/alerts/maintenance/", headers=tokens["noc"], json={
        "scope": "device", "target": "web", "starts_at": start, "ends_at": start})
    assert backwards.status_code == 400 and "ends_at" in backwards.get_json()["errors"]
    naive = client.post("/api/alerts/maintenance/", headers=tokens["noc"], json={
        "scope": "device", "target": "web", "starts_at": "2026-11-30T22:00",
        "ends_at": "2026-11-30T23:00"})
    assert naive.status_code == 400 and "time zone" in naive.get_json()["detail"]
    assert client.post("/api/alerts/maintenance/", headers=tokens["rina"], json={
        "scope": "device", "target": "web", "starts_at": start,
        "ends_at": (NOW + timedelta(hours=1)).isoformat()}).status_code == 403
    active = client.get("/api/alerts/maintenance/?active=true", headers=tokens["rina"])
    assert [w["id"] for w in active.get_json()["results"]] == [window["id"]]
    assert client.get("/api/alerts/maintenance/", headers=tokens["budi"]).get_json()["count"] == 0
    assert client.delete(f"/api/alerts/maintenance/{window['id']}/",
                         headers=tokens["noc"]).status_code == 204
    assert client.get("/api/alerts/maintenance/", headers=tokens["noc"]).get_json()["count"] == 0


def test_probes_api_results_and_sla(alerts_app: Flask, people: AppContext,
                                    tokens: dict[str, dict[str, str]]) -> None:
    client = alerts_app.test_client()
    spec = {"name": "dinkes-portal", "service": "web", "kind": "http", "opd": "DINKES",
            "target": "http://127.0.0.1:9/", "expect": {"status": 200, "contains": "Dinkes"},
            "interval_s": 60}
    assert client.post("/api/probes/", headers=tokens["rina"], json=spec).status_code == 403
    made = client.post("/api/probes/", headers=tokens["noc"], json=spec)
    assert made.status_code == 201
    probe = made.get_json()
    assert probe["opd"] == "DINKES" and probe["last_result"] is None
    dup = client.post("/api/probes/", headers=tokens["noc"], json=spec)
    assert dup.status_code == 400 and dup.get_json()["errors"]["name"] == ["already exists"]
    bad = client.post("/api/probes/", headers=tokens["noc"], json={**spec, "name": "x",
                                                                   "kind": "tcp"})
    assert bad.status_code == 400 and "port" in bad.get_json()["errors"]

    # 10 checks this month, one failed -> 90 %, 60 s of downtime
    with people.db.session() as s:
        pid = s.scalar(select(Probe.id).where(Probe.name == "dinkes-portal"))
        for i in range(10):
            s.add(ProbeResult(probe_id=pid, at=NOW - timedelta(minutes=i), ok=i != 3,
                              rtt_ms=None if i == 3 else 10.0 + i,
                              detail="HTTP 200" if i != 3 else "HTTP 502, expected 200"))
    listed = client.get("/api/probes/", headers=tokens["rina"]).get_json()
    assert listed["count"] == 1 and listed["results"][0]["last_result"]["ok"] is True
    assert client.get("/api/probes/", headers=tokens["budi"]).get_json()["count"] == 0
    assert client.get(f"/api/probes/{pid}/", headers=tokens["budi"]).status_code == 404
    results = client.get(f"/api/probes/{pid}/results/?hours=1", headers=tokens["rina"])
    body = results.get_json()
    assert body["checks"] == 10 and body["availability_pct"] == 90.0
    assert body["results"][3]["detail"] == "HTTP 502, expected 200"

    month = NOW.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")  # the report's zone
    sla = client.get(f"/api/probes/sla/?month={month}", headers=tokens["noc"]).get_json()
    [row] = [r for r in sla["rows"] if r["probe"] == "dinkes-portal"]
    assert row["availability_pct"] == 90.0 and row["downtime_min"] == 1.0 and not row["met"]
    csv_resp = client.get(f"/api/probes/sla/?month={month}&format=csv&opd=DINKES",
                          headers=tokens["noc"])
    assert csv_resp.mimetype == "text/csv"
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_resp.get_data(as_text=True))))
    assert rows == [{"opd": "DINKES", "service": "web", "probe": "dinkes-portal",
                     "kind": "http", "target": "http://127.0.0.1:9/", "checks": "10",
                     "up": "9", "availability_pct": "90.0", "avg_rtt_ms": "14.667",
                     "max_rtt_ms": "19.0", "downtime_min": "1.0", "met": "no"}]
    html = client.get(f"/api/probes/sla/?month={month}&format=html", headers=tokens["rina"])
    assert "dinkes-portal" in html.get_data(as_text=True)

    changed = client.patch(f"/api/probes/{pid}/", headers=tokens["noc"],
                           json={"enabled": False, "interval_s": 120})
    assert changed.get_json()["enabled"] is False and changed.get_json()["interval_s"] == 120
    assert client.delete(f"/api/probes/{pid}/", headers=tokens["rina"]).status_code == 403
    assert client.delete(f"/api/probes/{pid}/", headers=tokens["noc"]).status_code == 204


def test_openapi_documents_every_route(alerts_app: Flask,
                                       tokens: dict[str, dict[str, str]]) -> None:
    doc = alerts_app.test_client().get("/api/openapi.json", headers=tokens["noc"]).get_json()
    for path in ("/api/alerts/", "/api/alerts/{id}/", "/api/alerts/{id}/acknowledge/",
                 "/api/alerts/{id}/resolve/", "/api/alerts/maintenance/",
                 "/api/alerts/maintenance/{id}/", "/api/probes/", "/api/probes/{id}/",
                 "/api/probes/{id}/results/", "/api/probes/sla/"):
        assert path in doc["paths"], path


def test_pages_ack_with_csrf_and_tenancy(alerts_app: Flask, people: AppContext) -> None:
    ids = _alerts(people)
    noc = _login(alerts_app, "noc")
    page = noc.get("/alerts/").get_data(as_text=True)
    assert "dinkes portal down" in page and "disdik portal down" in page
    assert "old portal down" not in page  # resolved: not on the open list
    no_csrf = noc.post(f"/alerts/{ids['dinkes']}/acknowledge", data={})
    assert no_csrf.status_code == 400
    done = noc.post(f"/alerts/{ids['dinkes']}/acknowledge",
                    data={"csrf_token": _csrf(page), "next": "/alerts/"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/alerts/")
    detail = noc.get(f"/alerts/{ids['dinkes']}").get_data(as_text=True)
    assert "acknowledged" in detail

    rina = _login(alerts_app, "rina")
    mine = rina.get("/alerts/?state=all").get_data(as_text=True)
    assert "dinkes portal down" in mine and "disdik portal down" not in mine
    assert "Acknowledge" not in mine and "Resolve" not in mine
    assert rina.get(f"/alerts/{ids['disdik']}").status_code == 404
    assert rina.post(f"/alerts/{ids['dinkes']}/resolve",
                     data={"csrf_token": _csrf(mine)}).status_code == 403

    form = noc.get("/alerts/maintenance").get_data(as_text=True)
    planned = noc.post("/alerts/maintenance", data={
        "csrf_token": _csrf(form), "scope": "device", "target": "web",
        "starts_at": NOW.isoformat(), "ends_at": (NOW + timedelta(hours=1)).isoformat(),
        "reason": "kernel update"})
    assert planned.status_code == 302
    assert "kernel update" in noc.get("/alerts/maintenance").get_data(as_text=True)
    refused = noc.post("/alerts/maintenance", data={
        "csrf_token": _csrf(form), "scope": "device", "target": "web",
        "starts_at": "tomorrow", "ends_at": "later"})
    assert refused.status_code == 400 and "ISO date-time" in refused.get_data(as_text=True)

    new = noc.get("/probes/new").get_data(as_text=True)
    made = noc.post("/probes/new", data={"csrf_token": _csrf(new), "name": "mail-smtp",
                                         "service": "mail", "kind": "smtp",
                                         "target": "127.0.0.1", "port": "25", "opd": "DINKES",
                                         "interval_s": "60", "timeout_s": "3"})
    assert made.status_code == 302
    probes = rina.get("/probes/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "mail-smtp" in probes and "not yet checked" in probes
    assert rina.get("/probes/new").status_code == 200  # the form explains who may add
    sla = noc.get("/probes/sla").get_data(as_text=True)
    assert "mail-smtp" in sla
    assert noc.get("/probes/sla?format=csv").mimetype == "text/csv"
