"""Every inventory page renders for staff, and tenancy holds for an OPD user."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.integration.inventory_web.conftest import Seed, signed_in


def test_every_page_renders_for_staff(app: Flask, seed: Seed) -> None:
    client = signed_in(app, "noc")
    menu = client.get("/").get_data(as_text=True)
    assert 'href="/ipam/prefixes"' in menu and 'href="/dcim/sites"' in menu
    expected = {
        "/ipam/prefixes": ["10.10.0.0/16", "10.10.1.0/24", "10.10.3.0/24", "DISDIK",
                           'class="depth-1"', "<meter", "VRF OPD-NET"],
        f"/ipam/prefixes/{seed['mgmt']}": ["10.10.1.1/24", "gw.dc.sidoarjo.go.id",
                                          "10.10.1.100/24", "core-sw1", "<code>10.10.1.2</code>"],
        f"/ipam/prefixes/{seed['top']}": ["10.10.2.0/24", "10.10.4.0/22", "Child prefixes"],
        "/ipam/ip-addresses": ["10.10.1.1/24", "10.10.2.10/24", "10.10.3.5/24", "srv-simpus"],
        "/ipam/vlans": ["DC VLANs", "mgmt", "dinkes-srv", "2.0%"],
        "/ipam/vrfs": ["OPD-NET", "65000:1"],
        "/dcim/sites": ["DC Sidoarjo", "Puskesmas Candi"],
        f"/dcim/sites/{seed['dc']}": ["R01", "core-sw1", "10.10.1.0/24"],
        "/dcim/racks": ["R01", "R02-DINKES", "600/2944 W, 400 W reserved", "4/42U"],
        f"/dcim/racks/{seed['r01']}": ["<svg", "colocation SIMPUS", "&lt;sw&amp;1&gt;",
                                       "Feed A: 1000 of 2944 W", "400 W",
                                       "draw 600 W + reserved 400 W of 2944 W"],
        "/dcim/devices": ["core-sw1", "srv-simpus", "&lt;sw&amp;1&gt;", "sw-dinkes"],
        f"/dcim/devices/{seed['srv']}": ["eno1", "1 Gbps", "02:00:00:00:00:02", "core-sw1",
                                         "eth1", "10.10.2.10/24"],
    }
    for path, texts in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        for text in texts:
            assert text in html, (path, text)
        assert "style=" not in html, path  # the CSP forbids inline styles


def test_list_filters_and_pagination(app: Flask, seed: Seed) -> None:
    client = signed_in(app, "admin")
    html = client.get(f"/ipam/ip-addresses?opd={seed['dinkes']}").get_data(as_text=True)
    assert "10.10.2.10/24" in html and "10.10.1.1/24" not in html
    html = client.get("/ipam/ip-addresses?q=simpus").get_data(as_text=True)
    assert "10.10.2.10/24" in html and "10.10.3.5/24" not in html
    html = client.get(f"/ipam/prefixes?vrf={seed['vrf']}").get_data(as_text=True)
    assert "10.20.0.0/24" in html and "10.10.1.0/24" not in html
    html = client.get("/dcim/devices?role=server").get_data(as_text=True)
    assert "srv-simpus" in html and "core-sw1" not in html
    html = client.get("/dcim/devices?status=planned").get_data(as_text=True)
    assert "No devices." in html
    html = client.get("/ipam/ip-addresses?page=9").get_data(as_text=True)
    assert "No addresses." in html and "3 in total" in html


def test_requester_sees_only_own_opd(app: Flask, seed: Seed) -> None:
    client = signed_in(app, "rina")
    tree = client.get("/ipam/prefixes").get_data(as_text=True)
    assert "10.10.2.0/24" in tree and "10.20.0.0/24" in tree
    assert "10.10.3.0/24" not in tree and "10.10.1.0/24" not in tree
    assert client.get(f"/ipam/prefixes/{seed['pdk']}").status_code == 200
    for path in (f"/ipam/prefixes/{seed['pdd']}", f"/ipam/prefixes/{seed['top']}",
                 f"/dcim/racks/{seed['r01']}", f"/dcim/racks/{seed['r01']}/elevation.svg",
                 f"/dcim/devices/{seed['core']}", f"/dcim/sites/{seed['dc']}",
                 "/ipam/prefixes/999999"):
        assert client.get(path).status_code == 404, path
    ips = client.get(f"/ipam/ip-addresses?opd={seed['disdik']}").get_data(as_text=True)
    assert "10.10.2.10/24" in ips and "10.10.3.5/24" not in ips  # the opd filter is ignored
    devices = client.get("/dcim/devices").get_data(as_text=True)
    assert "srv-simpus" in devices and "core-sw1" not in devices
    own = client.get(f"/dcim/devices/{seed['srv']}").get_data(as_text=True)
    assert "eno1" in own and "core-sw1" not in own and "another OPD" in own
    rack = client.get(f"/dcim/racks/{seed['r02']}").get_data(as_text=True)
    assert "sw-dinkes" in rack
    assert "Allocate next IP" not in client.get(
        f"/ipam/prefixes/{seed['pdk']}").get_data(as_text=True)


@pytest.mark.parametrize("user", ["noc", "rina"])
def test_signed_out_and_missing(app: Flask, seed: Seed, user: str) -> None:
    assert app.test_client().get("/ipam/prefixes").status_code == 302  # to the sign-in page
    client = signed_in(app, user)
    assert client.get("/dcim/devices/424242").status_code == 404
