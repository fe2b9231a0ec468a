"""Conflicting desks at the same moment, and random action sequences through the database."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from inventory.models import IpAddress
from simpul.context import AppContext
from simpul.errors import SimpulError
from simpul.models import AuditEntry
from tests.integration.helpdesk.conftest import USERS, user
from webui.helpdesk import services as svc
from webui.helpdesk.machines import WORKFLOWS
from webui.helpdesk.models import WorkOrder, WorkOrderEvent
from webui.helpdesk.timeline import transition_steps
from webui.helpdesk.workflows import steps_to_close

WO = "/api/helpdesk/work-orders/"


def test_two_desks_fire_conflicting_actions_exactly_one_wins(
        app: Flask, app_context: AppContext, tokens: dict[str, dict[str, str]],
        prefix_id: int) -> None:
    client = app.test_client()
    wid = client.post(WO, headers=tokens["rina"], json={
        "type": "penambahan_ip", "title": "IP", "letter_ref": "800/1/2026",
        "details": {"ip_count": 1, "location": "lt 1"}}).get_json()["id"]
    for username, body in (("helpdesk", {"action": "issue"}),
                           ("it_support", {"action": "recommend", "location": "lt 1",
                                           "ip_count": 1})):
        assert client.post(f"{WO}{wid}/transitions/", headers=tokens[username],
                           json=body).status_code == 200
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def act(body: dict[str, Any]) -> None:
        own = app.test_client()
        start.wait()
        response = own.post(f"{WO}{wid}/transitions/", headers=tokens["infrastructure"],
                            json=body)
        answers[body["action"]] = response.status_code

    threads = [threading.Thread(target=act, args=(body,)) for body in (
        {"action": "approve", "prefix_id": prefix_id},
        {"action": "reject", "reason": "alamat habis"})]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers.values()) == [200, 409], answers
    winner = next(a for a, code in answers.items() if code == 200)
    body = client.get(f"{WO}{wid}/", headers=tokens["helpdesk"]).get_json()
    assert body["state"] == {"approve": "installation", "reject": "declined"}[winner]
    assert [e["action"] for e in body["timeline"]].count(winner) == 1
    assert len(body["timeline"]) == 4
    with app_context.db.session(write=False) as s:
        allocated = s.scalar(select(func.count()).select_from(IpAddress))
        assert allocated == (1 if winner == "approve" else 0)


FIELDS = {"reason": "alasan", "comment": "catatan", "location": "lt 1", "ip_count": 1,
          "prefix_id": 1, "public_prefix_id": 9999, "points": 1, "equipment": "AP",
          "u_height": "two", "server": "vm", "site_id": 9999}
ACTIONS = sorted(set().union(*(wf.actions for wf in WORKFLOWS.values())))
ROLE_USER = {role: name for name, (role, _opd) in USERS.items() if name != "budi"}


def draw_step(data: st.DataObject, type_: str, state: str) -> tuple[str, str, dict[str, Any]]:
    """Mostly the right desk firing an arrow out of *state*; sometimes anyone, anything."""
    wf = WORKFLOWS[type_]
    arrows = wf.transitions_from(state)
    extra = data.draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=2), label="extra")
    aim = data.draw(st.integers(0, 5), label="aim")
    if arrows and aim:
        closer = steps_to_close(wf)
        t = (min(arrows, key=lambda a: (closer.get(a.target, 99), a.action)) if aim > 2
             else data.draw(st.sampled_from(arrows), label="arrow"))
        names = set(t.requires) | (extra if data.draw(st.booleans(), label="noise") else set())
        return ROLE_USER[min(t.roles)], t.action, {n: FIELDS[n] for n in names}
    return (data.draw(st.sampled_from(sorted(USERS)), label="user"),
            data.draw(st.sampled_from(ACTIONS), label="action"), {n: FIELDS[n] for n in extra})


def _snapshot(app_context: AppContext, wid: int) -> tuple[Any, ...]:
    with app_context.db.session(write=False) as s:
        wo = s.get(WorkOrder, wid)
        assert wo is not None
        return (wo.state, wo.version, dict(wo.details), wo.holder_role,
                s.scalar(select(func.count()).select_from(WorkOrderEvent)),
                s.scalar(select(func.count()).select_from(AuditEntry)),
                s.scalar(select(func.count()).select_from(IpAddress)))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(type_=st.sampled_from(["penambahan_ip", "pengaduan", "titik_koneksi"]), data=st.data())
def test_refused_actions_write_nothing(app_context: AppContext, prefix_id: int, type_: str,
                                       data: st.DataObject) -> None:
    details = {"penambahan_ip": {"ip_count": 1, "location": "lt 1"}, "pengaduan": {},
               "titik_koneksi": {"location": "aula", "points": 1}}[type_]
    rina = user(app_context, "rina")
    with app_context.db.session() as s:
        wid = svc.create_work_order(s, rina, type=type_, title="t", letter_ref="800/1",
                                    details=details).id
    for _ in range(data.draw(st.integers(1, 12), label="length")):
        before = _snapshot(app_context, wid)
        username, action, fields = draw_step(data, type_, before[0])
        who = user(app_context, username)
        try:
            with app_context.db.session() as s:
                svc.transition(s, who, wid, action, fields)
        except SimpulError:
            assert _snapshot(app_context, wid) == before  # refused: not one row changed
            continue
        after = _snapshot(app_context, wid)
        assert after[1] == before[1] + 1 and after[4] == before[4] + 1
        assert USERS[username][0] != "requester" or action in ("confirm", "reopen")
    with app_context.db.session(write=False) as s:
        wo = s.get(WorkOrder, wid)
        assert wo is not None
        assert WORKFLOWS[type_].replay(transition_steps(wo)) == wo.state
