"""Property: no sequence of (role, action) breaks a machine, on any type.

Random walks fire random actions as random roles with and without the required fields
and under random facts (VVIP or not, letter or not, checks passed or not, reopen
window open or not). Whatever happens: the state is always one the machine defines, a
requester never fires staff work, colocation and hosting never pass Pimpinan without
an "approve" by leadership, and replaying the timeline gives the current state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simpul.errors import ConflictError, PermissionDeniedError, ValidationError
from webui.helpdesk.machines import WORKFLOWS
from webui.helpdesk.workflows import (
    REQUESTER,
    REQUESTER_ACTIONS,
    WORKFLOW_ROLES,
    Context,
    Workflow,
    steps_to_close,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROLES = (*WORKFLOW_ROLES, "admin", "noc")
VALUES = {"reason": "alasan", "comment": "catatan", "location": "lt 1", "ip_count": 2,
          "points": 2, "equipment": "AP", "participants": 50,
          "event_end": "2026-12-01T17:00:00+07:00", "parent_prefix_id": 1, "prefix_id": 1,
          "u_height": 2, "wall_outlet": True, "server_condition": True,
          "software_legal": True, "app_complete": True, "security_scan": "passed",
          "server": "vm-1", "site_id": 1}


REACHED: dict[str, set[str]] = {}  # what the walks got to, for the coverage check


def before_approval(wf: Workflow) -> set[str]:
    """States reachable without Pimpinan's approve out of the approval gate."""
    seen, todo = {wf.initial}, [wf.initial]
    while todo:
        for t in wf.transitions_from(todo.pop()):
            if t.source == wf.approval_gate and t.action == "approve":
                continue
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


contexts = st.builds(
    lambda vvip, letter, checks_ok, resolved_days, reminders: Context(
        requester_class="vvip" if vvip else "umum", letter_ref="800/1/2026" if letter else "",
        details={"checks": {"rack_available": checks_ok, "software_legal": True},
                 "reminders_sent": reminders, "setup_due_at": NOW.isoformat()},
        resolved_at=NOW - timedelta(days=resolved_days), now=NOW),
    st.booleans(), st.integers(0, 5).map(bool), st.integers(0, 5).map(bool),
    st.integers(0, 10), st.integers(0, 4))


def draw_step(data: st.DataObject, wf: Workflow, state: str) -> tuple[str, str]:
    """Mostly an arrow out of *state* by its own role (so walks get deep), else anything."""
    arrows = wf.transitions_from(state)
    mode = data.draw(st.integers(0, 9), label="mode")
    if arrows and mode < 5:  # the shortest way to "closed", by its own role
        t = min(arrows, key=lambda a: (steps_to_close(wf).get(a.target, 99), a.action))
        return min(t.roles), t.action
    if arrows and mode < 8:  # any arrow, by any role
        t = arrows[data.draw(st.integers(0, len(arrows) - 1), label="arrow")]
        return data.draw(st.sampled_from([*t.roles, *ROLES]), label="role"), t.action
    return (data.draw(st.sampled_from(ROLES), label="role"),
            data.draw(st.sampled_from(sorted(wf.actions | {"fly"})), label="action"))


@pytest.mark.parametrize("type_", sorted(WORKFLOWS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_random_walks_keep_every_invariant(type_: str, data: st.DataObject) -> None:
    wf = WORKFLOWS[type_]
    gate_free = before_approval(wf) if wf.approval_gate else set(wf.states)
    state = wf.initial
    timeline: list[tuple[str, str, str, str]] = []  # from, action, to, role
    for _ in range(data.draw(st.integers(0, 60), label="length")):
        role, action = draw_step(data, wf, state)
        fields = dict(VALUES) if data.draw(st.integers(0, 9), label="fields") else {}
        ctx = data.draw(contexts, label="context")
        try:
            t = wf.check(state, role, action, fields, ctx)
        except (ValidationError, ConflictError, PermissionDeniedError):
            continue
        assert t.source == state and role in t.roles
        if role == REQUESTER:
            assert action in REQUESTER_ACTIONS
        else:
            assert action not in REQUESTER_ACTIONS
        assert not wf.states[state].final
        timeline.append((state, action, t.target, role))
        state = t.target
        assert state in wf.states
        REACHED.setdefault(type_, set()).add(state)
        if state not in gate_free:
            assert ("approve", "leadership") in [(a, r) for _f, a, _t, r in timeline]
    assert wf.replay((f, a, t) for f, a, t, _r in timeline) == state


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(WORKFLOWS)), st.sampled_from(ROLES), contexts)
def test_available_actions_are_exactly_the_ones_that_fire(type_: str, role: str,
                                                         ctx: Context) -> None:
    wf = WORKFLOWS[type_]
    for state in wf.states:
        offered = {t.action for t in wf.available(state, role, ctx)}
        for action in wf.actions:
            try:
                wf.check(state, role, action, VALUES, ctx)
                fired = True
            except (ValidationError, ConflictError, PermissionDeniedError):
                fired = False
            assert fired == (action in offered), (state, role, action)


def test_the_walks_reached_the_end_of_every_machine() -> None:
    # Runs after the walks (file order): a walk that never gets deep proves little.
    if len(REACHED) < len(WORKFLOWS):
        pytest.skip("run with the walks")
    for type_, states in REACHED.items():
        assert "closed" in states, (type_, sorted(states))
