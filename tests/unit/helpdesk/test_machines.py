"""The SOP state machines: well-formed, and the Lampiran IV paths walk as the SOP says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simpul.errors import ConflictError, PermissionDeniedError, ValidationError
from webui.helpdesk.machines import WORKFLOWS
from webui.helpdesk.workflows import (
    REQUESTER,
    REQUESTER_ACTIONS,
    Context,
    Workflow,
    problems,
    reachable,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UMUM = Context(letter_ref="800/17/438.5/2026", now=NOW)
TAIL = [("helpdesk", "request_confirmation", {}), ("requester", "confirm", {})]
CHECKED = Context(letter_ref="800/1/2026", now=NOW, details={"checks": {"rack": True}})


def walk(wf: Workflow, steps: list[tuple[str, str, dict[str, Any]]],
         ctx: Context = UMUM) -> list[str]:
    """Fire *steps* from the start; return the states passed through."""
    state, seen = wf.initial, [wf.initial]
    for role, action, fields in steps:
        state = wf.check(state, role, action, fields, ctx).target
        seen.append(state)
    return seen


@pytest.mark.parametrize("type_", list(WORKFLOWS))
def test_every_machine_is_well_formed(type_: str) -> None:
    wf = WORKFLOWS[type_]
    assert problems(wf) == []
    assert reachable(wf) == set(wf.states)
    assert wf.states["closed"].final and not wf.transitions_from("closed")
    for t in wf.transitions:
        assert (REQUESTER in t.roles) == (t.action in REQUESTER_ACTIONS), t


def test_pengajuan_permintaan_umum_and_vvip() -> None:
    wf = WORKFLOWS["permintaan"]
    assert walk(wf, [("helpdesk", "issue", {}), ("it_support", "complete", {"comment": "ok"}),
                     *TAIL]) == ["submitted", "at_it_support", "returned", "resolved", "closed"]
    vvip = Context(requester_class="vvip", now=NOW)
    assert walk(wf, [("helpdesk", "resolve", {"comment": "langsung"}), *TAIL[1:]],
                vvip) == ["submitted", "resolved", "closed"]


def test_pengaduan_help_desk_resolves_directly() -> None:
    assert walk(WORKFLOWS["pengaduan"], [("helpdesk", "resolve", {"comment": "via telp"}),
                                         ("requester", "confirm", {})],
                Context(now=NOW)) == ["submitted", "resolved", "closed"]


def test_penambahan_ip_with_a_connection_fault_fixed_by_infrastruktur() -> None:
    steps = [("helpdesk", "issue", {}),
             ("it_support", "recommend", {"location": "lt 2", "ip_count": 2}),
             ("infrastructure", "approve", {"prefix_id": 1}),
             ("it_support", "report_fault", {"comment": "tidak konek"}),
             ("infrastructure", "fixed", {}),
             ("it_support", "complete", {"comment": "ok"}), *TAIL]
    assert walk(WORKFLOWS["penambahan_ip"], steps) == [
        "submitted", "survey", "analysis", "installation", "fixing", "installation",
        "returned", "resolved", "closed"]


def test_titik_koneksi_declined_by_infrastruktur_is_told_then_rejected() -> None:
    steps = [("helpdesk", "issue", {}),
             ("it_support", "recommend", {"location": "aula", "points": 4, "equipment": "AP"}),
             ("infrastructure", "reject", {"reason": "tidak ada jalur kabel"}),
             ("helpdesk", "notify_rejection", {})]
    assert walk(WORKFLOWS["titik_koneksi"], steps)[-2:] == ["declined", "rejected"]


def test_kegiatan_insidentil_mismatch_goes_back_to_infrastruktur() -> None:
    steps = [("helpdesk", "issue", {}),
             ("it_support", "recommend", {"location": "Pendopo", "participants": 200,
                                          "event_end": "2026-12-01T17:00:00+07:00"}),
             ("infrastructure", "configure", {"parent_prefix_id": 3}),
             ("it_support", "report_mismatch", {"comment": "kurang 20 IP"}),
             ("infrastructure", "configure", {"parent_prefix_id": 3}),
             ("it_support", "complete", {"comment": "sesuai"}), *TAIL]
    assert walk(WORKFLOWS["kegiatan_insidentil"], steps)[1:6] == [
        "survey", "configuration", "onsite_check", "configuration", "onsite_check"]


def test_colocation_needs_pimpinan_and_passed_checks() -> None:
    wf = WORKFLOWS["penitipan_server"]
    checks = {"u_height": 2, "wall_outlet": True, "server_condition": True,
              "software_legal": True}
    head = [("helpdesk", "issue", {}), ("datacenter", "record_checks", checks)]
    assert walk(wf, head)[-1] == "awaiting_approval"
    with pytest.raises(PermissionDeniedError, match="'datacenter' may not fire 'approve'"):
        wf.check("awaiting_approval", "datacenter", "approve", {}, CHECKED)
    failed = Context(now=NOW, details={"checks": {"rack_available": False, "power": True}})
    with pytest.raises(ConflictError, match="rack_available"):
        wf.check("awaiting_approval", "leadership", "approve", {}, failed)
    assert walk(wf, [*head, ("leadership", "approve", {}), ("datacenter", "setup_done", {}),
                     ("datacenter", "install", {"comment": "rak A1 U10-11"}), *TAIL],
                CHECKED)[3:] == ["setup", "placement", "returned", "resolved", "closed"]
    assert walk(wf, [*head, ("leadership", "reject", {"reason": "lisensi OS tidak sah"}),
                     ("helpdesk", "notify_rejection", {})])[-1] == "rejected"


def test_colocation_reminders_only_after_the_deadline_and_at_most_three() -> None:
    wf = WORKFLOWS["penitipan_server"]
    due = (NOW - timedelta(minutes=1)).isoformat()
    assert wf.check("setup", "datacenter", "send_reminder", {}, Context(
        now=NOW, details={"setup_due_at": due, "reminders_sent": 2})).target == "setup"
    with pytest.raises(ConflictError, match="not passed"):
        wf.check("setup", "datacenter", "send_reminder", {}, Context(
            now=NOW, details={"setup_due_at": (NOW + timedelta(hours=1)).isoformat()}))
    with pytest.raises(ConflictError, match="notification letter"):
        wf.check("setup", "datacenter", "send_reminder", {}, Context(
            now=NOW, details={"setup_due_at": due, "reminders_sent": 3}))


def test_hosting_path_ends_with_an_ip_for_the_app() -> None:
    steps = [("helpdesk", "issue", {}),
             ("datacenter", "record_checks", {"software_legal": True, "app_complete": True,
                                              "security_scan": "passed"}),
             ("leadership", "approve", {}), ("datacenter", "deploy", {"server": "vm-app-07"}),
             ("infrastructure", "assign_ip", {"prefix_id": 9}), *TAIL]
    assert walk(WORKFLOWS["penitipan_aplikasi"], steps, CHECKED)[2:6] == [
        "awaiting_approval", "testing", "ip_assignment", "returned"]


def test_gangguan_aplikasi_network_fault_goes_to_infrastruktur() -> None:
    steps = [("helpdesk", "issue", {}), ("it_support", "escalate_dc", {"comment": "di DC"}),
             ("datacenter", "classify_network", {"comment": "uplink"}),
             ("infrastructure", "fixed", {"comment": "ganti SFP"}), *TAIL]
    assert walk(WORKFLOWS["gangguan_aplikasi"], steps, Context(now=NOW))[1:5] == [
        "it_check", "dc_check", "network_fix", "returned"]


@pytest.mark.parametrize("type_", ["domain", "pse"])
def test_domain_and_pse_are_reviewed_then_returned(type_: str) -> None:
    holder = WORKFLOWS[type_].states["review"].holder
    assert walk(WORKFLOWS[type_], [("helpdesk", "issue", {}), (holder, "approve", {}),
                                   *TAIL])[-1] == "closed"


def test_reopen_only_within_the_window_and_close_unconfirmed_only_after() -> None:
    wf = WORKFLOWS["pengaduan"]
    fresh = Context(now=NOW, resolved_at=NOW - timedelta(days=2))
    stale = Context(now=NOW, resolved_at=NOW - timedelta(days=8))
    assert wf.check("resolved", "requester", "reopen", {"reason": "masih mati"},
                    fresh).target == "returned"
    with pytest.raises(ConflictError, match="7 days"):
        wf.check("resolved", "requester", "reopen", {"reason": "masih"}, stale)
    with pytest.raises(ConflictError, match="only after that"):
        wf.check("resolved", "helpdesk", "close_unconfirmed", {}, fresh)
    assert wf.check("resolved", "helpdesk", "close_unconfirmed", {}, stale).target == "closed"


def test_refusals_in_order_with_their_status() -> None:
    wf = WORKFLOWS["penambahan_ip"]
    with pytest.raises(ValidationError, match="unknown action 'teleport'"):
        wf.check("submitted", "helpdesk", "teleport", {}, UMUM)
    with pytest.raises(ConflictError) as state_err:
        wf.check("submitted", "infrastructure", "approve", {"prefix_id": 1}, UMUM)
    assert str(state_err.value) == ("action 'approve' is not possible in state 'submitted' "
                                    "(role 'infrastructure'); possible here: issue, reject")
    with pytest.raises(PermissionDeniedError, match="role 'requester' may not fire 'issue'"):
        wf.check("submitted", "requester", "issue", {}, UMUM)
    with pytest.raises(ValidationError) as missing:
        wf.check("submitted", "helpdesk", "reject", {"reason": "  "}, UMUM)
    assert missing.value.errors == {"reason": ["required"]}
    with pytest.raises(ValidationError) as letter:
        wf.check("submitted", "helpdesk", "issue", {}, Context(now=NOW))
    assert letter.value.errors == {"letter_ref": ["required for Umum"]}


def test_replay_refuses_a_broken_timeline() -> None:
    wf = WORKFLOWS["pengaduan"]
    assert wf.replay([("submitted", "resolve", "resolved"),
                      ("resolved", "confirm", "closed")]) == "closed"
    with pytest.raises(ValueError, match="timeline breaks"):
        wf.replay([("submitted", "confirm", "closed")])
