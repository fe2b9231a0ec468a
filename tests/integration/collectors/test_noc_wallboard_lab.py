"""The NOC wall in a real browser, fed live by the poller polling the lab's routers.

`simpul up` runs with the lab imported and SNMP polling on; the wall opens before the
first results are in and must fill in by itself (no reload): routers turn green on the
map and the counters move. A link cut in the lab then turns that link red on the wall.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import LiveServer, sign_in, simpul_up
from tests.integration.lab.labhelpers import REPO, Lab, in_ns

pytestmark = pytest.mark.lab
ARTIFACTS = REPO / "tests" / ".simpul" / "e2e"


@pytest.fixture(scope="module")
def lab_wall(lab: Lab) -> Iterator[LiveServer]:
    """`simpul up` on the imported lab, polling every 5 s with the lab's SNMP community."""
    env = {"SIMPUL_SNMP_ENABLED": "on", "SIMPUL_PROBES_ENABLED": "on",
           "SIMPUL_ALERTS_ENABLED": "on", "SIMPUL_SNMP_COMMUNITY": "simpul-lab",
           "SIMPUL_SNMP_INTERVAL": "5", "SIMPUL_SNMP_TIMEOUT": "1", "SIMPUL_SNMP_RETRIES": "1"}
    with simpul_up(env, [["inventory", "import",
                          str(REPO / "labs/province/province.clab.yml")]]) as server:
        yield server


def _count(page: Any, which: str) -> int:
    return int(page.locator(f"#count-{which}").inner_text())


def test_the_wall_fills_in_live_and_shows_a_cut_link(browser: Any, lab_wall: LiveServer,
                                                     lab: Lab) -> None:
    context = browser.new_context(base_url=lab_wall.url, locale="id-ID",
                                  viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    sign_in(page, lab_wall, "noc")
    page.goto("/noc/")
    first_paint = page.evaluate("() => performance.timeOrigin")
    # every lab router answers SNMP: the counters climb by themselves, without a reload
    page.wait_for_function("() => parseInt(document.getElementById('count-up')"
                           ".textContent, 10) >= 10", timeout=60_000)
    assert page.evaluate("() => performance.timeOrigin") == first_paint  # same document
    core1 = page.locator("a.node", has_text="core1")
    assert core1.get_attribute("class") == "node node-up"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "noc-wallboard-lab.png"), full_page=True)

    # cut dist-a's uplink to core1 inside the lab; the wall marks that link down
    in_ns("dist-a", "ip", "link", "set", "eth1", "down")
    try:
        page.wait_for_selector("line.link-down", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "noc-wallboard-link-down.png"), full_page=True)
    finally:
        in_ns("dist-a", "ip", "link", "set", "eth1", "up")
    page.wait_for_function("() => !document.querySelector('line.link-down')", timeout=60_000)
    context.close()
