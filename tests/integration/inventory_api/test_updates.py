"""PATCH through the update services (cables, manufacturers, reservations, tenants) and
the bandwidth-allocation endpoint with its tenancy, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from inventory.dcim import interfaces
from simpul.audit import Actor, list_entries
from simpul.context import AppContext
from simpul.models import Opd

Headers = dict[str, str]


def test_patch_manufacturer_and_tenant(client: FlaskClient, auth: Callable[..., Headers],
                                       world: dict[str, int], app_context: AppContext) -> None:
    makers = client.get("/api/dcim/manufacturers/?slug=cisco", headers=auth("infra"))
    mid = makers.get_json()["results"][0]["id"]
    r = client.patch(f"/api/dcim/manufacturers/{mid}/", json={"name": "Cisco Systems"},
                     headers=auth("infra"))
    assert r.status_code == 200 and r.get_json()["name"] == "Cisco Systems"
    client.post("/api/dcim/manufacturers/", json={"name": "Juniper", "slug": "juniper"},
                headers=auth("infra"))
    clash = client.patch(f"/api/dcim/manufacturers/{mid}/", json={"slug": "juniper"},
                         headers=auth("infra"))
    assert clash.status_code == 400 and "slug" in clash.get_json()["errors"]
    assert client.patch(f"/api/dcim/manufacturers/{mid}/", json={"name": "x"},
                        headers=auth("rina")).status_code == 403

    dinkes = world["dinkes_opd"]
    r = client.patch(f"/api/tenancy/tenants/{dinkes}/",
                     json={"name": "Dinas Kesehatan Kab. Sidoarjo", "description": "Dinkes"},
                     headers=auth("admin"))
    assert r.status_code == 200 and r.get_json()["name"] == "Dinas Kesehatan Kab. Sidoarjo"
    frozen = client.patch(f"/api/tenancy/tenants/{dinkes}/", json={"code": "X"},
                          headers=auth("admin"))
    assert frozen.status_code == 400
    assert client.patch(f"/api/tenancy/tenants/{dinkes}/", json={"name": "y"},
                        headers=auth("infra")).status_code == 403
    with app_context.db.session() as s:
        assert s.scalar(select(Opd.code).where(Opd.id == dinkes)) == "DINKES"
        actions = [e.action for e in list_entries(s, limit=50)]
    assert "opd.update" in actions and "manufacturer.update" in actions


def test_patch_cable_keeps_its_ends(client: FlaskClient, auth: Callable[..., Headers],
                                    world: dict[str, int], app_context: AppContext) -> None:
    with app_context.db.session() as s:
        other = interfaces.create_interface(s, Actor.system("t"),
                                            device_id=world["dinkes_device"], name="Gi1/0/2")
        s.flush()
        cable = interfaces.create_cable(s, Actor.system("t"),
                                        a_interface_id=world["dinkes_iface"],
                                        b_interface_id=other.id)
        s.flush()
        cid = cable.id
    r = client.patch(f"/api/dcim/cables/{cid}/", json={"label": "patch-7", "length": 3,
                                                       "status": "planned"},
                     headers=auth("infra"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["label"], body["length"], body["status"]["value"]) == ("patch-7", 3, "planned")
    assert body["a_terminations"][0]["object_id"] == world["dinkes_iface"]
    bad = client.patch(f"/api/dcim/cables/{cid}/", json={"length": -1, "status": "cut"},
                       headers=auth("infra"))
    assert bad.status_code == 400 and {"length", "status"} <= set(bad.get_json()["errors"])
    ends = client.patch(f"/api/dcim/cables/{cid}/", json={"a_terminations": []},
                        headers=auth("infra"))
    assert ends.status_code == 400
    assert client.get(f"/api/dcim/cables/{cid}/", headers=auth("infra")).get_json()[
        "label"] == "patch-7"  # nothing of a refused change was written


def test_patch_rack_reservation(client: FlaskClient, auth: Callable[..., Headers],
                                world: dict[str, int]) -> None:
    first = client.post("/api/dcim/rack-reservations/", json={
        "rack": world["rack"], "units": [20, 21], "tenant": world["dinkes_opd"],
        "description": "colo"}, headers=auth("dc"))
    assert first.status_code == 201, first.get_json()
    second = client.post("/api/dcim/rack-reservations/", json={
        "rack": world["rack"], "units": [30]}, headers=auth("dc"))
    rid = first.get_json()["id"]
    grown = client.patch(f"/api/dcim/rack-reservations/{rid}/", json={"units": [20, 21, 22]},
                         headers=auth("dc"))
    assert grown.status_code == 200 and grown.get_json()["units"] == [20, 21, 22]
    taken = client.patch(f"/api/dcim/rack-reservations/{rid}/", json={"units": [22, 30]},
                         headers=auth("dc"))
    assert taken.status_code == 400 and "U30 is already reserved" in str(taken.get_json())
    device = client.patch(f"/api/dcim/rack-reservations/{rid}/", json={"units": [10]},
                          headers=auth("dc"))
    assert device.status_code == 400 and "occupied by a device" in str(device.get_json())
    assert second.status_code == 201
    assert client.patch(f"/api/dcim/rack-reservations/{rid}/", json={"description": "x"},
                        headers=auth("rina")).status_code in (403, 404)


def test_bandwidth_allocations_api_with_tenancy(client: FlaskClient,
                                                auth: Callable[..., Headers],
                                                world: dict[str, int]) -> None:
    path = "/api/ipam/bandwidth-allocations/"
    r = client.post(path, json={"tenant": world["dinkes_opd"], "users": 40,
                                "site": world["dinkes_site"]}, headers=auth("infra"))
    assert r.status_code == 201, r.get_json()
    dinkes = r.get_json()
    assert (dinkes["committed_mbps"], dinkes["planned_mbps"]) == (200, 200)
    assert dinkes["tenant"]["id"] == world["dinkes_opd"]
    dishub = client.post(path, json={"tenant": world["dishub_opd"], "users": 10,
                                     "committed_mbps": 30}, headers=auth("infra")).get_json()
    patched = client.patch(f"{path}{dinkes['id']}/", json={"committed_mbps": 150},
                           headers=auth("infra"))
    assert patched.status_code == 200 and patched.get_json()["committed_mbps"] == 150
    bad = client.patch(f"{path}{dinkes['id']}/", json={"users": -3}, headers=auth("infra"))
    assert bad.status_code == 400 and "users" in bad.get_json()["errors"]
    # an OPD user sees only their OPD's quota; another's answers 404; nobody there writes
    rina = client.get(path, headers=auth("rina")).get_json()
    assert [row["id"] for row in rina["results"]] == [dinkes["id"]]
    assert client.get(f"{path}{dishub['id']}/", headers=auth("rina")).status_code == 404
    assert client.post(path, json={"tenant": world["dinkes_opd"], "users": 1},
                       headers=auth("rina")).status_code == 403
    assert client.get(f"{path}?tenant=DISHUB", headers=auth("noc")).get_json()["count"] == 1
    assert client.delete(f"{path}{dishub['id']}/", headers=auth("infra")).status_code == 204
    spec = client.get("/api/openapi.json", headers=auth("noc")).get_json()
    assert {"get", "post"} <= set(spec["paths"][path])
    assert {"get", "patch", "delete"} <= set(spec["paths"][f"{path}{{id}}/"])
