"""The register API: tenancy, pending self-service, approval, bad and duplicate MACs, audit."""

from __future__ import annotations

from flask.testing import FlaskClient

from simpul.audit import list_entries
from simpul.context import AppContext

MAC_A = "02:00:5e:00:53:0a"
MAC_B = "02:00:5e:00:53:0b"


def _create(client: FlaskClient, headers: dict[str, str], **body: object) -> dict:
    response = client.post("/api/nac/devices/", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_opd_self_service_lands_pending_and_staff_approve(
        client: FlaskClient, tokens: dict[str, dict[str, str]], app_context: AppContext) -> None:
    device = _create(client, tokens["rina"], mac="02-00-5E-00-53-0A", owner="Rina",
                     device_type="laptop", purpose="poli umum")
    assert (device["mac"], device["opd"], device["status"]) == (MAC_A, "DINKES", "pending")
    assert device["role"] == "staff" and device["registered_by"] == "rina"
    # the OPD user may not approve their own registration, nor may the help desk
    for who in ("rina", "desk"):
        refused = client.patch(f"/api/nac/devices/{device['id']}/", json={"status": "active"},
                               headers=tokens[who])
        assert refused.status_code == 403, refused.get_json()
    approved = client.patch(f"/api/nac/devices/{device['id']}/", json={"status": "active"},
                            headers=tokens["itsup"])
    assert approved.status_code == 200 and approved.get_json()["status"] == "active"
    assert approved.get_json()["approved_by"] == "itsup"
    with app_context.db.session() as s:
        actions = [(e.action, e.actor_name) for e in list_entries(s, object_type="NacDevice")]
    assert actions == [("nac.device.approve", "itsup"), ("nac.device.create", "rina")]


def test_opd_user_never_sees_or_touches_another_opds_device(
        client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    theirs = _create(client, tokens["budi"], mac=MAC_B, device_type="printer")
    mine = _create(client, tokens["rina"], mac=MAC_A)
    url = f"/api/nac/devices/{theirs['id']}/"
    assert client.get(url, headers=tokens["rina"]).status_code == 404
    assert client.patch(url, json={"owner": "x"}, headers=tokens["rina"]).status_code == 404
    assert client.delete(url, headers=tokens["rina"]).status_code == 404
    listed = client.get("/api/nac/devices/", headers=tokens["rina"]).get_json()
    assert [d["mac"] for d in listed["results"]] == [MAC_A] and listed["count"] == 1
    staff = client.get("/api/nac/devices/?status=pending", headers=tokens["itsup"]).get_json()
    assert {d["mac"] for d in staff["results"]} == {MAC_A, MAC_B}
    # registering for another OPD is refused outright
    other = client.post("/api/nac/devices/", json={"mac": "02:00:5e:00:53:0c", "opd": "DISDIK"},
                        headers=tokens["rina"])
    assert other.status_code == 403
    # an OPD user may withdraw their own pending registration
    assert client.delete(f"/api/nac/devices/{mine['id']}/",
                         headers=tokens["rina"]).status_code == 204


def test_staff_register_active_and_block(client: FlaskClient,
                                         tokens: dict[str, dict[str, str]]) -> None:
    device = _create(client, tokens["itsup"], mac=MAC_A, opd="DINKES", device_type="camera",
                     expires_at="2030-01-01")
    assert (device["status"], device["role"]) == ("active", "cctv")
    assert device["expires_at"].startswith("2030-01-01T00:00:00")
    blocked = client.patch(f"/api/nac/devices/{device['id']}/", json={"status": "blocked"},
                           headers=tokens["admin"])
    assert blocked.get_json()["status"] == "blocked"
    # an OPD user cannot delete a blocked device to re-register it
    delete = client.delete(f"/api/nac/devices/{device['id']}/", headers=tokens["rina"])
    assert delete.status_code == 403


def test_bad_and_duplicate_macs_are_refused_with_messages(
        client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    bad = client.post("/api/nac/devices/", json={"mac": "02:00:5e:00:53"},
                      headers=tokens["rina"])
    assert bad.status_code == 400
    assert "not a MAC address" in bad.get_json()["detail"]
    assert bad.get_json()["errors"] == {"mac": ["not a MAC address"]}
    multicast = client.post("/api/nac/devices/", json={"mac": "01:00:5e:00:00:fb"},
                            headers=tokens["rina"])
    assert multicast.status_code == 400 and "multicast" in multicast.get_json()["detail"]
    _create(client, tokens["budi"], mac=MAC_B)
    dup = client.post("/api/nac/devices/", json={"mac": "0200.5E00.530B"},
                      headers=tokens["rina"])
    assert dup.status_code == 409
    # the message names the clash without revealing the other OPD
    assert dup.get_json()["detail"] == f"MAC {MAC_B} is already registered (another OPD)"
    staff_dup = client.post("/api/nac/devices/", json={"mac": MAC_B, "opd": "DINKES"},
                            headers=tokens["itsup"])
    assert staff_dup.get_json()["detail"] == f"MAC {MAC_B} is already registered (DISDIK)"
    unknown_field = client.post("/api/nac/devices/", json={"mac": MAC_A, "vlan": 5},
                                headers=tokens["rina"])
    assert unknown_field.status_code == 400


CSV_GOOD = "mac,owner,opd,device_type,expires_at\n" \
           "02:00:5e:00:53:21,A,DINKES,printer,2030-01-01\n" \
           "02-00-5e-00-53-22,B,DINKES,phone,\n"
CSV_MIXED = CSV_GOOD + "zz,C,DINKES,pc,\n02:00:5e:00:53:21,D,DINKES,pc,\n" \
                       "02:00:5e:00:53:23,E,NOPE,pc,\n02:00:5e:00:53:24,F,DINKES,toaster,\n"


def test_csv_import_is_all_or_nothing_unless_partial(
        client: FlaskClient, tokens: dict[str, dict[str, str]], app_context: AppContext) -> None:
    strict = client.post("/api/nac/devices/import/", data=CSV_MIXED, headers=tokens["itsup"],
                         content_type="text/csv")
    assert strict.status_code == 400
    report = strict.get_json()
    assert report["kept"] is False and report["created"] == []
    assert [(e["line"], e["mac"]) for e in report["errors"]] == [
        (4, "zz"), (5, "02:00:5e:00:53:21"), (6, "02:00:5e:00:53:23"),
        (7, "02:00:5e:00:53:24")]
    reasons = [e["reason"] for e in report["errors"]]
    assert "not a MAC address" in reasons[0] and "already registered" in reasons[1]
    assert "unknown OPD" in reasons[2] and "device_type 'toaster'" in reasons[3]
    listed = client.get("/api/nac/devices/", headers=tokens["itsup"]).get_json()
    assert listed["count"] == 0
    partial = client.post("/api/nac/devices/import/?partial=true", data=CSV_MIXED,
                          headers=tokens["itsup"], content_type="text/csv")
    assert partial.status_code == 200
    assert partial.get_json()["created"] == ["02:00:5e:00:53:21", "02:00:5e:00:53:22"]
    assert len(partial.get_json()["errors"]) == 4
    with app_context.db.session() as s:
        assert len(list_entries(s, action="nac.device.create")) == 2


def test_csv_import_by_opd_user_lands_pending_in_their_opd(
        client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    text = "mac,owner\n02:00:5e:00:53:31,A\n02:00:5e:00:53:32,B\n"
    done = client.post("/api/nac/devices/import/", data=text, headers=tokens["rina"],
                       content_type="text/csv")
    assert done.status_code == 200, done.get_json()
    listed = client.get("/api/nac/devices/", headers=tokens["rina"]).get_json()["results"]
    assert {(d["opd"], d["status"]) for d in listed} == {("DINKES", "pending")}
