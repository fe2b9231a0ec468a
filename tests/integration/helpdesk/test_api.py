"""The helpdesk API end to end through the SOP roles, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from inventory.models import IpAddress
from simpul.audit import list_entries
from simpul.context import AppContext

WO = "/api/helpdesk/work-orders/"


def fire(client: FlaskClient, headers: dict[str, str], wo_id: int, action: str,
         status: int = 200, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{WO}{wo_id}/transitions/", headers=headers,
                           json={"action": action, **fields})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def file_ip_request(client: FlaskClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = client.post(WO, headers=headers, json={
        "type": "penambahan_ip", "title": "Dua IP untuk ruang server Puskesmas",
        "letter_ref": "800/123/438.5.2/2026",
        "details": {"ip_count": 2, "location": "Puskesmas Candi, ruang server"}, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_ip_request_end_to_end_allocates_and_shows_the_addresses(
        app_context: AppContext, client: FlaskClient, tokens: dict[str, dict[str, str]],
        prefix_id: int) -> None:
    wo = file_ip_request(client, tokens["rina"])
    assert (wo["state"], wo["holder_role"], wo["opd"]["code"]) == ("submitted", "helpdesk",
                                                                   "DINKES")
    assert [a["action"] for a in wo["allowed_actions"]] == []  # nothing for the requester yet
    wid = wo["id"]
    body = fire(client, tokens["helpdesk"], wid, "issue", comment="WO diterbitkan")
    assert body["state"] == "survey"
    fire(client, tokens["it_support"], wid, "recommend", location="Ruang server lt. 2",
         ip_count=2, equipment="switch 8 port")
    # Infrastruktur without a prefix: the machine names the missing field, nothing changes
    bad = client.post(f"{WO}{wid}/transitions/", headers=tokens["infrastructure"],
                      json={"action": "approve"})
    assert bad.status_code == 400 and bad.get_json()["errors"] == {"prefix_id": ["required"]}
    body = fire(client, tokens["infrastructure"], wid, "approve", prefix_id=prefix_id,
                comment="Disetujui dari LAN Dinkes")
    assert body["state"] == "installation"
    assert body["details"]["allocations"] == {"local": ["192.0.2.1/24", "192.0.2.2/24"]}
    fire(client, tokens["it_support"], wid, "complete", comment="Terpasang, koneksi OK")
    fire(client, tokens["helpdesk"], wid, "request_confirmation")
    seen = client.get(f"{WO}{wid}/", headers=tokens["rina"]).get_json()
    assert seen["state"] == "resolved" and seen["sla"]["paused"] is True
    assert seen["details"]["allocations"]["local"] == ["192.0.2.1/24", "192.0.2.2/24"]
    assert [a["action"] for a in seen["allowed_actions"]] == ["confirm", "reopen"]
    body = fire(client, tokens["rina"], wid, "confirm")
    assert body["state"] == "closed" and body["closed_at"] and body["allowed_actions"] == []
    assert [(e["actor"], e["action"], e["to_state"]) for e in body["timeline"]] == [
        ("rina", "create", "submitted"), ("helpdesk", "issue", "survey"),
        ("it_support", "recommend", "analysis"), ("infrastructure", "approve", "installation"),
        ("it_support", "complete", "returned"), ("helpdesk", "request_confirmation", "resolved"),
        ("rina", "confirm", "closed")]
    with app_context.db.session() as s:
        ips = s.scalars(select(IpAddress).order_by(IpAddress.id)).all()
        assert [(ip.address, ip.opd_id is not None) for ip in ips] == [
            ("192.0.2.1/24", True), ("192.0.2.2/24", True)]
        actions = [e.action for e in list_entries(s, object_type="WorkOrder", limit=50)]
        assert actions.count("helpdesk.transition") == 6 and "helpdesk.create" in actions
        assert "ipaddress.allocate" in [e.action for e in list_entries(s, limit=100)]


def test_labels_follow_the_request_language(client: FlaskClient,
                                            tokens: dict[str, dict[str, str]]) -> None:
    wo = file_ip_request(client, tokens["rina"])
    en = client.get(f"{WO}{wo['id']}/", headers={**tokens["rina"], "Accept-Language": "en"})
    idn = client.get(f"{WO}{wo['id']}/", headers={**tokens["rina"], "Accept-Language": "id"})
    assert en.get_json()["type_label"] == "IP address request"
    assert idn.get_json()["type_label"] == "Penambahan IP"
    assert idn.get_json()["state"] == en.get_json()["state"] == "submitted"


def test_another_opd_gets_404_everywhere(client: FlaskClient,
                                         tokens: dict[str, dict[str, str]]) -> None:
    wid = file_ip_request(client, tokens["rina"])["id"]
    budi = tokens["budi"]
    assert client.get(f"{WO}{wid}/", headers=budi).status_code == 404
    assert client.get(f"{WO}{wid}/comments/", headers=budi).status_code == 404
    assert client.post(f"{WO}{wid}/comments/", headers=budi,
                       json={"comment": "hai"}).status_code == 404
    assert client.post(f"{WO}{wid}/transitions/", headers=budi,
                       json={"action": "confirm"}).status_code == 404
    assert client.get(WO, headers=budi).get_json()["count"] == 0
    assert client.get(WO, headers=tokens["rina"]).get_json()["count"] == 1
    assert client.get(WO, headers=tokens["helpdesk"]).get_json()["count"] == 1


def test_refusals_name_state_action_and_role(client: FlaskClient,
                                             tokens: dict[str, dict[str, str]]) -> None:
    wid = file_ip_request(client, tokens["rina"])["id"]
    staff_only = fire(client, tokens["rina"], wid, "issue", status=403)
    assert "requester" in staff_only["detail"] and "issue" in staff_only["detail"]
    wrong_state = fire(client, tokens["infrastructure"], wid, "approve", status=409)
    assert "'approve'" in wrong_state["detail"] and "'submitted'" in wrong_state["detail"]
    assert "'infrastructure'" in wrong_state["detail"]
    assert fire(client, tokens["helpdesk"], wid, "fly", status=400)["errors"] == {
        "action": ["unknown action"]}
    no_reason = fire(client, tokens["helpdesk"], wid, "reject", status=400)
    assert no_reason["errors"] == {"reason": ["required"]}
    stale = fire(client, tokens["helpdesk"], wid, "issue", status=409, version=99)
    assert stale["errors"] == {"version": ["stale"]}
    body = client.get(f"{WO}{wid}/", headers=tokens["helpdesk"]).get_json()
    assert body["state"] == "submitted" and len(body["timeline"]) == 1


def test_umum_needs_a_letter_vvip_goes_straight(client: FlaskClient,
                                                tokens: dict[str, dict[str, str]]) -> None:
    plain = client.post(WO, headers=tokens["rina"], json={
        "type": "permintaan", "title": "Akun e-mail dinas"}).get_json()
    assert fire(client, tokens["helpdesk"], plain["id"], "resolve", status=409,
                comment="x")["errors"] == {"action": ["VVIP only"]}
    refused = fire(client, tokens["helpdesk"], plain["id"], "issue", status=400)
    assert refused["errors"] == {"letter_ref": ["required for Umum"]}
    assert client.patch(f"{WO}{plain['id']}/", headers=tokens["budi"],
                        json={"letter_ref": "x"}).status_code == 404
    lettered = client.patch(f"{WO}{plain['id']}/", headers=tokens["rina"],
                            json={"letter_ref": "ND/12/2026"})
    assert lettered.status_code == 200 and lettered.get_json()["letter_ref"] == "ND/12/2026"
    assert fire(client, tokens["helpdesk"], plain["id"], "issue")["state"] == "at_it_support"
    late = client.patch(f"{WO}{plain['id']}/", headers=tokens["rina"], json={"letter_ref": "y"})
    assert late.status_code == 409
    vvip = client.post(WO, headers=tokens["helpdesk"], json={
        "type": "permintaan", "title": "Proyektor ruang rapat Bupati", "opd": "DINKES",
        "requester_class": "vvip", "vvip_title": "bupati", "channel": "phone"}).get_json()
    body = fire(client, tokens["helpdesk"], vvip["id"], "resolve", comment="Dipasang langsung")
    assert body["state"] == "resolved"
    bad = client.post(WO, headers=tokens["rina"], json={
        "type": "permintaan", "title": "x", "requester_class": "vvip"})
    assert bad.status_code == 400 and "requester_class" in bad.get_json()["errors"]


def test_types_document_and_comments(client: FlaskClient,
                                     tokens: dict[str, dict[str, str]]) -> None:
    machines = client.get("/api/helpdesk/types/", headers=tokens["rina"]).get_json()
    assert len(machines) == 11
    coloc = next(m for m in machines if m["type"] == "penitipan_server")
    approve = next(t for t in coloc["transitions"] if t["action"] == "approve")
    assert approve["roles"] == ["leadership"] and approve["guards"] == ["checks_pass"]
    points = next(m for m in machines if m["type"] == "titik_koneksi")
    approve = next(t for t in points["transitions"] if t["action"] == "approve")
    assert (approve["requires"], approve["optional"]) == (["site_id"], ["location_id"])
    wid = file_ip_request(client, tokens["rina"])["id"]
    posted = client.post(f"{WO}{wid}/comments/", headers=tokens["rina"],
                         json={"comment": "Mohon segera"})
    assert posted.status_code == 201 and posted.get_json()["actor"] == "rina"
    listed = client.get(f"{WO}{wid}/comments/", headers=tokens["helpdesk"]).get_json()
    assert [c["comment"] for c in listed] == ["Mohon segera"]


def test_list_filters_and_assignment(client: FlaskClient,
                                     tokens: dict[str, dict[str, str]]) -> None:
    wid = file_ip_request(client, tokens["rina"])["id"]
    client.post(WO, headers=tokens["budi"], json={"type": "pengaduan", "title": "Wi-Fi mati"})
    hd = tokens["helpdesk"]
    assert client.get(f"{WO}?type=pengaduan", headers=hd).get_json()["count"] == 1
    assert client.get(f"{WO}?opd=dinkes", headers=hd).get_json()["count"] == 1
    assert client.get(f"{WO}?overdue=false", headers=hd).get_json()["count"] == 2
    assert client.get(f"{WO}?overdue=maybe", headers=hd).status_code == 400
    fire(client, hd, wid, "issue")
    assert client.get(f"{WO}?assigned=it_support", headers=hd).get_json()["count"] == 1
    given = client.post(f"{WO}{wid}/assign/", headers=tokens["it_support"],
                        json={"assignee": "it_support"})
    assert given.status_code == 200 and given.get_json()["assignee"] == "it_support"
    mine = client.get(f"{WO}?assigned=me", headers=tokens["it_support"]).get_json()
    assert [w["id"] for w in mine["results"]] == [wid]
    wrong = client.post(f"{WO}{wid}/assign/", headers=hd, json={"assignee": "datacenter"})
    assert wrong.status_code == 400
    paused = client.post(f"{WO}{wid}/sla/", headers=hd,
                         json={"action": "pause", "reason": "menunggu denah dari OPD"})
    assert paused.get_json()["sla"]["paused"] is True
    resumed = client.post(f"{WO}{wid}/sla/", headers=hd, json={"action": "resume"})
    assert resumed.get_json()["sla"]["paused"] is False
    assert client.post(f"{WO}{wid}/sla/", headers=tokens["rina"],
                       json={"action": "pause", "reason": "x"}).status_code == 403


def test_report_as_json_and_csv(client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    file_ip_request(client, tokens["rina"])
    client.post(WO, headers=tokens["budi"], json={"type": "pengaduan", "title": "Wi-Fi"})
    url = "/api/helpdesk/reports/resolution/"
    staff = client.get(url, headers=tokens["helpdesk"]).get_json()
    assert [(r["type"], r["opd"], r["filed"], r["open"]) for r in staff] == [
        ("penambahan_ip", "DINKES", 1, 1), ("pengaduan", "BAPPEDA", 1, 1)]
    csv = client.get(f"{url}?format=csv", headers=tokens["rina"])
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[1:] == [
        f"penambahan_ip,DINKES,{staff[0]['month']},1,0,0,1,,"]
    assert client.get(f"{url}?since=yesterday", headers=tokens["rina"]).status_code == 400
