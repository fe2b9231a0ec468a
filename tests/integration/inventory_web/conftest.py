"""A seeded inventory behind the web app, on SQLite and PostgreSQL (via ``app_context``).

Everything is created through the inventory services, as an operator would: a data
center with a 42U rack (a full-depth server, a half-depth patch panel, a reservation
for DINKES), an OPD rack numbered from the top, prefixes with children and ranges,
addresses on interfaces, a cable, VLANs and a VRF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inventory.dcim.devices import create_device
from inventory.dcim.interfaces import create_cable, create_interface
from inventory.dcim.racks import create_power_feed, create_rack, reserve_rack_units
from inventory.dcim.sites import create_device_type, create_manufacturer, create_site
from inventory.ipam.addresses import create_ip_address, create_ip_range
from inventory.ipam.prefixes import create_prefix
from inventory.ipam.vlans import create_vlan, create_vlan_group, create_vrf
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.users import create_user

PASSWORD = "inventory-web-pass-1"


@dataclass
class Seed:
    """Ids of the seeded objects, by a short name."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.ids[key]


def seed_inventory(app_context: AppContext) -> Seed:
    """Create tenants, users and a small inventory through the services."""
    actor = Actor.system("test")
    out = Seed()
    with app_context.db.session() as s:
        kominfo = create_opd(s, actor, "DISKOMINFO", "Diskominfo", is_operator=True)
        dinkes = create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        disdik = create_opd(s, actor, "DISDIK", "Dinas Pendidikan")
        s.flush()
        for name, role, opd in (("admin", "admin", "DISKOMINFO"),
                                ("infra", "infrastructure", "DISKOMINFO"),
                                ("noc", "noc", "DISKOMINFO"),
                                ("rina", "requester", "DINKES")):
            create_user(s, actor, name, role=role, opd_code=opd, password=PASSWORD)
        dc = create_site(s, actor, name="DC Sidoarjo", slug="dc-sidoarjo", area="A",
                         physical_address="Jl. Diponegoro 139")
        pusk = create_site(s, actor, name="Puskesmas Candi", slug="pusk-candi",
                           opd_id=dinkes.id)
        s.flush()
        maker = create_manufacturer(s, actor, name="Generic", slug="generic")
        s.flush()
        switch = create_device_type(s, actor, manufacturer_id=maker.id, model="SW-48",
                                    slug="sw-48", u_height=1, power_draw_w=150)
        server = create_device_type(s, actor, manufacturer_id=maker.id, model="SRV-2U",
                                    slug="srv-2u", u_height=2, power_draw_w=450)
        patch = create_device_type(s, actor, manufacturer_id=maker.id, model="PP-24",
                                   slug="pp-24", u_height=1, is_full_depth=False)
        s.flush()
        r01 = create_rack(s, actor, site_id=dc.id, name="R01", u_height=42,
                          power_budget_w=5000)
        r02 = create_rack(s, actor, site_id=dc.id, name="R02-DINKES", u_height=12,
                          desc_units=True, opd_id=dinkes.id)
        s.flush()
        create_power_feed(s, actor, rack_id=r01.id, name="A")
        core = create_device(s, actor, name="core-sw1", device_type_id=switch.id, role="core",
                             platform="frr", site_id=dc.id, rack_id=r01.id, position=40,
                             face="front", opd_id=kominfo.id)
        srv = create_device(s, actor, name="srv-simpus", device_type_id=server.id,
                            role="server", site_id=dc.id, rack_id=r01.id, position=10,
                            face="front", opd_id=dinkes.id)
        odd = create_device(s, actor, name="<sw&1>", device_type_id=patch.id,
                            role="patch-panel", site_id=dc.id, rack_id=r01.id, position=20,
                            face="rear", opd_id=kominfo.id)
        own = create_device(s, actor, name="sw-dinkes", device_type_id=switch.id,
                            role="access", site_id=dc.id, rack_id=r02.id, position=1,
                            face="front", opd_id=dinkes.id)
        s.flush()
        reserve_rack_units(s, actor, rack_id=r01.id, units=[30, 31, 32], opd_id=dinkes.id,
                           description="colocation SIMPUS", power_w=400)
        eth_core = create_interface(s, actor, device_id=core.id, name="eth1",
                                    speed_kbps=10_000_000, mac_address="02:00:00:00:00:01")
        eth_srv = create_interface(s, actor, device_id=srv.id, name="eno1",
                                   speed_kbps=1_000_000, mac_address="02:00:00:00:00:02")
        s.flush()
        create_cable(s, actor, a_interface_id=eth_core.id, b_interface_id=eth_srv.id)
        vrf = create_vrf(s, actor, name="OPD-NET", rd="65000:1")
        group = create_vlan_group(s, actor, name="DC VLANs", slug="dc-vlans", site_id=dc.id,
                                  min_vid=1, max_vid=100)
        s.flush()
        create_vlan(s, actor, vid=10, name="mgmt", group_id=group.id)
        create_vlan(s, actor, vid=20, name="dinkes-srv", group_id=group.id, opd_id=dinkes.id)
        top = create_prefix(s, actor, prefix="10.10.0.0/16", status="container",
                            description="DC space")
        mgmt = create_prefix(s, actor, prefix="10.10.1.0/24", role="management",
                             site_id=dc.id, opd_id=kominfo.id)
        pdk = create_prefix(s, actor, prefix="10.10.2.0/24", role="servers",
                            opd_id=dinkes.id, site_id=dc.id)
        pdd = create_prefix(s, actor, prefix="10.10.3.0/24", opd_id=disdik.id)
        create_prefix(s, actor, prefix="10.20.0.0/24", vrf_id=vrf.id, opd_id=dinkes.id)
        s.flush()
        create_ip_address(s, actor, address="10.10.1.1", opd_id=kominfo.id,
                          dns_name="gw.dc.sidoarjo.go.id", interface_id=eth_core.id)
        create_ip_range(s, actor, start_address="10.10.1.100", end_address="10.10.1.149",
                        status="active", role="dhcp", opd_id=kominfo.id)
        create_ip_address(s, actor, address="10.10.2.10", opd_id=dinkes.id,
                          interface_id=eth_srv.id, dns_name="simpus.dinkes")
        create_ip_address(s, actor, address="10.10.3.5", opd_id=disdik.id)
        s.flush()
        out.ids.update(dc=dc.id, pusk=pusk.id, r01=r01.id, r02=r02.id, core=core.id,
                       srv=srv.id, odd=odd.id, own=own.id, top=top.id, mgmt=mgmt.id,
                       pdk=pdk.id, pdd=pdd.id, vrf=vrf.id, dinkes=dinkes.id,
                       disdik=disdik.id, kominfo=kominfo.id)
    return out


@pytest.fixture
def seed(app_context: AppContext) -> Seed:
    """The seeded inventory on this test's database."""
    return seed_inventory(app_context)


@pytest.fixture
def app(app_context: AppContext, seed: Seed) -> Flask:
    """The web app over the seeded database."""
    from webui import create_app

    return create_app({"TESTING": True}, context=app_context)


def csrf(client: FlaskClient, path: str) -> str:
    """Return a CSRF token from a page's form."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)[1]


def signed_in(app: Flask, username: str) -> FlaskClient:
    """Return a client signed in as *username* (English UI, so texts are stable)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf(client, "/login")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
