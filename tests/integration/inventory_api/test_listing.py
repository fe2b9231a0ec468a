"""Pages, filters and search on a few hundred addresses; NetBox's parameter names."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from inventory.ipam import addresses, prefixes
from simpul.audit import Actor
from simpul.context import AppContext

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def many(app_context: AppContext, world: dict[str, int]) -> None:
    """300 addresses in 10.50.0.0/23 (the second half named dbN), plus world's two."""
    actor = Actor.system("test")
    with app_context.db.session() as s:
        prefixes.create_prefix(s, actor, prefix="10.50.0.0/22", status="container")
        s.flush()
        prefixes.create_prefix(s, actor, prefix="10.50.0.0/23", description="farm")
        prefixes.create_prefix(s, actor, prefix="10.50.2.0/24", status="reserved")
        s.flush()
        for n in range(300):
            name = f"db{n}.kominfo.go.id" if n >= 150 else ""
            addresses.create_ip_address(s, actor, address=f"10.50.{n // 254}.{n % 254 + 1}/23",
                                        dns_name=name)


def _offset(url: str | None) -> int | None:
    if url is None:
        return None
    return int(parse_qs(urlsplit(url).query)["offset"][0])


def test_pages_and_filters(client: FlaskClient, auth: Auth, many: None) -> None:
    """One data set (300 rows, slow to build) for paging and filtering."""
    _pages_walk_every_address_once(client, auth("noc"))
    _filters(client, auth("noc"))


def _pages_walk_every_address_once(client: FlaskClient, h: dict[str, str]) -> None:
    page = client.get("/api/ipam/ip-addresses/?limit=100&parent=10.50.0.0/23",
                      headers=h).get_json()
    assert page["count"] == 300 and page["previous"] is None and _offset(page["next"]) == 100
    seen = [ip["address"] for ip in page["results"]]
    while page["next"]:
        page = client.get(page["next"], headers=h).get_json()
        seen += [ip["address"] for ip in page["results"]]
    assert len(seen) == len(set(seen)) == 300
    assert seen[:3] == ["10.50.0.1/23", "10.50.0.2/23", "10.50.0.3/23"]
    assert seen[253:255] == ["10.50.0.254/23", "10.50.1.1/23"]  # numeric, not text, order
    last = client.get("/api/ipam/ip-addresses/?limit=100&offset=250&parent=10.50.0.0/23",
                      headers=h).get_json()
    assert len(last["results"]) == 50 and last["next"] is None
    assert _offset(last["previous"]) == 150
    everything = client.get("/api/ipam/ip-addresses/", headers=h).get_json()
    assert everything["count"] == 302 and len(everything["results"]) == 50
    assert client.get("/api/ipam/ip-addresses/?limit=0", headers=h).status_code == 400


def _filters(client: FlaskClient, h: dict[str, str]) -> None:
    def count(query: str) -> int:
        response = client.get(f"/api/ipam/ip-addresses/?{query}", headers=h)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["count"]

    assert count("q=DB1") == 50  # db150-db199, case-insensitive
    assert count("q=kominfo.go.id") == 150
    assert count("q=10.50.1.") == 46
    assert count("address=10.50.0.7") == 1 and count("address=10.50.0.7/32") == 1
    assert count("parent=10.1.0.0/24&parent=10.2.0.0/24") == 2
    assert count("tenant=dinkes") == 1 and count("tenant=DINKES,DISHUB") == 2
    assert count("family=6") == 0 and count("family=4") == 302
    assert count("mask_length=23") == 300
    assert count("vrf_id=null") == 302
    bad = client.get("/api/ipam/ip-addresses/?parent=banana", headers=h)
    assert bad.status_code == 400 and "parent" in bad.get_json()["errors"]
    assert client.get("/api/ipam/ip-addresses/?family=x", headers=h).status_code == 400

    def prefixes_of(query: str) -> list[str]:
        body = client.get(f"/api/ipam/prefixes/?{query}", headers=h).get_json()
        return [p["prefix"] for p in body["results"]]

    assert prefixes_of("parent=10.50.0.0/22") == ["10.50.0.0/23", "10.50.2.0/24"]
    assert prefixes_of("within_include=10.50.0.0/22") == [
        "10.50.0.0/22", "10.50.0.0/23", "10.50.2.0/24"]
    assert prefixes_of("contains=10.50.1.9") == ["10.50.0.0/22", "10.50.0.0/23"]
    assert prefixes_of("status=reserved") == ["10.50.2.0/24"]
    assert prefixes_of("q=farm") == ["10.50.0.0/23"]
    assert prefixes_of("tenant_id=999") == []


def test_dcim_filters(client: FlaskClient, auth: Auth, world: dict[str, int]) -> None:
    h = auth("noc")

    def names(url: str) -> list[str]:
        return [r["display"] for r in client.get(url, headers=h).get_json()["results"]]

    assert names("/api/dcim/devices/?role=access") == ["sw-dinkes", "sw-dishub"]
    assert names("/api/dcim/devices/?site=dc") == ["srv-01"]
    assert names(f"/api/dcim/devices/?site_id={world['dinkes_site']}") == ["sw-dinkes"]
    assert names(f"/api/dcim/devices/?rack_id={world['rack']}") == ["srv-01"]
    assert names("/api/dcim/devices/?q=SW-D") == ["sw-dinkes", "sw-dishub"]
    assert names("/api/dcim/sites/?tenant=dishub") == ["Kantor DISHUB"]
    assert names("/api/dcim/interfaces/?device=sw-dishub") == ["Gi1/0/1"]
    brief = client.get("/api/dcim/interfaces/?brief=1&device=sw-dishub", headers=h).get_json()
    assert brief["results"] == [{"id": world["dishub_iface"], "url": brief["results"][0]["url"],
                                 "display": "Gi1/0/1", "name": "Gi1/0/1",
                                 "device": brief["results"][0]["device"]}]
    assert brief["results"][0]["device"]["name"] == "sw-dishub"
