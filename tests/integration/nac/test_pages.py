"""NAC pages: self-service registration lands pending, approval by staff, tenancy, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from nac.decisionlog import DecisionRecord, session_sink
from nac.register import create_device, get_device
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.models.base import utcnow
from tests.integration.nac.conftest import PASSWORD


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


def test_self_service_registration_then_staff_approval(nac_app: Flask,
                                                       app_context: AppContext) -> None:
    rina = _login(nac_app, "rina")
    form = rina.get("/nac/new").get_data(as_text=True)
    assert 'name="opd"' not in form  # an OPD user registers for their own OPD only
    posted = rina.post("/nac/new", data={"csrf_token": _csrf(form), "mac": "0200.5e00.5311",
                                         "owner": "Rina", "device_type": "laptop",
                                         "auth_method": "mab"})
    assert posted.status_code == 302
    page = rina.get(posted.headers["Location"]).get_data(as_text=True)
    assert "02:00:5e:00:53:11" in page and "pending" in page
    assert rina.get("/nac/pending").status_code == 403
    dup = rina.post("/nac/new", data={"csrf_token": _csrf(form), "mac": "02:00:5e:00:53:11"})
    assert dup.status_code == 409 and "already registered" in dup.get_data(as_text=True)
    no_csrf = rina.post("/nac/new", data={"mac": "02:00:5e:00:53:12"})
    assert no_csrf.status_code == 400

    staff = _login(nac_app, "itsup")
    pending = staff.get("/nac/pending").get_data(as_text=True)
    assert "02:00:5e:00:53:11" in pending
    with app_context.db.session() as s:
        device_id = get_device(s, "02:00:5e:00:53:11").id
    approved = staff.post(f"/nac/devices/{device_id}/status",
                          data={"csrf_token": _csrf(pending), "status": "active",
                                "next": "/nac/pending"})
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/nac/pending")
    with app_context.db.session() as s:
        assert get_device(s, "02:00:5e:00:53:11").status == "active"
    # an OPD user cannot use the approval endpoint either
    refused = rina.post(f"/nac/devices/{device_id}/status",
                        data={"csrf_token": _csrf(form), "status": "blocked"})
    assert refused.status_code == 403


def test_register_sessions_and_rejects_honour_tenancy(nac_app: Flask,
                                                      app_context: AppContext) -> None:
    actor = Actor.system("test")
    with app_context.db.session() as s:
        mine = create_device(s, actor, "02:00:5e:00:53:21", opd="DINKES")
        theirs = create_device(s, actor, "02:00:5e:00:53:22", opd="DISDIK")
        sink = session_sink(s)
        sink(DecisionRecord(utcnow() - timedelta(minutes=1), "02:00:5e:00:53:99", "", "mab",
                            "192.0.2.1", "Gi1/0/1", "reject", "unregistered MAC", None))
        mine_id, theirs_id = mine.id, theirs.id
    rina = _login(nac_app, "rina")
    register = rina.get("/nac/").get_data(as_text=True)
    assert "02:00:5e:00:53:21" in register and "02:00:5e:00:53:22" not in register
    assert rina.get(f"/nac/devices/{theirs_id}").status_code == 404
    assert rina.get(f"/nac/devices/{mine_id}").status_code == 200
    assert rina.get("/nac/sessions").status_code == 200
    assert rina.get("/nac/rejects").status_code == 403
    staff = _login(nac_app, "desk")
    assert "02:00:5e:00:53:22" in staff.get("/nac/").get_data(as_text=True)
    rejects = staff.get("/nac/rejects").get_data(as_text=True)
    assert "unregistered MAC" in rejects and "02:00:5e:00:53:99" in rejects
    assert staff.get("/nac/pending").status_code == 403  # help desk does not approve
