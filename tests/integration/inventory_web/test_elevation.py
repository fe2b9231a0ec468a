"""Rack elevation SVG: boxes where their units are, on the right faces, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Flask

from inventory.reports import RackDevice, RackHold, RackView
from tests.integration.inventory_web.conftest import Seed, signed_in
from webui.rack_svg import FACE_LABEL, HEADER, U_PX, header_lines, render_elevation

NS = {"svg": "http://www.w3.org/2000/svg"}
TOP = HEADER + FACE_LABEL


def _boxes(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    """Return device rects by (device name, face)."""
    return {(r.get("data-name"), r.get("data-face")): r
            for r in root.iterfind(".//svg:rect[@data-name]", NS)}


def test_served_svg_places_devices_reservations_and_escapes(app: Flask, seed: Seed) -> None:
    client = signed_in(app, "noc")
    response = client.get(f"/dcim/racks/{seed['r01']}/elevation.svg")
    assert response.status_code == 200
    assert response.content_type.startswith("image/svg+xml")
    body = response.get_data(as_text=True)
    assert "&lt;sw&amp;1&gt;" in body and "<sw&1>" not in body
    root = ET.fromstring(body)
    boxes = _boxes(root)
    # 42U, numbered from the bottom: U40 (1U) tops at row 42-40; U10-11 (2U) at 42-11.
    core = boxes[("core-sw1", "front")]
    assert (int(core.get("y")) - 1, int(core.get("height")) + 2) == (TOP + 2 * U_PX, U_PX)
    srv = boxes[("srv-simpus", "front")]
    assert (int(srv.get("y")) - 1, int(srv.get("height")) + 2) == (TOP + 31 * U_PX, 2 * U_PX)
    assert ("srv-simpus", "rear") in boxes and ("core-sw1", "rear") in boxes  # full depth
    assert ("<sw&1>", "rear") in boxes and ("<sw&1>", "front") not in boxes  # half depth
    texts = [t.text for t in root.iterfind(".//svg:text", NS)]
    assert "<sw&1>" in texts
    labels = [t.text for t in root.iterfind(".//svg:text[@class='u-label']", NS)]
    assert labels.count("1") == 2 and labels.count("42") == 2 and len(labels) == 84
    held = root.findall(".//svg:rect[@class='u-reserved']", NS)
    assert len(held) == 2  # one run of U30-U32 on each face
    assert all(r.get("fill") == "url(#rack-hatch)" and r.get("data-first") == "30"
               and int(r.get("height")) == 3 * U_PX
               and int(r.get("y")) == TOP + (42 - 32) * U_PX for r in held)
    assert root.find(".//svg:pattern[@id='rack-hatch']", NS) is not None
    assert "reserved: DINKES" in texts
    header = root.find(".//svg:text[@class='rack-power']", NS).text
    assert header == "Power: draw 600 W + reserved 400 W of 2944 W (34.0%)"
    assert root.find(".//svg:text[@class='rack-units']", NS).text == "Units used: 4 of 42U"


def test_requester_sees_others_units_unnamed(app: Flask, seed: Seed) -> None:
    client = signed_in(app, "rina")
    root = ET.fromstring(client.get(
        f"/dcim/racks/{seed['r02']}/elevation.svg").get_data(as_text=True))
    assert ("sw-dinkes", "front") in _boxes(root)


def test_descending_units_draw_from_the_top() -> None:
    view = RackView(
        id=7, name="R&D", site_name="Lab", u_height=10, desc_units=True,
        devices=(RackDevice(1, "fw-1", 1, 2, "front", True, "firewall", "active", "X"),
                 RackDevice(2, "pp", 5, 1, "rear", False, "patch-panel", "active", "X"),
                 RackDevice(3, "other", 8, 1, "front", False, "server", "active", "Y",
                            hidden=True)),
        reservations=(RackHold((9, 10), "DINKES", "hold \"x\""),), unmounted=(),
        power_draw_w=900, power_limit_w=None)
    root = ET.fromstring(render_elevation(view, device_url=lambda i: f"/d/{i}?a=1&b=2"))
    boxes = _boxes(root)
    fw = boxes[("fw-1", "front")]
    assert int(fw.get("y")) - 1 == TOP and int(fw.get("height")) + 2 == 2 * U_PX
    assert int(boxes[("pp", "rear")].get("y")) - 1 == TOP + 4 * U_PX
    assert ("pp", "front") not in boxes
    hidden = [r for r in root.iterfind(".//svg:rect", NS) if "device-hidden" in
              (r.get("class") or "")]
    assert len(hidden) == 1 and hidden[0].get("data-name") is None
    links = [a.get("href") for a in root.iterfind(".//svg:a", NS)]
    assert "/d/1?a=1&b=2" in links and "/d/3?a=1&b=2" not in links
    first_labels = [t for t in root.iterfind(".//svg:text[@class='u-label']", NS)][:2]
    assert [t.text for t in first_labels] == ["1", "2"]
    assert int(float(first_labels[0].get("y"))) < int(float(first_labels[1].get("y")))
    assert root.find(".//svg:text[@class='rack-power']", NS).text == \
        "Power: 900 W (no budget set)"
    assert root.find(".//svg:text[@class='rack-name']", NS).text == "R&D · Lab"
    held = RackView(**{**view.__dict__, "power_reserved_w": 300})
    assert header_lines(held)[1] == "Power: draw 900 W + reserved 300 W (no budget set)"
