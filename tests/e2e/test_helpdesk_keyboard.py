"""The helpdesk with the keyboard alone: sign in, find the form, file a request.

Every step moves by Tab, arrow keys and Enter only (no clicks, no URL typing after the
first page), and each element reached shows a visible focus ring, so someone who
cannot use a mouse can do what the SOP asks of an OPD.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser import LiveServer

FOCUS = """() => { const el = document.activeElement;
  const s = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id || '', href: el.getAttribute('href') || '',
          name: el.getAttribute('name') || '', outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth) || 0}; }"""


def tab_to(page: Any, matches: Any, limit: int = 60) -> dict[str, Any]:
    """Press Tab until *matches(focused)*; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS)
        if focused["tag"] != "body":
            assert focused["outline"] != "none" and focused["width"] >= 2, (
                f"no visible focus on {focused}")
        if matches(focused):
            return focused
    raise AssertionError(f"not reachable with Tab within {limit} stops")


def choose(page: Any, value: str, limit: int = 20) -> None:
    """Move the focused <select> with the arrow keys until it holds *value*."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value!r} not reachable with the arrow keys")


def test_an_opd_user_files_a_device_registration_with_the_keyboard_only(
        page: Any, live_server: LiveServer) -> None:
    page.goto("/login")
    tab_to(page, lambda f: f["id"] == "username")
    page.keyboard.type("user.disdik")
    tab_to(page, lambda f: f["id"] == "password")
    page.keyboard.type(live_server.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    tab_to(page, lambda f: f["href"] == "/helpdesk/")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/helpdesk/$"))
    tab_to(page, lambda f: f["href"] == "/helpdesk/new")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/helpdesk/new$"))

    tab_to(page, lambda f: f["id"] == "type")
    choose(page, "pendaftaran_perangkat")
    # the script shows only the chosen type's fields; the others are out of the tab order
    assert page.locator("fieldset[data-wo-type=penambahan_ip]").is_hidden()
    tab_to(page, lambda f: f["id"] == "title")
    page.keyboard.type("Printer ruang TU")
    tab_to(page, lambda f: f["id"] == "letter_ref")
    page.keyboard.type("ND/77/2026")
    tab_to(page, lambda f: f["id"] == "d_pendaftaran_perangkat_mac")
    page.keyboard.type("00-1B-44-11-3A-B7")
    tab_to(page, lambda f: f["id"] == "d_pendaftaran_perangkat_device_type")
    choose(page, "printer")
    tab_to(page, lambda f: f["id"] == "d_pendaftaran_perangkat_owner")
    page.keyboard.type("Sub-bagian TU")
    tab_to(page, lambda f: f["id"] == "d_pendaftaran_perangkat_purpose")
    page.keyboard.type("Cetak surat")
    page.keyboard.press("Enter")  # implicit submission from a text field
    page.wait_for_url(re.compile(r"/helpdesk/\d+$"))
    text = page.content()
    assert "Printer ruang TU" in text and "00:1b:44:11:3a:b7" in text  # normalised MAC
    assert "Pendaftaran perangkat jaringan (NAC)" in text
