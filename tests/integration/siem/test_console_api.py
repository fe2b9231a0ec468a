"""The SIEM API and pages: role, tenancy, query errors, incidents, rules, saved searches."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from siem.detect.engine import Detector
from siem.detect.runner import DetectionRunner
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.users import create_user
from tests.integration.siem.test_detection import ingest, ssh_fail

PASSWORD = "siem-password-123"
USERS = {"sec": ("security", "DISKOMINFO"), "rina": ("requester", "DINKES"),
         "noc": ("noc", "DISKOMINFO"), "admin": ("admin", "DISKOMINFO")}


@pytest.fixture
def siem_app(app_context: AppContext) -> Flask:
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        for name, (role, opd) in USERS.items():
            create_user(s, actor, name, role=role, opd_code=opd, password=PASSWORD)
    runner = DetectionRunner(app_context.db, Detector.from_dirs())
    runner.start()
    # DINKES server attacked from inside DINKES, and core switch (DISKOMINFO) changed.
    ingest(app_context.db, [ssh_fail("root", "10.10.2.50", i) for i in range(6)],
           runner=runner)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    ingest(app_context.db, [f"<189>1 {stamp}Z core-sw1 ios - - %SYS-5-CONFIG_I: Configured "
                            "from console by admin on vty0 (10.0.0.9)"], peer="10.10.1.1",
           runner=runner)
    runner.periodic(force=True)
    from webui import create_app

    return create_app({"TESTING": True}, context=app_context)


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)[1]
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 302
    return client


def csrf_of(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)[1]


def test_roles_and_anonymous(siem_app: Flask) -> None:
    assert siem_app.test_client().get("/api/siem/events/").status_code == 401
    for name in ("noc", "rina"):  # security role (and admin) only; OPD staff never
        other = login(siem_app, name)
        assert other.get("/api/siem/events/").status_code == 403
        assert other.get("/siem/").status_code == 403
        assert other.get("/api/siem/incidents/").status_code == 403
    assert login(siem_app, "admin").get("/api/siem/incidents/").status_code == 200


def test_event_search_tenancy_and_errors(siem_app: Flask) -> None:
    sec = login(siem_app, "sec")
    r = sec.get("/api/siem/events/", query_string={"q": "source.ip:10.10.2.0/24 AND "
                                                   "event.outcome:failure", "since": "1h"})
    assert r.status_code == 200 and r.json["count"] == 6
    assert all(e["source_ip"] == "10.10.2.50" for e in r.json["results"])
    detail = sec.get(r.json["results"][0]["url"]).json
    assert "Failed password for root" in detail["raw"]
    assert detail["event"]["source"]["asset"]["opd"] == "DINKES"
    bad = sec.get("/api/siem/events/", query_string={"q": "(user.name:x"})
    assert bad.status_code == 400 and "missing ')'" in bad.json["detail"]
    assert sec.get("/api/siem/events/", query_string={"since": "yesterday"}).status_code == 400
    # per-OPD view: the core switch's event belongs to DISKOMINFO, not DINKES
    assert sec.get("/api/siem/events/", query_string={"opd": "DINKES"}).json["count"] == 6
    assert sec.get("/api/siem/events/", query_string={"opd": "DISKOMINFO"}).json["count"] == 1
    # live stream: nothing newer than the newest id
    newest = max(int(e["id"]) for e in sec.get("/api/siem/events/").json["results"])
    assert sec.get("/api/siem/events/", query_string={"after": newest}).json["count"] == 0


def test_incidents_api(siem_app: Flask) -> None:
    sec = login(siem_app, "sec")
    listing = sec.get("/api/siem/incidents/").json
    titles = {i["title"] for i in listing["results"]}
    assert "SSH brute force from one source" in titles
    infra = [i for i in listing["results"] if i["entity"] == "host.name=core-sw1"]
    assert infra and infra[0]["kind"] == "infrastructure"
    assert infra[0]["damage_class"] == "interruption"
    brute = next(i for i in listing["results"] if i["entity"] == "source.ip=10.10.2.50")
    assert brute["opd"] == "DINKES"
    detail = sec.get(brute["url"]).json
    assert detail["alerts"] and detail["alerts"][0]["events"]
    assert sec.get(detail["alerts"][0]["events"][0]).status_code == 200
    token = csrf_of(sec, "/siem/")
    r = sec.patch(brute["url"], json={"status": "in_progress", "assignee": "sec",
                                      "note": "blocking 10.10.2.50"},
                  headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "in_progress" and r.json["notes"][0]["by"] == "sec"
    assert sec.patch(brute["url"], json={"status": "bogus"},
                     headers={"X-CSRFToken": token}).status_code == 400
    assert sec.patch(brute["url"], json={"status": "closed"}).status_code == 400  # no CSRF
    per_opd = sec.get("/api/siem/incidents/", query_string={"opd": "DINKES"}).json
    assert {i["entity"] for i in per_opd["results"]} == {"source.ip=10.10.2.50"}


def test_rules_and_saved_searches(siem_app: Flask) -> None:
    sec = login(siem_app, "sec")
    rules = sec.get("/api/siem/rules/").json
    by_id = {r["rule_id"]: r for r in rules["rules"]}
    assert by_id["corr:ssh-brute-force"]["hits"] >= 1 and rules["problems"] == []
    token = csrf_of(sec, "/siem/")
    r = sec.patch("/api/siem/rules/corr:ssh-brute-force/", json={"enabled": False},
                  headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.json["enabled"] is False
    assert sec.get("/api/siem/rules/").json["rules"][0]["enabled"] in (True, False)
    assert sec.patch("/api/siem/rules/nope/", json={"enabled": True},
                     headers={"X-CSRFToken": token}).status_code == 404
    saved = sec.post("/api/siem/searches/", json={"name": "ssh", "query": "event.module:openssh",
                                                  "time_range": "7d"},
                     headers={"X-CSRFToken": token})
    assert saved.status_code == 201
    assert sec.post("/api/siem/searches/", json={"name": "bad", "query": "a:("},
                    headers={"X-CSRFToken": token}).status_code == 400
    assert [s["name"] for s in sec.get("/api/siem/searches/").json["results"]] == ["ssh"]
    admin = login(siem_app, "admin")
    assert admin.get("/api/siem/searches/").json["results"] == []  # searches are per user
    page = sec.get("/siem/").get_data(as_text=True)
    assert "ssh" in page and 'id="siem-events"' in page


def test_pages_render(siem_app: Flask) -> None:
    sec = login(siem_app, "sec")
    for path in ("/siem/", "/siem/incidents", "/siem/rules", "/siem/maintenance",
                 "/siem/?q=source.ip:10.10.2.0/24&range=1h"):
        r = sec.get(path)
        assert r.status_code == 200, path
        assert "<script>" not in r.get_data(as_text=True)
    bad = sec.get("/siem/?q=%28oops")
    assert bad.status_code == 400 and "missing" in bad.get_data(as_text=True)
    listing = sec.get("/api/siem/incidents/").json["results"][0]
    page = sec.get(f"/siem/incidents/{listing['id']}")
    assert page.status_code == 200
    token = csrf_of(sec, f"/siem/incidents/{listing['id']}")
    r = sec.post(f"/siem/incidents/{listing['id']}",
                 data={"csrf_token": token, "status": "closed", "assignee": "sec",
                       "note": "done"})
    assert r.status_code == 302
    assert sec.get(listing["url"]).json["status"] == "closed"
    assert sec.get("/api/siem/maintenance/", query_string={"days": "0"}).status_code == 400
