"""The service layer on a real database: inventory hooks, SLA escalation, no partial writes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from inventory.dcim.interfaces import create_wall_outlet
from inventory.dcim.racks import create_rack
from inventory.dcim.sites import create_location, create_site
from inventory.ipam.prefixes import create_prefix
from inventory.models import IpAddress, Prefix, RackReservation, WallOutlet
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import ConflictError, ValidationError
from tests.integration.helpdesk.conftest import user
from webui.helpdesk import services as svc
from webui.helpdesk.jobs import release_event_reservations
from webui.helpdesk.models import WorkOrder
from webui.helpdesk.sla import escalate_overdue

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
LETTER = "800/55/438.5.2/2026"


def run(app_context: AppContext, username: str, fn: Any, *args: Any, **kw: Any) -> Any:
    """Call a service as *username* in its own committed transaction; return the WO id."""
    who = user(app_context, username)
    with app_context.db.session() as s:
        result = fn(s, who, *args, **kw)
        s.flush()
        return result.id if isinstance(result, WorkOrder) else result


def wo_state(app_context: AppContext, wo_id: int) -> tuple[str, dict[str, Any]]:
    with app_context.db.session(write=False) as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        return wo.state, dict(wo.details)


def test_colocation_refused_for_lack_of_rack_space_then_accepted(
        app_context: AppContext, people: dict[str, str]) -> None:
    wid = run(app_context, "rina", svc.create_work_order, type="penitipan_server",
              title="Server SIMPUS", letter_ref=LETTER,
              details={"server": "Dell R650 2U", "u_height": 2, "power_w": 400})
    run(app_context, "helpdesk", svc.transition, wid, "issue")
    checks = {"u_height": 2, "server_condition": True, "software_legal": True}
    run(app_context, "datacenter", svc.transition, wid, "record_checks", checks)
    state, details = wo_state(app_context, wid)
    assert state == "awaiting_approval" and details["checks"]["rack_available"] is False
    with pytest.raises(ConflictError, match="rack_available"):
        run(app_context, "leadership", svc.transition, wid, "approve")
    run(app_context, "leadership", svc.transition, wid, "return_for_recheck",
        {"comment": "tunggu rak baru"})
    with app_context.db.session() as s:
        site = create_site(s, Actor.system("test"), name="DC Sidoarjo", slug="dc-sda")
        s.flush()
        create_rack(s, Actor.system("test"), site_id=site.id, name="R01", u_height=4,
                    power_budget_w=600)
        site_id = site.id
    # a rack with room but no free wall outlet near it: the outlet check fails, live
    run(app_context, "datacenter", svc.transition, wid, "record_checks", checks)
    state, details = wo_state(app_context, wid)
    assert details["checks"]["rack_available"] is True
    assert details["checks"]["wall_outlet"] is False
    run(app_context, "leadership", svc.transition, wid, "return_for_recheck",
        {"comment": "tunggu outlet"})
    with app_context.db.session() as s:
        create_wall_outlet(s, Actor.system("test"), site_id=site_id, label="DC-WO-01")
        create_wall_outlet(s, Actor.system("test"), site_id=site_id, label="DC-WO-02")
    run(app_context, "datacenter", svc.transition, wid, "record_checks", checks)
    # a second server, checked while the 600 W rack is still free: its checks pass...
    second = run(app_context, "rina", svc.create_work_order, type="penitipan_server",
                 title="Server SIMPEG", letter_ref=LETTER,
                 details={"server": "HPE DL360 1U", "u_height": 1, "power_w": 300})
    run(app_context, "helpdesk", svc.transition, second, "issue")
    run(app_context, "datacenter", svc.transition, second, "record_checks",
        {**checks, "u_height": 1})
    assert wo_state(app_context, second)[1]["checks"]["power_available"] is True
    run(app_context, "leadership", svc.transition, wid, "approve", {"comment": "disetujui"})
    state, details = wo_state(app_context, wid)
    assert state == "setup" and details["rack_reservation"]["units"] == [1, 2]
    assert details["rack_reservation"]["outlet"] == "DC-WO-01"
    assert details["reminders_sent"] == 0 and details["setup_due_at"]
    rina_opd = user(app_context, "rina").opd_id
    with app_context.db.session(write=False) as s:
        res = s.scalars(select(RackReservation)).one()
        assert res.units == [1, 2] and res.opd_id == rina_opd and res.power_w == 400
        outlet = s.scalars(select(WallOutlet).where(WallOutlet.label == "DC-WO-01")).one()
        assert (outlet.status, outlet.opd_id) == ("reserved", rina_opd)
        # the approval opened the server's IP request at Help Desk, for the same OPD
        ip_wo = s.scalars(select(WorkOrder).where(WorkOrder.type == "penambahan_ip")).one()
        assert ip_wo.number == details["ip_request"] and ip_wo.state == "submitted"
        assert ip_wo.opd_id == rina_opd and ip_wo.details["colocation"].startswith("WO-")
        assert ip_wo.letter_ref == LETTER and ip_wo.holder_role == "helpdesk"
    # ...but the first approval reserved 400 of the 600 W: 300 W more is refused, and
    # nothing of the refused approval is written
    with pytest.raises(ConflictError, match="300 W left"):
        run(app_context, "leadership", svc.transition, second, "approve")
    assert wo_state(app_context, second)[0] == "awaiting_approval"
    with app_context.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(RackReservation)) == 1
    run(app_context, "leadership", svc.transition, second, "return_for_recheck",
        {"comment": "daya kurang"})
    run(app_context, "datacenter", svc.transition, second, "record_checks",
        {**checks, "u_height": 1})
    state, details = wo_state(app_context, second)
    assert details["checks"]["rack_available"] is True  # the units are there, the watts not
    assert details["checks"]["power_available"] is False


def test_connection_point_request_ends_with_patch_ports_in_the_inventory(
        app_context: AppContext, people: dict[str, str]) -> None:
    with app_context.db.session() as s:
        site = create_site(s, Actor.system("test"), name="Kantor Dinkes", slug="dinkes")
        other = create_site(s, Actor.system("test"), name="Kantor Dishub", slug="dishub")
        s.flush()
        site_id, other_id = site.id, other.id
        room = create_location(s, Actor.system("test"), site_id=other_id, name="Lt 2",
                               slug="lt2")
        s.flush()
        room_id = room.id
    wid = run(app_context, "rina", svc.create_work_order, type="titik_koneksi",
              title="Titik jaringan ruang rapat", letter_ref=LETTER,
              details={"location": "Ruang rapat lt 1", "points": 3})
    run(app_context, "helpdesk", svc.transition, wid, "issue")
    run(app_context, "it_support", svc.transition, wid, "recommend",
        {"location": "Ruang rapat lt 1", "points": 3, "equipment": "switch 8 port"})
    with pytest.raises(ValidationError, match="site_id"):
        run(app_context, "infrastructure", svc.transition, wid, "approve")
    with pytest.raises(ValidationError, match="not in Kantor Dinkes"):
        run(app_context, "infrastructure", svc.transition, wid, "approve",
            {"site_id": site_id, "location_id": room_id})
    run(app_context, "infrastructure", svc.transition, wid, "approve", {"site_id": site_id})
    run(app_context, "it_support", svc.transition, wid, "complete", {"comment": "terpasang"})
    state, details = wo_state(app_context, wid)
    assert state == "returned" and details["site"] == "Kantor Dinkes"
    assert details["outlets"] == [f"WO-{wid:06d}-0{i}" for i in (1, 2, 3)]
    with app_context.db.session(write=False) as s:
        ports = s.scalars(select(WallOutlet).order_by(WallOutlet.label)).all()
        assert [(p.site_id, p.kind, p.status, p.opd_id) for p in ports] == [
            (site_id, "patch-port", "used", user(app_context, "rina").opd_id)] * 3


def test_incidental_event_reserves_a_prefix_that_expires(
        app_context: AppContext, people: dict[str, str]) -> None:
    with app_context.db.session() as s:
        parent = create_prefix(s, Actor.system("test"), prefix="198.51.100.0/24",
                               status="container")
        s.flush()
        parent_id = parent.id
    end = "2026-12-01T17:00:00+07:00"
    wid = run(app_context, "rina", svc.create_work_order, type="kegiatan_insidentil",
              title="Rakor Kesehatan", letter_ref=LETTER, details={
                  "event_name": "Rakor", "location": "Pendopo", "participants": 40,
                  "event_end": end})
    run(app_context, "helpdesk", svc.transition, wid, "issue")
    run(app_context, "it_support", svc.transition, wid, "recommend",
        {"location": "Pendopo Delta Wibawa", "participants": 40, "event_end": end})
    _, details = wo_state(app_context, wid)
    assert (details["addresses_needed"], details["prefix_length"]) == (44, 26)
    run(app_context, "infrastructure", svc.transition, wid, "configure",
        {"parent_prefix_id": parent_id})
    _, details = wo_state(app_context, wid)
    assert details["reservation"]["prefix"] == "198.51.100.0/26"
    with app_context.db.session() as s:
        early = release_event_reservations(s, Actor.system("t"), datetime(2026, 12, 1, tzinfo=UTC))
        assert early == []
        noted = release_event_reservations(s, Actor.system("t"), datetime(2026, 12, 3, tzinfo=UTC))
        assert noted == [f"WO-{wid:06d}"]
        assert s.scalar(select(func.count()).select_from(Prefix)) == 1  # the parent only
    state, details = wo_state(app_context, wid)
    assert state == "onsite_check" and details["reservation"]["released_at"]


def test_hosting_and_domain_hooks(app_context: AppContext, prefix_id: int) -> None:
    wid = run(app_context, "rina", svc.create_work_order, type="penitipan_aplikasi",
              title="Aplikasi e-Posyandu", letter_ref=LETTER, details={"app_name": "ePosyandu"})
    run(app_context, "helpdesk", svc.transition, wid, "issue")
    run(app_context, "datacenter", svc.transition, wid, "record_checks",
        {"software_legal": True, "app_complete": True, "security_scan": "passed"})
    run(app_context, "leadership", svc.transition, wid, "approve")
    run(app_context, "datacenter", svc.transition, wid, "deploy", {"server": "vm-app-03"})
    run(app_context, "infrastructure", svc.transition, wid, "assign_ip",
        {"prefix_id": prefix_id})
    assert wo_state(app_context, wid)[1]["allocations"] == {"app": ["192.0.2.1/24"]}

    def domain(name: str, kind: str = "opd", **details: str) -> int:
        return run(app_context, "rina", svc.create_work_order, type="domain", title=name,
                   letter_ref=LETTER, details={"kind": kind, "name": name, **details})

    first = domain("dinkes")
    assert wo_state(app_context, first)[1]["fqdn"] == "dinkes.sidoarjokab.go.id"
    run(app_context, "helpdesk", svc.transition, first, "issue")
    run(app_context, "infrastructure", svc.transition, first, "approve")
    with pytest.raises(ConflictError, match="already registered"):
        domain("Dinkes")
    village = domain("krsambung", "village")
    run(app_context, "helpdesk", svc.transition, village, "issue")
    run(app_context, "infrastructure", svc.transition, village, "approve")
    with pytest.raises(ConflictError) as clash:
        domain("krsambung", "village")
    assert clash.value.errors == {"suffix": ["required: the name is taken"]}
    other = domain("krsambung", "village", suffix="kebumen")
    assert wo_state(app_context, other)[1]["fqdn"] == "krsambung-kebumen.desa.id"
    with pytest.raises(ValidationError):
        domain("-bad-")


def test_escalation_to_lead_then_pimpinan_and_pause_stops_it(
        app_context: AppContext, people: dict[str, str]) -> None:
    late = run(app_context, "rina", svc.create_work_order, type="pengaduan",
               title="Internet putus", now=T0)  # 8 h target at normal priority
    paused = run(app_context, "rina", svc.create_work_order, type="pengaduan",
                 title="Printer", now=T0)
    run(app_context, "helpdesk", svc.pause_sla, paused, "menunggu pemohon",
        now=T0 + timedelta(hours=1))
    actor = Actor.system("sla")
    with app_context.db.session() as s:
        assert escalate_overdue(s, actor, T0 + timedelta(hours=7)) == []
        assert [w.id for w in escalate_overdue(s, actor, T0 + timedelta(hours=9))] == [late]
        assert escalate_overdue(s, actor, T0 + timedelta(hours=10)) == []  # still level 1
        raised = escalate_overdue(s, actor, T0 + timedelta(hours=13))
        assert [(w.id, w.escalation_level) for w in raised] == [(late, 2)]
    run(app_context, "helpdesk", svc.resume_sla, paused, now=T0 + timedelta(hours=11))
    with app_context.db.session() as s:
        wo = s.get(WorkOrder, paused)
        assert wo is not None and wo.sla_paused_seconds == 10 * 3600
        assert escalate_overdue(s, actor, T0 + timedelta(hours=17)) == []
        assert [w.id for w in escalate_overdue(s, actor, T0 + timedelta(hours=19))] == [paused]
        events = [(e.kind, e.action) for e in s.get(WorkOrder, late).events]  # type: ignore
        assert events[-2:] == [("escalation", "escalate"), ("escalation", "escalate")]


def test_an_inventory_refusal_rolls_the_whole_transition_back(
        app_context: AppContext, prefix_id: int) -> None:
    wid = run(app_context, "rina", svc.create_work_order, type="penambahan_ip",
              title="IP", letter_ref=LETTER, details={"ip_count": 2, "location": "lt 1"})
    run(app_context, "helpdesk", svc.transition, wid, "issue")
    run(app_context, "it_support", svc.transition, wid, "recommend",
        {"location": "lt 1", "ip_count": 2})
    who = user(app_context, "infrastructure")
    with app_context.db.session() as s:
        with pytest.raises(Exception, match="does not exist"):  # local allocated, then 404
            svc.transition(s, who, wid, "approve",
                           {"prefix_id": prefix_id, "public_prefix_id": 9999})
        # the session is still usable and nothing of the attempt is in it
        assert s.scalar(select(func.count()).select_from(IpAddress)) == 0
        assert s.get(WorkOrder, wid).state == "analysis"  # type: ignore[union-attr]
    with app_context.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Prefix)) == 1
        assert s.scalar(select(func.count()).select_from(IpAddress)) == 0


def test_reopen_within_the_window_then_close_unconfirmed_after_it(
        app_context: AppContext, people: dict[str, str]) -> None:
    wid = run(app_context, "rina", svc.create_work_order, type="pengaduan",
              title="Wi-Fi aula", now=T0)
    run(app_context, "helpdesk", svc.transition, wid, "resolve",
        {"comment": "AP di-restart"}, now=T0 + timedelta(hours=1))
    run(app_context, "rina", svc.transition, wid, "reopen", {"reason": "masih putus"},
        now=T0 + timedelta(hours=3))
    with app_context.db.session(write=False) as s:
        wo = s.get(WorkOrder, wid)
        assert wo is not None and (wo.state, wo.resolved_at, wo.sla_paused_at) == (
            "returned", None, None)
        assert wo.sla_paused_seconds == 2 * 3600  # waiting on the requester is not counted
    run(app_context, "helpdesk", svc.transition, wid, "request_confirmation",
        now=T0 + timedelta(hours=4))
    with pytest.raises(ConflictError, match="only after that"):
        run(app_context, "helpdesk", svc.transition, wid, "close_unconfirmed",
            now=T0 + timedelta(days=2))
    run(app_context, "helpdesk", svc.transition, wid, "close_unconfirmed",
        now=T0 + timedelta(days=8))
    with pytest.raises(ConflictError, match="not possible in state 'closed'"):
        run(app_context, "rina", svc.transition, wid, "reopen", {"reason": "lagi"},
            now=T0 + timedelta(days=8, hours=1))
    assert wo_state(app_context, wid)[0] == "closed"


def test_resolution_report_per_type_opd_and_month(app_context: AppContext,
                                                  people: dict[str, str]) -> None:
    from webui.helpdesk.reports import resolution_report, to_csv

    for hours, who in ((2, "rina"), (4, "rina"), (None, "rina"), (3, "budi")):
        wid = run(app_context, who, svc.create_work_order, type="pengaduan", title="x", now=T0)
        if hours is not None:
            run(app_context, "helpdesk", svc.transition, wid, "resolve", {"comment": "ok"},
                now=T0 + timedelta(hours=hours))
            run(app_context, who, svc.transition, wid, "confirm",
                now=T0 + timedelta(hours=hours))
    rejected = run(app_context, "rina", svc.create_work_order, type="permintaan", title="y",
                   now=T0)
    run(app_context, "helpdesk", svc.transition, rejected, "reject", {"reason": "bukan TIK"})
    with app_context.db.session(write=False) as s:
        rows = resolution_report(s, user(app_context, "helpdesk"))
        assert [(r.type, r.opd, r.month, r.filed, r.closed, r.rejected, r.open, r.mean_hours,
                 r.p95_hours) for r in rows] == [
            ("pengaduan", "BAPPEDA", "2026-11", 1, 1, 0, 0, 3.0, 3.0),
            ("pengaduan", "DINKES", "2026-11", 3, 2, 0, 1, 3.0, 4.0),
            ("permintaan", "DINKES", "2026-11", 1, 0, 1, 0, None, None)]
        own = resolution_report(s, user(app_context, "budi"))
        assert [r.opd for r in own] == ["BAPPEDA"]
        assert to_csv(own) == ("type,opd,month,filed,closed,rejected,open,mean_hours,p95_hours\n"
                               "pengaduan,BAPPEDA,2026-11,1,1,0,0,3.0,3.0\n")


def test_escalation_job_and_cli(app_context: AppContext, people: dict[str, str]) -> None:
    from click.testing import CliRunner

    from webui.helpdesk.cli import helpdesk
    from webui.helpdesk.jobs import EscalationService

    wid = run(app_context, "rina", svc.create_work_order, type="pengaduan", title="x",
              priority="critical", now=datetime.now(UTC) - timedelta(hours=3))
    job = EscalationService(app_context, interval=0.05)
    job.start()
    try:
        for _ in range(100):
            with app_context.db.session(write=False) as s:
                if s.get(WorkOrder, wid).escalation_level == 2:  # type: ignore[union-attr]
                    break
            threading.Event().wait(0.05)
    finally:
        job.stop()
    with app_context.db.session(write=False) as s:
        assert s.get(WorkOrder, wid).escalation_level == 2  # type: ignore[union-attr]
    runner = CliRunner()
    once = runner.invoke(helpdesk, ["escalate"], obj={"app": app_context})
    assert once.exit_code == 0 and "escalated 0 work order(s)" in once.output
    table = runner.invoke(helpdesk, ["types", "penitipan_server"])
    assert "awaiting_approval  --approve--> setup" in table.output
    assert "[leadership]  if checks_pass" in table.output


def test_device_registration_goes_through_review_into_the_nac_register(
        app_context: AppContext, people: dict[str, str]) -> None:
    from nac.models import NacDevice

    details = {"mac": "AA-BB-CC-00-11-22", "device_type": "printer",
               "owner": "Sub-bag Umum", "purpose": "printer lantai 2"}
    with pytest.raises(ValidationError, match=r"details\.mac"):
        run(app_context, "rina", svc.create_work_order, type="pendaftaran_perangkat",
            title="Printer", details={**details, "mac": "not-a-mac"})
    wid = run(app_context, "rina", svc.create_work_order, type="pendaftaran_perangkat",
              title="Printer lantai 2", letter_ref=LETTER, details=details)
    assert wo_state(app_context, wid)[1]["mac"] == "aa:bb:cc:00:11:22"  # normalised at intake
    with app_context.db.session(write=False) as s:  # nothing joins before the review
        assert s.scalar(select(func.count()).select_from(NacDevice)) == 0
    run(app_context, "helpdesk", svc.transition, wid, "issue")
    run(app_context, "it_support", svc.transition, wid, "approve", {"comment": "ok"})
    state, facts = wo_state(app_context, wid)
    assert state == "returned" and facts["registered"] == "aa:bb:cc:00:11:22"
    with app_context.db.session(write=False) as s:
        device = s.scalars(select(NacDevice)).one()
        assert (device.status, device.role, device.opd_id, device.description) == (
            "active", "printer", user(app_context, "rina").opd_id, f"WO-{wid:06d}")
    # the same MAC again is refused at intake, with no work order written
    with pytest.raises(ConflictError, match="already registered"):
        run(app_context, "rina", svc.create_work_order, type="pendaftaran_perangkat",
            title="Printer lagi", letter_ref=LETTER, details=details)
    with app_context.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == 1
