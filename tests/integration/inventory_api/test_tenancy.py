"""Who sees and changes what: OPD users only their own, staff all, NOC read-only."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from simpul.audit import Actor
from simpul.context import AppContext
from simpul.users import set_password

Auth = Callable[..., dict[str, str]]

PASSWORD = "inventory-api-password-1"
LISTS = ("/api/dcim/sites/", "/api/dcim/devices/", "/api/dcim/interfaces/",
         "/api/ipam/prefixes/", "/api/ipam/ip-addresses/", "/api/tenancy/tenants/")


def _names(client: FlaskClient, url: str, headers: dict[str, str]) -> set[str]:
    body = client.get(url, headers=headers).get_json()
    assert body["count"] == len(body["results"])
    return {r["display"] for r in body["results"]}


def test_opd_user_sees_only_their_own(client: FlaskClient, auth: Auth,
                                      world: dict[str, int]) -> None:
    rina = auth("rina")
    assert _names(client, "/api/dcim/sites/", rina) == {"Kantor DINKES"}
    assert _names(client, "/api/dcim/devices/", rina) == {"sw-dinkes"}
    assert _names(client, "/api/dcim/interfaces/", rina) == {"Gi1/0/1"}
    assert _names(client, "/api/ipam/prefixes/", rina) == {"10.1.0.0/24"}
    assert _names(client, "/api/ipam/ip-addresses/", rina) == {"10.1.0.10/24"}
    assert _names(client, "/api/tenancy/tenants/", rina) == {"Dinas Kesehatan"}
    assert _names(client, "/api/dcim/racks/", rina) == set()
    # filters cannot widen the view
    assert _names(client, "/api/ipam/prefixes/?tenant=DISHUB", rina) == set()
    for kind, url in (("prefix", "/api/ipam/prefixes/"), ("ip", "/api/ipam/ip-addresses/"),
                      ("device", "/api/dcim/devices/"), ("site", "/api/dcim/sites/")):
        own = client.get(f"{url}{world[f'dinkes_{kind}']}/", headers=rina)
        assert own.status_code == 200
        foreign = client.get(f"{url}{world[f'dishub_{kind}']}/", headers=rina)
        assert foreign.status_code == 404, kind
        assert foreign.get_json()["detail"].endswith("does not exist")
    assert client.get(f"/api/dcim/racks/{world['rack']}/elevation/",
                      headers=rina).status_code == 404
    foreign_pfx = world["dishub_prefix"]
    assert client.get(f"/api/ipam/prefixes/{foreign_pfx}/available-ips/",
                      headers=rina).status_code == 404


def test_opd_user_cannot_write(client: FlaskClient, auth: Auth,
                               world: dict[str, int]) -> None:
    rina = auth("rina")
    before = client.get("/api/ipam/ip-addresses/", headers=auth("admin")).get_json()["count"]
    # another OPD's objects: 404, as if they did not exist
    for url in (f"/api/ipam/prefixes/{world['dishub_prefix']}/",
                f"/api/ipam/ip-addresses/{world['dishub_ip']}/",
                f"/api/dcim/devices/{world['dishub_device']}/"):
        assert client.patch(url, headers=rina, json={"description": "x"}).status_code == 404
        assert client.delete(url, headers=rina).status_code == 404
    # their own: 403
    own = f"/api/ipam/prefixes/{world['dinkes_prefix']}/"
    assert client.patch(own, headers=rina, json={"description": "mine"}).status_code == 403
    assert client.delete(f"/api/dcim/devices/{world['dinkes_device']}/",
                         headers=rina).status_code == 403
    assert client.post(f"{own}available-ips/", headers=rina, json={}).status_code == 403
    assert client.post("/api/ipam/prefixes/", headers=rina,
                       json={"prefix": "10.9.0.0/24"}).status_code == 403
    assert client.post("/api/tenancy/tenants/", headers=rina,
                       json={"code": "EVIL", "name": "Evil"}).status_code == 403
    assert client.get("/api/ipam/ip-addresses/",
                      headers=auth("admin")).get_json()["count"] == before
    assert client.get(own, headers=rina).get_json()["description"] == ""


def test_staff_see_everything(client: FlaskClient, auth: Auth, world: dict[str, int]) -> None:
    for user in ("noc", "admin", "infra", "dc"):
        _staff_sees_everything(client, auth(user), world)


def _staff_sees_everything(client: FlaskClient, h: dict[str, str],
                           world: dict[str, int]) -> None:
    assert _names(client, "/api/dcim/sites/", h) == {"DC Sidoarjo", "Kantor DINKES",
                                                     "Kantor DISHUB"}
    assert _names(client, "/api/ipam/ip-addresses/", h) == {"10.1.0.10/24", "10.2.0.10/24"}
    assert len(_names(client, "/api/tenancy/tenants/", h)) == 3
    for key in ("dishub_prefix", "dinkes_prefix"):
        assert client.get(f"/api/ipam/prefixes/{world[key]}/", headers=h).status_code == 200


def test_noc_reads_but_cannot_write(client: FlaskClient, auth: Auth,
                                    world: dict[str, int]) -> None:
    noc = auth("noc")
    pfx = f"/api/ipam/prefixes/{world['dinkes_prefix']}/"
    assert client.get(pfx, headers=noc).status_code == 200
    denied = client.patch(pfx, headers=noc, json={"description": "noc"})
    assert denied.status_code == 403 and denied.get_json()["detail"]
    assert client.post(f"{pfx}available-ips/", headers=noc, json={}).status_code == 403
    assert client.post("/api/dcim/sites/", headers=noc,
                       json={"name": "X", "slug": "x"}).status_code == 403
    assert client.delete(f"/api/dcim/devices/{world['server']}/",
                         headers=noc).status_code == 403


def test_read_only_token_anonymous_and_tenants(client: FlaskClient, auth: Auth,
                                               world: dict[str, int]) -> None:
    for url in LISTS:
        assert client.get(url).status_code == 401
    ro = auth("admin", write_enabled=False)
    assert client.get("/api/dcim/sites/", headers=ro).status_code == 200
    refused = client.post("/api/dcim/sites/", headers=ro, json={"name": "X", "slug": "x"})
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "This API token is read-only."
    # only admins create tenants; infrastructure may not
    assert client.post("/api/tenancy/tenants/", headers=auth("infra"),
                       json={"code": "BAPPEDA", "name": "Bappeda"}).status_code == 403
    made = client.post("/api/tenancy/tenants/", headers=auth("admin"),
                       json={"code": "bappeda", "name": "Bappeda"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["code"] == "BAPPEDA" and made.get_json()["slug"] == "bappeda"
    dup = client.post("/api/tenancy/tenants/", headers=auth("admin"),
                      json={"code": "BAPPEDA", "name": "Again"})
    assert dup.status_code == 409 and "code" in dup.get_json()["errors"]


def test_cookie_session_writes_need_csrf(client: FlaskClient, app_context: AppContext) -> None:
    with app_context.db.session() as s:
        set_password(s, Actor.system("test"), "admin", PASSWORD)
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login_page)
    assert token is not None
    client.post("/login", data={"username": "admin", "password": PASSWORD,
                                "csrf_token": token[1]})
    assert client.get("/api/dcim/sites/").status_code == 200  # reads need no token
    refused = client.post("/api/dcim/sites/", json={"name": "Web", "slug": "web"})
    assert refused.status_code == 400
    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', home)
    assert token is not None
    accepted = client.post("/api/dcim/sites/", json={"name": "Web", "slug": "web"},
                           headers={"X-CSRFToken": token[1]})
    assert accepted.status_code == 201, accepted.get_json()
