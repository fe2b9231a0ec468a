"""A playbook run from the browser, on the lab: the form, the refusal, the live run page.

`simpul up` runs with the lab imported and the lab's device credentials. An
Infrastruktur user asks for an apply without ticking the confirmation (refused, nothing
queued), then a dry-run of the backbone on core1; the run page fills in by itself while
the run executes in the server's background thread, without a reload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import LiveServer, sign_in, simpul_up
from tests.integration.lab.labhelpers import REPO, Lab
from tests.integration.playbooks.conftest import CLAB, LAB_PASSWORD, LAB_USER

pytestmark = pytest.mark.lab
ARTIFACTS = REPO / "tests" / ".simpul" / "e2e"


@pytest.fixture(scope="module")
def lab_web(lab: Lab) -> Iterator[LiveServer]:
    env = {"SIMPUL_DEVICE_USERNAME": LAB_USER, "SIMPUL_DEVICE_PASSWORD": LAB_PASSWORD}
    with simpul_up(env, [["inventory", "import", str(CLAB)]]) as server:
        yield server


def test_dry_run_from_the_form_fills_in_live(browser: Any, lab_web: LiveServer) -> None:
    context = browser.new_context(base_url=lab_web.url, locale="id-ID")
    page = context.new_page()
    sign_in(page, lab_web, "infra")
    page.goto("/playbooks/")
    page.select_option("#playbook", "backbone")
    page.fill("#hosts", "core1")

    # an apply without the confirmation box is refused on the form and queues nothing
    page.uncheck("input[name=dry_run]")
    page.locator("form[action$='/playbooks/runs'] button[type=submit]").click()
    alert = page.locator("p.error[role=alert]")
    assert "confirmation" in alert.inner_text()
    assert page.locator("a[href*='/playbooks/runs/']").count() == 0
    assert page.input_value("#hosts") == "core1"  # what was typed is kept

    page.check("input[name=dry_run]")
    page.locator("form[action$='/playbooks/runs'] button[type=submit]").click()
    page.wait_for_url("**/playbooks/runs/*")
    first_paint = page.evaluate("() => performance.timeOrigin")
    page.wait_for_function(
        "() => ['ok', 'failed', 'error'].includes("
        "document.getElementById('run-state').textContent.trim())", timeout=120_000)
    assert page.evaluate("() => performance.timeOrigin") == first_paint  # no reload
    assert page.locator("#run-state").inner_text().strip() == "ok", \
        page.locator("#run-output").inner_text()
    output = page.locator("#run-output").inner_text()
    assert "backbone: 1 host(s) (dry-run): core1" in output and "core1: frr:" in output
    row = page.locator("#run-hosts tr").first.locator("td")
    assert row.nth(0).inner_text() == "core1"
    assert row.nth(1).inner_text() in ("ok", "changed")
    assert row.nth(2).inner_text() in ("ya", "tidak")  # translated, like the server's page
    assert row.nth(4).inner_text() == "-"  # a dry-run verifies nothing
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playbook-run.png"), full_page=True)
    context.close()
