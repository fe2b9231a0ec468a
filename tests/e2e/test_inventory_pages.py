"""The inventory pages in Chromium: rack elevation, prefix tree, keyboard-only allocation.

The shared ``live_server`` runs ``simpul demo load``, which has no inventory of its own
here, so this module seeds a data center through the inventory services straight into
the server's SQLite database (WAL lets both processes use it) before opening any page.
Screenshots go to ``.simpul/e2e/`` for a human to look at.

The seed ends by creating an OPD user: that user is needed for the tenancy check, and
creating it last keeps a ``user.create`` among the dashboard's latest changes, which
``test_shell`` (sharing this server, and running after this module) looks for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from inventory.dcim.devices import create_device
from inventory.dcim.racks import create_power_feed, create_rack, reserve_rack_units
from inventory.dcim.sites import create_device_type, create_manufacturer, create_site
from inventory.ipam.addresses import create_ip_address, create_ip_range
from inventory.ipam.prefixes import create_prefix
from simpul.audit import Actor
from simpul.db import Database
from simpul.tenancy import get_opd
from simpul.users import create_user
from tests.browser import LiveServer, sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / ".simpul" / "e2e"


@pytest.fixture(scope="module")
def inventory(live_server: LiveServer) -> Iterator[dict[str, int]]:
    """Seed one data-center rack and a prefix tree; return their ids."""
    db = Database(f"sqlite:///{live_server.data_dir / 'simpul.db'}")
    actor = Actor.system("e2e")
    with db.session() as s:
        dinkes = get_opd(s, "DINKES")
        kominfo = get_opd(s, "DISKOMINFO")
        site = create_site(s, actor, name="DC Pemkab (e2e)", slug="dc-pemkab-e2e")
        maker = create_manufacturer(s, actor, name="E2E Vendor", slug="e2e-vendor")
        s.flush()
        types = {name: create_device_type(s, actor, manufacturer_id=maker.id, model=name,
                                          slug=f"e2e-{name.lower()}", u_height=u,
                                          power_draw_w=w, is_full_depth=full)
                 for name, u, w, full in (("Switch-1U", 1, 120, True),
                                          ("Server-2U", 2, 450, True),
                                          ("Storage-4U", 4, 800, True),
                                          ("Patch-1U", 1, 0, False))}
        rack = create_rack(s, actor, site_id=site.id, name="R-A01", u_height=42,
                           power_budget_w=6000)
        s.flush()
        create_power_feed(s, actor, rack_id=rack.id, name="A", amperage=32)
        placed = (("core-sw1.dc", "Switch-1U", "core", 42, "front", kominfo),
                  ("dist-sw1.dc", "Switch-1U", "distribution", 41, "front", kominfo),
                  ("patch-a", "Patch-1U", "patch-panel", 40, "rear", kominfo),
                  ("fw-edge1", "Switch-1U", "firewall", 38, "front", kominfo),
                  ("srv-simpus-dinkes-production-01", "Server-2U", "server", 20, "front",
                   dinkes),
                  ("srv-web1", "Server-2U", "server", 17, "front", kominfo),
                  ("nas-backup", "Storage-4U", "storage", 2, "front", kominfo))
        for name, model, role, pos, face, opd in placed:
            create_device(s, actor, name=name, device_type_id=types[model].id, role=role,
                          site_id=site.id, rack_id=rack.id, position=pos, face=face,
                          opd_id=opd.id)
        reserve_rack_units(s, actor, rack_id=rack.id, units=[30, 31, 32, 33],
                           opd_id=dinkes.id, description="colocation SIMPUS")
        top = create_prefix(s, actor, prefix="10.77.0.0/16", status="container",
                            description="Pemkab backbone")
        dc = create_prefix(s, actor, prefix="10.77.0.0/20", status="container",
                           description="data center")
        mgmt = create_prefix(s, actor, prefix="10.77.1.0/24", role="management",
                             opd_id=kominfo.id, description="mgmt DC")
        create_prefix(s, actor, prefix="10.77.2.0/24", role="servers", opd_id=dinkes.id,
                      description="SIMPUS")
        create_prefix(s, actor, prefix="10.77.16.0/24", status="reserved",
                      description="cadangan")
        s.flush()
        for host in range(1, 60):
            create_ip_address(s, actor, address=f"10.77.1.{host}", opd_id=kominfo.id)
        create_ip_address(s, actor, address="10.77.2.10", opd_id=dinkes.id)
        create_ip_range(s, actor, start_address="10.77.1.100", end_address="10.77.1.199",
                        role="dhcp")
        create_user(s, actor, "e2e.dinkes", role="requester", opd_code="DINKES",
                    password=live_server.password, full_name="Operator SIMPUS")
        ids = {"rack": rack.id, "top": top.id, "dc": dc.id, "mgmt": mgmt.id}
    db.dispose()
    yield ids


def test_rack_elevation_page(page, live_server: LiveServer, inventory: dict[str, int]) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "admin")
    page.get_by_role("link", name="DCIM").click()
    page.get_by_role("link", name="Rak", exact=True).click()
    page.get_by_role("link", name="R-A01").click()
    assert page.get_by_role("heading", name="Rak R-A01", level=1).is_visible()
    svg = page.locator("svg.rack-elevation")
    assert svg.is_visible()
    assert page.locator("rect[data-name='srv-web1']").count() == 2  # front and rear
    assert page.locator("rect[data-name='patch-a']").count() == 1  # half depth, rear only
    assert svg.locator("text.rack-power").text_content().startswith("Daya: 2060 W dari")
    box = page.locator("rect[data-name='nas-backup'][data-face='front']").bounding_box()
    low = page.locator("rect.u-free[data-unit='2']").first.bounding_box()
    high = page.locator("rect.u-free[data-unit='5']").first.bounding_box()
    assert abs(box["y"] - high["y"]) < 3  # spans U2-U5 on screen
    assert abs(box["y"] + box["height"] - low["y"] - low["height"]) < 3
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rack.png"), full_page=True)
    # Keyboard: Tab reaches the device boxes; Enter opens the device.
    page.locator("a[href$='/elevation.svg']").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert re.search(r"/dcim/devices/\d+$", focused)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/dcim/devices/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Perangkat ")
    page.screenshot(path=str(ARTIFACTS / "device.png"), full_page=True)
    svg_file = page.request.get(f"/dcim/racks/{inventory['rack']}/elevation.svg")
    assert svg_file.headers["content-type"].startswith("image/svg+xml")
    assert "srv-simpus-dinkes-production-01" in svg_file.text()
    assert errors == [], errors  # no CSP violation


def test_prefix_tree_and_keyboard_allocation(page, live_server: LiveServer,
                                             inventory: dict[str, int]) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "infra")
    page.goto("/ipam/prefixes")
    assert page.get_by_role("link", name="10.77.1.0/24").is_visible()
    assert page.locator("td.depth-2 >> text=10.77.1.0/24").count() == 1
    assert page.locator("meter").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "prefixes.png"), full_page=True)
    page.get_by_role("link", name="10.77.1.0/24").click()
    assert page.get_by_role("heading", name="Alokasikan IP berikutnya").is_visible()
    # Keyboard only: focus the first field, type, tab through, Enter submits.
    page.get_by_label("Keterangan").focus()
    page.keyboard.type("kamera CCTV lobi")
    page.keyboard.press("Tab")
    page.keyboard.type("cctv-lobi.dc")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*allocated=\d+#allocate$"))
    assert page.get_by_role("status").inner_text().startswith("10.77.1.60/24 telah dialokasikan")
    assert page.locator("tr.highlight").inner_text().startswith("10.77.1.60/24")
    page.screenshot(path=str(ARTIFACTS / "prefix-allocated.png"), full_page=True)
    assert errors == [], errors


def test_opd_user_sees_only_own_prefixes(page, live_server: LiveServer,
                                         inventory: dict[str, int]) -> None:
    sign_in(page, live_server, "e2e.dinkes")
    page.goto("/ipam/prefixes")
    assert page.get_by_role("link", name="10.77.2.0/24").is_visible()
    assert page.get_by_role("link", name="10.77.1.0/24").count() == 0
    assert page.get_by_role("heading", name="Alokasikan IP berikutnya").count() == 0
    response = page.goto(f"/dcim/racks/{inventory['rack']}")
    assert response.status == 404
    response = page.goto(f"/ipam/prefixes/{inventory['mgmt']}")
    assert response.status == 404
