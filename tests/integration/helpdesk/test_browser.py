"""The helpdesk in a real browser: an IP request through every SOP desk, and tenancy by URL;
a colocation refused for lack of rack space, then accepted once a rack is added.

Each desk signs in in its own browser context (own cookies), as the people would at
their own desks; screenshots of the main pages are kept for review.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser import LiveServer, sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / ".simpul" / "e2e"


def desk(browser: object, live_server: LiveServer, username: str) -> object:
    """A signed-in page for *username* (demo users share the demo password)."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")  # type: ignore
    page = context.new_page()
    sign_in(page, live_server, username)
    return page


def fire(page: object, action: str, **fields: str) -> None:
    """Fill and submit the form of *action* on a work-order page."""
    form = page.locator(f"form:has(input[name=action][value={action}])")  # type: ignore
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()  # type: ignore[attr-defined]


def test_ip_request_through_every_desk_and_tenancy(browser: object,
                                                   live_server: LiveServer) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin = desk(browser, live_server, "admin")
    csrf = admin.locator("input[name=csrf_token]").first.get_attribute("value")  # type: ignore
    made = admin.request.post("/api/ipam/prefixes/", headers={"X-CSRFToken": csrf},  # type: ignore
                              data={"prefix": "192.0.2.0/24", "description": "LAN Dinkes"})
    assert made.status == 201, made.text()
    prefix_id = str(made.json()["id"])

    requester = desk(browser, live_server, "user.dinkes")
    requester.goto("/helpdesk/new")  # type: ignore[attr-defined]
    requester.select_option("#type", "penambahan_ip")  # type: ignore[attr-defined]
    requester.fill("#title", "IP untuk PC loket")  # type: ignore[attr-defined]
    requester.fill("#letter_ref", "800/77/438.5.2/2026")  # type: ignore[attr-defined]
    requester.fill("#d_penambahan_ip_ip_count", "1")  # type: ignore[attr-defined]
    requester.fill("#d_penambahan_ip_location", "Loket lantai 1")  # type: ignore[attr-defined]
    requester.screenshot(path=str(ARTIFACTS / "helpdesk-new.png"), full_page=True)  # type: ignore
    requester.get_by_role("button", name="Kirim").click()  # type: ignore[attr-defined]
    requester.wait_for_url(re.compile(r"/helpdesk/\d+$"))  # type: ignore[attr-defined]
    url = requester.url  # type: ignore[attr-defined]
    assert "Diajukan" in requester.content()  # type: ignore[attr-defined]

    steps = [("helpdesk", "issue", {}),
             ("itsupport", "recommend", {"location": "Loket lantai 1", "ip_count": "1"}),
             ("infra", "approve", {"prefix_id": prefix_id, "comment": "Dari LAN Dinkes"}),
             ("itsupport", "complete", {"comment": "Terpasang dan terhubung"}),
             ("helpdesk", "request_confirmation", {})]
    for username, action, fields in steps:
        page = desk(browser, live_server, username)
        page.goto(url)  # type: ignore[attr-defined]
        fire(page, action, **fields)
        assert "role=\"alert\"" not in page.content(), (username, action)  # type: ignore
        if action == "approve":
            page.screenshot(path=str(ARTIFACTS / "helpdesk-detail.png"), full_page=True)  # type: ignore
        page.context.close()  # type: ignore[attr-defined]

    requester.goto(url)  # type: ignore[attr-defined]
    text = requester.content()  # type: ignore[attr-defined]
    assert "192.0.2.1/24" in text and "Menunggu konfirmasi pemohon" in text
    fire(requester, "confirm")
    assert "Ditutup" in requester.content()  # type: ignore[attr-defined]
    requester.goto("/helpdesk/")  # type: ignore[attr-defined]
    requester.screenshot(path=str(ARTIFACTS / "helpdesk-list.png"), full_page=True)  # type: ignore

    other = desk(browser, live_server, "user.bappeda")
    response = other.goto(url)  # type: ignore[attr-defined]
    assert response.status == 404
    assert "IP untuk PC loket" not in other.content()  # type: ignore[attr-defined]


def test_colocation_refused_without_rack_space_then_accepted(browser: object,
                                                             live_server: LiveServer) -> None:
    requester = desk(browser, live_server, "user.disdik")
    requester.goto("/helpdesk/new")  # type: ignore[attr-defined]
    requester.select_option("#type", "penitipan_server")  # type: ignore[attr-defined]
    requester.fill("#title", "Server Dapodik")  # type: ignore[attr-defined]
    requester.fill("#letter_ref", "ND/05/2026")  # type: ignore[attr-defined]
    requester.fill("#d_penitipan_server_server", "Rak server besar 45U")  # type: ignore[attr-defined]
    requester.fill("#d_penitipan_server_u_height", "45")  # type: ignore[attr-defined]
    requester.fill("#d_penitipan_server_power_w", "0")  # type: ignore[attr-defined]
    requester.get_by_role("button", name="Kirim").click()  # type: ignore[attr-defined]
    requester.wait_for_url(re.compile(r"/helpdesk/\d+$"))  # type: ignore[attr-defined]
    url = requester.url  # type: ignore[attr-defined]
    checks = {"u_height": "45"}

    def record_checks() -> None:
        page = desk(browser, live_server, "datacenter")
        page.goto(url)  # type: ignore[attr-defined]
        form = page.locator("form:has(input[name=action][value=record_checks])")  # type: ignore
        for box in ("server_condition", "software_legal"):
            form.locator(f"[name={box}]").check()
        fire(page, "record_checks", **checks)
        page.context.close()  # type: ignore[attr-defined]

    helpdesk = desk(browser, live_server, "helpdesk")
    helpdesk.goto(url)  # type: ignore[attr-defined]
    fire(helpdesk, "issue")
    record_checks()
    boss = desk(browser, live_server, "pimpinan")
    boss.goto(url)  # type: ignore[attr-defined]
    text = boss.content()  # type: ignore[attr-defined]
    # the checks are computed from DCIM and shown by name (Indonesian by default)
    assert "Ruang rak tersedia: Tidak" in text and "value=\"approve\"" not in text  # no room
    boss.screenshot(path=str(ARTIFACTS / "helpdesk-colocation-refused.png"), full_page=True)  # type: ignore
    fire(boss, "return_for_recheck", comment="Tunggu rak baru")

    admin = desk(browser, live_server, "admin")
    csrf = admin.locator("input[name=csrf_token]").first.get_attribute("value")  # type: ignore
    site = admin.request.post("/api/dcim/sites/", headers={"X-CSRFToken": csrf},  # type: ignore
                              data={"name": "DC Kolokasi", "slug": "dc-kolokasi"})
    assert site.status == 201, site.text()
    rack = admin.request.post("/api/dcim/racks/", headers={"X-CSRFToken": csrf},  # type: ignore
                              data={"site": site.json()["id"], "name": "R-48",
                                    "u_height": 48})
    assert rack.status == 201, rack.text()
    outlet = admin.request.post("/api/dcim/wall-outlets/",  # type: ignore[attr-defined]
                                headers={"X-CSRFToken": csrf},
                                data={"site": site.json()["id"], "label": "WO-DC-01"})
    assert outlet.status == 201, outlet.text()

    record_checks()
    boss.goto(url)  # type: ignore[attr-defined]
    fire(boss, "approve", comment="Disetujui")
    text = boss.content()  # type: ignore[attr-defined]
    assert "Setting server (2 × 24 jam)" in text and "R-48" in text
