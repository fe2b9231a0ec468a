"""Rejected writes: 400 keyed by the API field, nothing stored."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

Auth = Callable[..., dict[str, str]]


def _count(client: FlaskClient, headers: dict[str, str], url: str) -> int:
    return client.get(url, headers=headers).get_json()["count"]


def _refused(client: FlaskClient, headers: dict[str, str], method: str, url: str,
             body: object, count_url: str, field: str, status: int = 400) -> dict:
    before = _count(client, headers, count_url)
    response = client.open(url, method=method, headers=headers, json=body)
    assert response.status_code == status, response.get_json()
    payload = response.get_json()
    assert field in payload["errors"], payload
    assert payload["detail"]
    assert _count(client, headers, count_url) == before
    return payload


def test_rule_violations_write_nothing(client: FlaskClient, auth: Auth,
                                       world: dict[str, int]) -> None:
    """Overlapping prefix, IP outside every prefix, duplicate device name, rack overlap."""
    h = auth("infra")
    body = _refused(client, h, "POST", "/api/ipam/prefixes/", {"prefix": "10.1.0.128/25"},
                    "/api/ipam/prefixes/", "prefix")
    assert body["errors"]["prefix"] == [
        "lies inside 10.1.0.0/24 (active); only a container may hold other prefixes"]
    _refused(client, h, "POST", "/api/ipam/prefixes/", {"prefix": "10.1.0.0/24"},
             "/api/ipam/prefixes/", "prefix")
    _refused(client, h, "POST", "/api/ipam/prefixes/", {"prefix": "not-a-prefix"},
             "/api/ipam/prefixes/", "prefix")
    body = _refused(client, h, "POST", "/api/ipam/ip-addresses/",
                    {"address": "172.16.0.1/24"}, "/api/ipam/ip-addresses/", "address")
    assert body["errors"]["address"] == ["172.16.0.1 is not inside any prefix of VRF global"]
    body = _refused(client, auth("dc"), "POST", "/api/dcim/devices/",
                    {"name": "srv-01", "device_type": world["dtype"], "role": "server",
                     "site": world["dc"]}, "/api/dcim/devices/", "name")
    assert body["errors"]["name"] == ["srv-01 already exists at DC Sidoarjo"]
    body = _refused(client, auth("dc"), "POST", "/api/dcim/devices/",
                    {"name": "srv-02", "device_type": world["dtype"], "role": "server",
                     "site": world["dc"], "rack": world["rack"], "position": 11,
                     "face": "front"}, "/api/dcim/devices/", "position")
    assert body["errors"]["position"] == ["U11 (front) of rack R01 is occupied by srv-01"]


BAD_DEVICES = [
    ({"name": "x", "device_type": 1, "role": "server"}, "site"),
    ({"name": "x", "device_type": 999, "role": "server", "site": 1}, "device_type"),
    ({"name": "x", "device_type": "one", "role": "server", "site": 1}, "device_type"),
    ({"name": "x", "device_type": 1, "role": "wizard", "site": 1}, "role"),
    ({"name": "x", "device_type": 1, "role": "server", "site": 1, "shoe": 3}, "shoe"),
    ({"name": "x", "device_type": 1, "role": "server", "site": 1, "primary_ip4": 1},
     "primary_ip4"),
    ({"name": "x", "device_type": 1, "role": "server", "site": 1, "position": True},
     "position"),
]


def test_bad_device_payloads(client: FlaskClient, auth: Auth, world: dict[str, int]) -> None:
    for body, field in BAD_DEVICES:
        _refused(client, auth("dc"), "POST", "/api/dcim/devices/", body,
                 "/api/dcim/devices/", field)
    not_json = client.post("/api/dcim/devices/", headers=auth("dc"), data="name=x",
                           content_type="text/plain")
    assert not_json.status_code == 400


def test_bulk_create_is_all_or_nothing(client: FlaskClient, auth: Auth,
                                       world: dict[str, int]) -> None:
    h = auth("infra")
    body = _refused(client, h, "POST", "/api/ipam/vlans/",
                    [{"vid": 10, "name": "data"}, {"vid": 10, "name": "dup"}],
                    "/api/ipam/vlans/", "vid")
    assert body["detail"].startswith("item 1: ")
    ok = client.post("/api/ipam/vlans/", headers=h,
                     json=[{"vid": 10, "name": "data"}, {"vid": 20, "name": "voice"}])
    assert ok.status_code == 201 and [v["vid"] for v in ok.get_json()] == [10, 20]


def test_patch_checks_and_keeps_data(client: FlaskClient, auth: Auth,
                                     world: dict[str, int]) -> None:
    h = auth("infra")
    url = f"/api/ipam/prefixes/{world['dinkes_prefix']}/"
    fixed = client.patch(url, headers=h, json={"prefix": "10.7.0.0/24"})
    assert fixed.status_code == 400 and "prefix" in fixed.get_json()["errors"]
    same = client.put(url, headers=h, json={"prefix": "10.1.0.0/24", "vrf": None,
                                            "status": "active"})
    assert same.status_code == 200, same.get_json()
    bad = client.patch(url, headers=h, json={"status": "sideways"})
    assert bad.status_code == 400 and "status" in bad.get_json()["errors"]
    wrong_tenant = client.patch(url, headers=h, json={"tenant": 999})
    assert wrong_tenant.status_code == 400
    assert wrong_tenant.get_json()["errors"] == {"tenant": ["999 does not exist"]}
    good = client.patch(url, headers=h, json={"status": {"value": "reserved"},
                                              "tenant": "DISHUB", "description": "moved"})
    assert good.status_code == 200, good.get_json()
    body = good.get_json()
    assert body["status"]["value"] == "reserved" and body["tenant"]["code"] == "DISHUB"
    assert client.get(url, headers=h).get_json()["description"] == "moved"
    in_use = client.delete(url, headers=h)
    assert in_use.status_code == 409 and "10.2.0.10" not in in_use.get_json()["detail"]
