"""Playbook runs from the web: roles, confirmation, background execution, live output.

The runs are real: a dry-run of the backbone on two lab routers, started through the API
and the form, executed in the web process's background thread, polled until finished.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tokens import create_token
from simpul.users import create_user
from tests.integration.playbooks.conftest import PlaybookLab
from webui import create_app
from webui.playbooks import wait_for

pytestmark = pytest.mark.lab
PASSWORD = "playbooks-password-1"
USERS = {"root": "admin", "infra": "infrastructure", "desk": "helpdesk"}


@pytest.fixture(scope="module")
def web(playbook_lab: PlaybookLab) -> Iterator[tuple[Flask, dict[str, dict[str, str]]]]:
    context = AppContext(settings=playbook_lab.settings, db=playbook_lab.db)
    headers: dict[str, dict[str, str]] = {}
    with playbook_lab.db.session() as session:
        for name, role in USERS.items():
            create_user(session, Actor.system("test"), f"web-{name}", role=role,
                        opd_code="DISKOMINFO", password=PASSWORD)
            headers[name] = {"Authorization":
                             f"Token {create_token(session, Actor.system('t'), f'web-{name}').key}"}
    yield create_app({"TESTING": True}, context=context), headers


def finished(client: FlaskClient, headers: dict[str, str], run_id: int) -> dict[str, Any]:
    assert wait_for(run_id, 60)
    seen_running = False
    deadline = time.monotonic() + 10
    while True:
        data = client.get(f"/api/playbooks/runs/{run_id}/", headers=headers).get_json()
        seen_running |= data["state"] == "running"
        if data["finished"] or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def test_api_dry_run_executes_in_the_background(web: tuple[Flask, dict[str, dict[str, str]]]
                                                ) -> None:
    app, headers = web
    client = app.test_client()
    response = client.post("/api/playbooks/runs/", headers=headers["infra"],
                           json={"playbook": "backbone", "hosts": "core1,edge",
                                 "dry_run": True})
    assert response.status_code == 202, response.get_json()
    run = response.get_json()
    assert run["state"] in ("queued", "running", "ok") and run["started_by"] == "web-infra"
    assert run["channel"] == "api" and run["filters"] == {"hosts": ["core1", "edge"]}
    data = finished(client, headers["infra"], run["id"])
    assert data["state"] == "ok", data
    assert [h["host"] for h in data["hosts"]] == ["core1", "edge"]
    assert all(h["status"] in ("ok", "changed") and h["verified"] is None
               for h in data["hosts"])
    assert "backbone: 2 host(s) (dry-run): core1, edge" in data["output"]
    assert "core1: frr:" in data["output"]
    listed = client.get("/api/playbooks/runs/", headers=headers["root"]).get_json()
    assert listed["results"][0]["id"] == run["id"] and "output" not in listed["results"][0]


def test_apply_needs_confirmation_and_roles(web: tuple[Flask, dict[str, dict[str, str]]],
                                            backbone_applied: PlaybookLab) -> None:
    app, headers = web
    client = app.test_client()
    refused = client.post("/api/playbooks/runs/", headers=headers["infra"],
                          json={"playbook": "backbone", "hosts": "core1"})
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"confirm": ["required"]}
    unknown = client.post("/api/playbooks/runs/", headers=headers["infra"],
                          json={"playbook": "nope", "dry_run": True})
    assert unknown.status_code == 400 and "unknown playbook" in unknown.get_json()["detail"]
    for path in ("/api/playbooks/runs/", "/playbooks/"):
        assert client.get(path, headers=headers["desk"]).status_code == 403
    assert client.post("/api/playbooks/runs/", headers=headers["desk"],
                       json={"playbook": "backbone", "dry_run": True}).status_code == 403
    assert client.get("/api/playbooks/runs/").status_code == 401
    # A confirmed apply of an already-converged router changes nothing and verifies.
    applied = client.post("/api/playbooks/runs/", headers=headers["root"],
                          json={"playbook": "backbone", "hosts": "acc-a", "confirm": True})
    assert applied.status_code == 202
    data = finished(client, headers["root"], applied.get_json()["id"])
    assert data["state"] == "ok" and data["dry_run"] is False, data
    assert [(h["host"], h["status"], h["verified"]) for h in data["hosts"]] == [
        ("acc-a", "ok", True)]


def test_pages_start_and_show_a_run(web: tuple[Flask, dict[str, dict[str, str]]]) -> None:
    app, _headers = web
    client = app.test_client()
    login_form = client.get("/login").get_data(as_text=True)
    login_token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                            login_form).group(1)  # type: ignore[union-attr]
    login = client.post("/login", data={"username": "web-infra", "password": PASSWORD,
                                        "csrf_token": login_token})
    assert login.status_code == 302
    page = client.get("/playbooks/")
    assert page.status_code == 200 and b"backbone" in page.data
    token = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    started = client.post("/playbooks/runs", data={"csrf_token": token, "playbook": "backbone",
                                                   "hosts": "dist-a", "dry_run": "1"})
    assert started.status_code == 302, started.data[:500]
    run_url = started.headers["Location"]
    run_id = int(run_url.rstrip("/").rsplit("/", 1)[1])
    assert wait_for(run_id, 60)
    detail = client.get(run_url)
    assert detail.status_code == 200
    assert b"js/playbooks.js" in detail.data and b'id="run-output"' in detail.data
    assert b"dist-a: frr:" in detail.data
    # Without the confirmation box an apply is refused, and the form says why.
    refused = client.post("/playbooks/runs", data={"csrf_token": token, "playbook": "backbone",
                                                   "hosts": "dist-a"})
    assert refused.status_code == 400 and b"explicit confirmation" in refused.data
    # CSRF is enforced on the form.
    assert client.post("/playbooks/runs", data={"playbook": "backbone", "dry_run": "1"}
                       ).status_code == 400
