"""The NOC screens on data from a real poll of real net-snmp agents.

Three agents answer, one device never does: the wall counts them so, the map colours
them so, the device page lists the polled interfaces, and the interface graph has the
measured rates. OPD accounts and anonymous callers see none of it.
"""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from collectors.snmp import queries
from collectors.snmp.service import poll_once
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user
from tests.integration.collectors.conftest import (
    SnmpAgent,
    load_snmp_inventory,
    wait_for_fresh_counters,
)
from webui import create_app


@pytest.fixture
def noc(app_context: AppContext, snmp_agents: list[SnmpAgent],
        snmp_env: dict[str, str]) -> tuple[FlaskClient, dict[str, dict[str, str]]]:
    """Polled twice (rates need two samples); a NOC, an admin and an OPD user's tokens."""
    load_snmp_inventory(app_context.db, snmp_agents)
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_user(s, actor, "wall", role="noc", opd_code="DISKOMINFO")
        create_user(s, actor, "rina", role="requester", opd_code="DINKES")
    poll_once(app_context)
    wait_for_fresh_counters()
    poll_once(app_context)
    headers = {}
    with app_context.db.session() as s:
        for name in ("wall", "rina"):
            headers[name] = {"Authorization": f"Token {create_token(s, actor, name).key}"}
    client = create_app({"TESTING": True}, context=app_context).test_client(use_cookies=False)
    return client, headers


def test_the_wall_shows_what_the_poller_saw(
        noc: tuple[FlaskClient, dict[str, dict[str, str]]]) -> None:
    client, tokens = noc
    board = client.get("/api/noc/wallboard/", headers=tokens["wall"]).get_json()
    assert board["devices"] == {"up": 3, "down": 1, "unknown": 0}
    status = {n["name"]: n["status"] for n in board["topology"]["nodes"]}
    assert status == {"agent1": "up", "agent2": "up", "agent3": "up", "dead1": "down"}
    page = client.get("/noc/", headers=tokens["wall"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="count-up">3<' in html and 'id="count-down">1<' in html
    assert 'class="node node-down" data-id=' in html  # dead1 drawn red on the map
    assert "noc-wallboard.js" in html and "<script>" not in html  # no inline script


def test_device_page_and_interface_graph_carry_the_measured_rates(
        app_context: AppContext, noc: tuple[FlaskClient, dict[str, dict[str, str]]]) -> None:
    client, tokens = noc
    with app_context.db.session(write=False) as s:
        lo = queries.find_interface(s, "agent1", "lo")
        assert lo is not None and lo.in_bps
    detail = client.get(f"/api/noc/devices/{lo.device_id}/", headers=tokens["wall"]).get_json()
    assert detail["name"] == "agent1" and detail["state"]["status"] == "up"
    assert any(i["name"] == "lo" and i["in_bps"] == round(lo.in_bps) and i["oper"] == "up"
               for i in detail["interfaces"])
    page = client.get(f"/noc/devices/{lo.device_id}", headers=tokens["wall"])
    assert page.status_code == 200 and f"/noc/interfaces/{lo.snmp_interface_id}" in \
        page.get_data(as_text=True)
    cols = client.get(f"/api/noc/interfaces/{lo.snmp_interface_id}/series/?range=1h",
                      headers=tokens["wall"]).get_json()
    assert len(cols["t"]) >= 1 and cols["in_bps"][-1] == pytest.approx(lo.in_bps)
    now = time.time()
    zoomed = client.get(f"/api/noc/interfaces/{lo.snmp_interface_id}/series/"
                        f"?start={now - 120:.0f}&end={now + 5:.0f}", headers=tokens["wall"])
    assert zoomed.status_code == 200 and zoomed.get_json()["t"] == cols["t"][-len(
        zoomed.get_json()["t"]):]
    bad = client.get(f"/api/noc/interfaces/{lo.snmp_interface_id}/series/?start=9&end=1",
                     headers=tokens["wall"])
    assert bad.status_code == 400 and "before end" in bad.get_json()["detail"]
    page = client.get(f"/noc/interfaces/{lo.snmp_interface_id}", headers=tokens["wall"])
    assert page.status_code == 200 and "uPlot.iife.min.js" in page.get_data(as_text=True)


def test_opd_accounts_and_strangers_see_no_noc_screen(
        noc: tuple[FlaskClient, dict[str, dict[str, str]]]) -> None:
    client, tokens = noc
    for url in ("/noc/", "/api/noc/wallboard/", "/api/noc/devices/1/",
                "/api/noc/interfaces/1/series/"):
        assert client.get(url, headers=tokens["rina"]).status_code == 403, url
        assert client.get(url).status_code in (302, 401), url


def test_the_wall_account_stays_signed_in_after_its_session_ends(
        app_context: AppContext) -> None:
    from simpul.users import set_password

    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Diskominfo", is_operator=True)
        for name, role in (("wall", "noc"), ("ops", "infrastructure")):
            create_user(s, actor, name, role=role, opd_code="DISKOMINFO")
            s.flush()
            set_password(s, actor, name, "wall-password-123")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, context=app_context)
    for name, remembered in (("wall", True), ("ops", False)):
        client = app.test_client()
        signed = client.post("/login", data={"username": name, "password": "wall-password-123"})
        assert signed.status_code == 302
        cookies = {c.key for c in client._cookies.values()}  # type: ignore[attr-defined]
        assert ("remember_token" in cookies) is remembered
        client.delete_cookie("simpul_session")  # the browser's session ended (8 h, restart, ...)
        again = client.get("/noc/")
        assert (again.status_code == 200) is remembered, name
