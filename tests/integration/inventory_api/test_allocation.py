"""The NetBox client flow: create a prefix, allocate from it, read the result back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free local port, as a NetBox script sees it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_netbox_script_flow_over_http(base_url: str, auth: Auth) -> None:
    api = requests.Session()
    api.headers.update({**auth("infra"), "Accept": "application/json"})
    created = api.post(f"{base_url}/api/ipam/prefixes/", json={
        "prefix": "198.51.100.0/24", "status": "active", "description": "servers"})
    assert created.status_code == 201, created.text
    prefix = created.json()
    assert prefix["url"] == f"{base_url}/api/ipam/prefixes/{prefix['id']}/"
    assert prefix["status"] == {"value": "active", "label": "Active"}
    assert prefix["family"] == {"value": 4, "label": "IPv4"}

    allocated = api.post(f"{prefix['url']}available-ips/",
                         json={"dns_name": "web1.example.go.id", "description": "web"})
    assert allocated.status_code == 201, allocated.text
    ip = allocated.json()
    assert ip["address"] == "198.51.100.1/24" and ip["dns_name"] == "web1.example.go.id"

    fetched = api.get(f"{base_url}/api/ipam/ip-addresses/{ip['id']}/")
    assert fetched.status_code == 200
    assert fetched.json()["address"] == "198.51.100.1/24"
    assert fetched.json()["status"]["value"] == "active"

    free = api.get(f"{prefix['url']}available-ips/", params={"limit": 3}).json()
    assert [f["address"] for f in free] == ["198.51.100.2/24", "198.51.100.3/24",
                                            "198.51.100.4/24"]
    listed = api.get(f"{base_url}/api/ipam/ip-addresses/",
                     params={"parent": "198.51.100.0/24"}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == ip["id"]


def _prefix(client: FlaskClient, headers: dict[str, str], **body: object) -> dict:
    response = client.post("/api/ipam/prefixes/", headers=headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_count_allocates_distinct_addresses(client: FlaskClient, auth: Auth) -> None:
    """``count`` and list bodies; new addresses inherit the prefix's tenant."""
    h = auth("infra")
    pid = _prefix(client, h, prefix="192.0.2.0/26")["id"]
    response = client.post(f"/api/ipam/prefixes/{pid}/available-ips/", headers=h,
                           json={"count": 5, "status": "reserved"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    addresses = [ip["address"] for ip in body]
    assert addresses == [f"192.0.2.{n}/26" for n in range(1, 6)]
    assert {ip["status"]["value"] for ip in body} == {"reserved"}
    for bad in ({"count": 0}, {"count": "3"}, {"count": 2, "shoe": 1}):
        refused = client.post(f"/api/ipam/prefixes/{pid}/available-ips/", headers=h, json=bad)
        assert refused.status_code == 400, bad
    again = client.post(f"/api/ipam/prefixes/{pid}/available-ips/", headers=h,
                        json=[{"description": "a"}, {"description": "b"}]).get_json()
    assert [ip["address"] for ip in again] == ["192.0.2.6/26", "192.0.2.7/26"]
    assert [ip["description"] for ip in again] == ["a", "b"]
    # a new address takes the prefix's tenant, so the OPD sees what it was given
    tenants = client.get("/api/tenancy/tenants/", headers=h).get_json()["results"]
    dinkes = next(t["id"] for t in tenants if t["code"] == "DINKES")
    pid = _prefix(client, h, prefix="10.40.0.0/24", tenant=dinkes)["id"]
    ip = client.post(f"/api/ipam/prefixes/{pid}/available-ips/", headers=h,
                     json={}).get_json()
    assert ip["tenant"]["id"] == dinkes and ip["tenant"]["slug"] == "dinkes"
    rina = client.get(f"/api/ipam/ip-addresses/{ip['id']}/", headers=auth("rina"))
    assert rina.status_code == 200


def test_exhausted_prefix_answers_409(client: FlaskClient, auth: Auth) -> None:
    h = auth("infra")
    pid = _prefix(client, h, prefix="203.0.113.0/30")["id"]
    url = f"/api/ipam/prefixes/{pid}/available-ips/"
    too_many = client.post(url, headers=h, json=[{}, {}, {}])
    assert too_many.status_code == 409
    assert too_many.get_json()["detail"] == ("203.0.113.0/30 has only 2 free addresses, "
                                             "3 asked")
    assert client.get("/api/ipam/ip-addresses/", headers=h).get_json()["count"] == 0
    assert client.post(url, headers=h, json={"count": 2}).status_code == 201
    full = client.post(url, headers=h, json={})
    assert full.status_code == 409
    assert full.get_json()["detail"] == "203.0.113.0/30 has no free address"
    assert client.get(url, headers=h).get_json() == []
    assert client.get("/api/ipam/ip-addresses/", headers=h).get_json()["count"] == 2


def test_available_prefixes(client: FlaskClient, auth: Auth) -> None:
    h = auth("infra")
    parent = _prefix(client, h, prefix="10.30.0.0/24", status="container")
    url = f"/api/ipam/prefixes/{parent['id']}/available-prefixes/"
    first = client.post(url, headers=h, json={"prefix_length": 26, "description": "lan"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["prefix"] == "10.30.0.0/26"
    both = client.post(url, headers=h, json=[{"prefix_length": 26}, {"prefix_length": 25}])
    assert [p["prefix"] for p in both.get_json()] == ["10.30.0.64/26", "10.30.0.128/25"]
    assert client.get(url, headers=h).get_json() == []
    full = client.post(url, headers=h, json={"prefix_length": 28})
    assert full.status_code == 409
    assert full.get_json()["detail"] == "10.30.0.0/24 has no free /28"
    children = client.get("/api/ipam/prefixes/", headers=h,
                          query_string={"parent": "10.30.0.0/24"}).get_json()
    assert [p["prefix"] for p in children["results"]] == [
        "10.30.0.0/26", "10.30.0.64/26", "10.30.0.128/25"]
    bad = client.post(url, headers=h, json={"prefix_length": 8})
    assert bad.status_code == 400 and "prefix_length" in bad.get_json()["errors"]
