"""Fixtures for the inventory API: an app with OPDs, one user per role, tokens, a client.

The app carries only the blueprints this API needs (core + ``webui.inventory_api``), so
these tests do not depend on other domains' pages being importable.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

import webui
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user
from webui import create_app

# username -> (role, OPD)
USERS = {
    "admin": ("admin", "DISKOMINFO"),
    "infra": ("infrastructure", "DISKOMINFO"),
    "dc": ("datacenter", "DISKOMINFO"),
    "noc": ("noc", "DISKOMINFO"),
    "rina": ("requester", "DINKES"),
    "budi": ("requester", "DISHUB"),
}
Headers = dict[str, str]


@pytest.fixture
def app(app_context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The web app over a database holding three OPDs and the USERS."""
    monkeypatch.setattr(webui, "OPTIONAL_BLUEPRINT_MODULES", ("webui.inventory_api",))
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_opd(s, actor, "DISHUB", "Dinas Perhubungan")
        for username, (role, opd) in USERS.items():
            create_user(s, actor, username, role=role, opd_code=opd)
    return create_app({"TESTING": True}, context=app_context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (no cookies used: every call carries a token)."""
    return app.test_client()


@pytest.fixture
def auth(app_context: AppContext) -> Callable[..., Headers]:
    """Return ``auth(username, **token_options)`` -> the Authorization header."""
    cache: dict[tuple[str, bool], Headers] = {}

    def headers(username: str, *, write_enabled: bool = True) -> Headers:
        key = (username, write_enabled)
        if key not in cache:
            with app_context.db.session() as s:
                issued = create_token(s, Actor.system("test"), username,
                                      write_enabled=write_enabled)
            cache[key] = {"Authorization": f"Token {issued.key}"}
        return cache[key]

    return headers


@pytest.fixture
def world(app: Flask, app_context: AppContext) -> dict[str, int]:
    """Per-OPD objects made through the services: sites, devices, prefixes, addresses.

    DINKES and DISHUB each own a site with a device and interface, a prefix and an
    address; the data center (no tenant) holds a rack with a 2U server at U10.
    """
    from inventory.dcim import devices, interfaces, racks, sites
    from inventory.ipam import addresses, prefixes
    from simpul.tenancy import get_opd

    actor = Actor.system("test")
    ids: dict[str, int] = {}
    with app_context.db.session() as s:
        maker = sites.create_manufacturer(s, actor, name="Cisco", slug="cisco")
        s.flush()
        dtype = sites.create_device_type(s, actor, manufacturer_id=maker.id, model="C9300",
                                         slug="c9300", u_height=2, power_draw_w=300)
        dc = sites.create_site(s, actor, name="DC Sidoarjo", slug="dc")
        s.flush()
        rack = racks.create_rack(s, actor, site_id=dc.id, name="R01", u_height=42)
        s.flush()
        server = devices.create_device(s, actor, name="srv-01", device_type_id=dtype.id,
                                       role="server", site_id=dc.id, rack_id=rack.id,
                                       position=10, face="front")
        ids.update(dtype=dtype.id, dc=dc.id, rack=rack.id, server=server.id)
        for n, code in enumerate(("DINKES", "DISHUB"), start=1):
            opd = get_opd(s, code)
            assert opd is not None
            low = code.lower()
            site = sites.create_site(s, actor, name=f"Kantor {code}", slug=low, opd_id=opd.id)
            s.flush()
            dev = devices.create_device(s, actor, name=f"sw-{low}", device_type_id=dtype.id,
                                        role="access", site_id=site.id, opd_id=opd.id)
            s.flush()
            iface = interfaces.create_interface(s, actor, device_id=dev.id, name="Gi1/0/1")
            pfx = prefixes.create_prefix(s, actor, prefix=f"10.{n}.0.0/24", opd_id=opd.id)
            s.flush()
            ip = addresses.create_ip_address(s, actor, address=f"10.{n}.0.10/24",
                                             opd_id=opd.id)
            s.flush()
            ids.update({f"{low}_opd": opd.id, f"{low}_site": site.id, f"{low}_device": dev.id,
                        f"{low}_iface": iface.id, f"{low}_prefix": pfx.id,
                        f"{low}_ip": ip.id})
    return ids
