"""DCIM through the API: build a rack with devices, cable them, read the elevation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from simpul.audit import list_entries
from simpul.context import AppContext

Auth = Callable[..., dict[str, str]]


def _post(client: FlaskClient, h: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    response = client.post(url, headers=h, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_build_a_rack(client: FlaskClient, auth: Auth, app_context: AppContext) -> None:
    h = auth("dc")
    site = _post(client, h, "/api/dcim/sites/", name="DC Sidoarjo", slug="dc",
                 status="active")
    room = _post(client, h, "/api/dcim/locations/", site=site["id"], name="Server room",
                 slug="server-room", kind="room")
    assert room["site"]["slug"] == "dc" and room["kind"]["label"] == "Room"
    rack = _post(client, h, "/api/dcim/racks/", site=site["id"], location=room["id"],
                 name="R01", u_height=10, power_budget_w=1000)
    feed = _post(client, h, "/api/dcim/power-feeds/", rack=rack["id"], name="A",
                 amperage=10)
    assert feed["available_w"] == 1840 and feed["rack"]["id"] == rack["id"]
    maker = _post(client, h, "/api/dcim/manufacturers/", name="Juniper", slug="juniper")
    dtype = _post(client, h, "/api/dcim/device-types/", manufacturer=maker["id"],
                  model="EX4300", slug="ex4300", u_height=1, power_draw_w=400)
    assert dtype["manufacturer"]["name"] == "Juniper"
    core = _post(client, h, "/api/dcim/devices/", name="core-1", device_type=dtype["id"],
                 role="core", platform="junos", site=site["id"], rack=rack["id"],
                 position=10)
    assert core["face"] == {"value": "front", "label": "Front"}
    assert core["platform"]["label"] == "Junos" and core["rack"]["name"] == "R01"
    dist = _post(client, h, "/api/dcim/devices/", name="dist-1", device_type=dtype["id"],
                 role="distribution", site=site["id"], rack=rack["id"], position=9)
    over = client.post("/api/dcim/devices/", headers=h, json={
        "name": "dist-2", "device_type": dtype["id"], "role": "distribution",
        "site": site["id"], "rack": rack["id"], "position": 1})
    assert over.status_code == 409 and "1200 W" in over.get_json()["detail"]
    assert "rack" in over.get_json()["errors"]

    elevation = client.get(f"/api/dcim/racks/{rack['id']}/elevation/", headers=h).get_json()
    assert elevation["count"] == 10
    assert [u["name"] for u in elevation["results"][:3]] == ["U10", "U9", "U8"]
    assert elevation["results"][0]["device"]["name"] == "core-1"
    assert elevation["results"][2] == {"id": 8, "name": "U8", "face": {
        "value": "front", "label": "Front"}, "device": None, "occupied": False,
        "reserved": False}
    rear = client.get(f"/api/dcim/racks/{rack['id']}/elevation/?face=rear", headers=h)
    assert rear.get_json()["results"][1]["device"]["name"] == "dist-1"  # full depth
    assert client.get(f"/api/dcim/racks/{rack['id']}/elevation/?face=top",
                      headers=h).status_code == 400
    held = _post(client, h, "/api/dcim/rack-reservations/", rack=rack["id"], units=[1, 2],
                 tenant="DINKES", description="colocation WO-7")
    assert held["units"] == [1, 2] and held["tenant"]["code"] == "DINKES"
    units = client.get(f"/api/dcim/racks/{rack['id']}/elevation/", headers=h).get_json()
    assert [u["name"] for u in units["results"] if u["reserved"]] == ["U2", "U1"]
    blocked = client.post("/api/dcim/devices/", headers=h, json={
        "name": "colo-1", "device_type": dtype["id"], "role": "server", "site": site["id"],
        "rack": rack["id"], "position": 1})
    assert blocked.status_code == 400
    assert "reserved" in blocked.get_json()["errors"]["position"][0]
    outlet = _post(client, h, "/api/dcim/wall-outlets/", site=site["id"], label="WO-A1",
                   kind="patch-port")
    assert outlet["status"]["value"] == "free"
    free = client.get("/api/dcim/wall-outlets/?status=free&site=dc", headers=h).get_json()
    assert [o["label"] for o in free["results"]] == ["WO-A1"]
    detail = client.get(f"/api/dcim/racks/{rack['id']}/", headers=h).get_json()
    assert detail["utilization"] == {"front": 20.0, "rear": 20.0}
    assert (detail["power_draw_w"], detail["power_limit_w"]) == (800, 1000)
    assert held["power_w"] == 0 and detail["power_reserved_w"] == 0

    # reserved watts: held against the limit, refused beyond it (409, nothing written)
    url = "/api/dcim/rack-reservations/"
    greedy = client.post(url, headers=h, json={"rack": rack["id"], "units": [3],
                                               "power_w": 300})
    assert greedy.status_code == 409
    assert greedy.get_json()["errors"]["power_w"] == ["only 200 W left in rack R01"]
    assert client.post(url, headers=h, json={"rack": rack["id"], "units": [3],
                                             "power_w": -5}).status_code == 400
    colo = _post(client, h, url, rack=rack["id"], units=[3, 4], tenant="DINKES",
                 power_w=150)
    assert colo["power_w"] == 150
    detail = client.get(f"/api/dcim/racks/{rack['id']}/", headers=h).get_json()
    assert (detail["power_draw_w"], detail["power_reserved_w"]) == (800, 150)
    grown = client.patch(f"{url}{colo['id']}/", headers=h, json={"power_w": 250})
    assert grown.status_code == 409, grown.get_json()
    shrunk = client.patch(f"{url}{colo['id']}/", headers=h, json={"power_w": 100})
    assert shrunk.status_code == 200 and shrunk.get_json()["power_w"] == 100
    listed = client.get(f"/api/dcim/racks/?id={rack['id']}", headers=h).get_json()
    assert listed["results"][0]["power_reserved_w"] == 100

    ifaces = client.post("/api/dcim/interfaces/", headers=h, json=[
        {"device": core["id"], "name": "xe-0/0/0", "type": "10gbase-x-sfpp",
         "mac_address": "00-11-22-33-44-55"},
        {"device": dist["id"], "name": "xe-0/0/0", "type": "10gbase-x-sfpp"}])
    assert ifaces.status_code == 201, ifaces.get_json()
    a, b = ifaces.get_json()
    assert a["mac_address"] == "00:11:22:33:44:55" and a["device"]["name"] == "core-1"
    cable = _post(client, h, "/api/dcim/cables/", label="C-001", length=3,
                  a_terminations=[{"object_type": "dcim.interface", "object_id": a["id"]}],
                  b_terminations=[{"object_type": "dcim.interface", "object_id": b["id"]}])
    assert cable["a_terminations"][0]["object"]["device"]["name"] == "core-1"
    assert cable["length"] == 3 and cable["status"]["value"] == "connected"
    a_now = client.get(f"/api/dcim/interfaces/{a['id']}/", headers=h).get_json()
    assert a_now["cable"]["id"] == cable["id"] and a_now["link_peers"][0]["id"] == b["id"]
    busy = client.post("/api/dcim/cables/", headers=h, json={
        "a_terminations": [{"object_type": "dcim.interface", "object_id": a["id"]}],
        "b_terminations": [{"object_type": "dcim.interface", "object_id": b["id"]}]})
    assert busy.status_code == 400 and "a_terminations" in busy.get_json()["errors"]

    # a management address on core-1, then made its primary IPv4
    infra = auth("infra")
    pfx = _post(client, infra, "/api/ipam/prefixes/", prefix="192.0.2.0/24")
    ip = _post(client, infra, "/api/ipam/ip-addresses/", address="192.0.2.1/24",
               assigned_object_type="dcim.interface", assigned_object_id=a["id"])
    assert ip["assigned_object"]["device"]["name"] == "core-1"
    assert ip["assigned_object_type"] == "dcim.interface"
    patched = client.patch(f"/api/dcim/devices/{core['id']}/", headers=h,
                           json={"primary_ip4": ip["id"], "serial": "JN123"})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["primary_ip4"]["address"] == "192.0.2.1/24"
    by_device = client.get(f"/api/ipam/ip-addresses/?device_id={core['id']}",
                           headers=h).get_json()
    assert [i["id"] for i in by_device["results"]] == [ip["id"]]
    assert client.get(f"/api/ipam/prefixes/{pfx['id']}/", headers=h).status_code == 200

    moved = client.put(f"/api/dcim/devices/{dist['id']}/", headers=h, json={
        "name": "dist-1", "device_type": dtype["id"], "role": "distribution",
        "site": site["id"], "rack": rack["id"], "position": 5})
    assert moved.status_code == 200 and moved.get_json()["position"] == 5
    partial_put = client.put(f"/api/dcim/devices/{dist['id']}/", headers=h,
                             json={"position": 4})
    assert partial_put.status_code == 400 and "name" in partial_put.get_json()["errors"]

    assert client.delete(f"/api/dcim/cables/{cable['id']}/", headers=h).status_code == 204
    assert client.get(f"/api/dcim/cables/{cable['id']}/", headers=h).status_code == 404
    assert client.delete(f"/api/dcim/racks/{rack['id']}/", headers=h).status_code == 409
    assert client.delete(f"/api/dcim/devices/{dist['id']}/", headers=h).status_code == 204
    with app_context.db.session() as s:
        entry = list_entries(s, action="device.delete")[0]
        assert (entry.actor_name, entry.channel) == ("dc", "api")


def test_ipam_objects(client: FlaskClient, auth: Auth) -> None:
    h = auth("infra")
    vrf = _post(client, h, "/api/ipam/vrfs/", name="opd-dinkes", rd="65000:10")
    group = _post(client, h, "/api/ipam/vlan-groups/", name="DC", slug="dc", min_vid=100,
                  max_vid=199)
    vlan = _post(client, h, "/api/ipam/vlans/", group=group["id"], vid=110, name="servers")
    assert vlan["group"]["slug"] == "dc" and vlan["status"]["value"] == "active"
    outside = client.post("/api/ipam/vlans/", headers=h,
                          json={"group": group["id"], "vid": 10, "name": "x"})
    assert outside.status_code == 400 and "vid" in outside.get_json()["errors"]
    assert client.get(f"/api/ipam/vlan-groups/{group['id']}/",
                      headers=h).get_json()["utilization"] == 1.0
    pfx = _post(client, h, "/api/ipam/prefixes/", prefix="2001:db8::/64", vrf=vrf["id"],
                vlan=vlan["id"])
    assert pfx["family"]["value"] == 6 and pfx["vrf"]["rd"] == "65000:10"
    rng = _post(client, h, "/api/ipam/ip-ranges/", start_address="2001:db8::100",
                end_address="2001:db8::1ff", vrf=vrf["id"], status="active")
    assert rng["size"] == 256 and rng["start_address"] == "2001:db8::100/64"
    free = client.get(f"/api/ipam/prefixes/{pfx['id']}/available-ips/?limit=2",
                      headers=h).get_json()
    assert [f["address"] for f in free] == ["2001:db8::1/64", "2001:db8::2/64"]
    assert free[0]["vrf"]["id"] == vrf["id"]
    ip = client.post(f"/api/ipam/prefixes/{pfx['id']}/available-ips/", headers=h,
                     json={"role": "vip", "dns_name": "svc.example"}).get_json()
    assert ip["address"] == "2001:db8::1/64" and ip["role"]["label"] == "VIP"
    assert ip["vrf"]["name"] == "opd-dinkes"
    cleared = client.patch(f"/api/ipam/ip-addresses/{ip['id']}/", headers=h,
                           json={"role": None, "dns_name": "svc2.example"}).get_json()
    assert cleared["role"] is None and cleared["address"] == "2001:db8::1/64"
    assert client.get("/api/ipam/ip-addresses/?vrf_id=null", headers=h).get_json()[
        "count"] == 0
    assert client.delete(f"/api/ipam/vrfs/{vrf['id']}/", headers=h).status_code == 409
    assert client.delete(f"/api/ipam/ip-addresses/{ip['id']}/", headers=h).status_code == 204
