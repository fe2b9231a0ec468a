"""The SIEM console in Chromium: search, live stream, saved search, incident handling.

Events are stored straight into the live server's SQLite database with the writer's
own functions (WAL lets both processes use it); the console's script must then bring
them into the open page by polling the API, without a reload.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import expect

from siem.detect.engine import Detector
from siem.detect.runner import DetectionRunner
from siem.enrich import EnrichmentRegistry
from siem.normalise import NormaliseOptions
from siem.spool import Record
from siem.writer import build_rows, store_rows
from simpul.db import Database
from tests.browser import LiveServer, sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / ".simpul" / "e2e"


def store(live_server: LiveServer, lines: list[str], detect: bool = False) -> None:
    db = Database(f"sqlite:///{live_server.data_dir / 'simpul.db'}")
    now = time.time()
    records = [Record(line.encode(), now, "tcp", "192.0.2.80", 514, "", 0, i)
               for i, line in enumerate(lines)]
    events: list[dict] = []
    rows = build_rows(records, NormaliseOptions(epoch=f"e2e{now}"), EnrichmentRegistry(),
                      None, events)
    store_rows(db, rows)
    if detect:
        runner = DetectionRunner(db, Detector.from_dirs())
        runner.after_batch(events)
    db.dispose()


def ssh_line(user: str, i: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return (f"<38>1 {stamp}Z bastion sshd 77 - - Failed password for {user} from "
            f"198.51.100.{i % 3 + 1} port {50000 + i} ssh2")


def test_console_search_live_stream_and_incident(page, live_server: LiveServer) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    store(live_server, [ssh_line("e2e-alice", i) for i in range(3)])
    sign_in(page, live_server, "security")
    page.get_by_role("link", name="SIEM").click()
    page.wait_for_url(re.compile(r".*/siem/$"))
    # a query with CIDR and boolean logic, typed like an analyst would
    page.fill("#q", 'user.name:e2e-ali* AND source.ip:198.51.100.0/24 AND NOT user.name:"x"')
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r".*/siem/\?q=.*"))
    rows = page.locator("#siem-rows tr")
    assert rows.count() == 3
    assert "e2e-alice" in rows.first.inner_text()
    # live: a new matching event arrives without reloading the page
    store(live_server, [ssh_line("e2e-alice", 7)])
    expect(rows).to_have_count(4, timeout=15000)  # polled every 3 s by siem.js
    assert page.locator("#siem-rows tr.fresh").count() == 1
    # save the search; it is offered again as a link
    page.fill("#save-name", "alice failures")
    page.locator("form.save-search button[type=submit]").click()
    page.get_by_role("link", name="alice failures").click()
    expect(page.locator("#siem-rows tr")).to_have_count(4)  # once the page has loaded
    # a malformed query explains itself instead of failing
    page.fill("#q", "(user.name:broken")
    page.press("#q", "Enter")
    assert "missing ')'" in page.locator("#query-error").inner_text()
    errors[:] = [e for e in errors if "status of 400" not in e]  # that page is a 400
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "siem-console.png"), full_page=True)

    # a brute force becomes an incident; the analyst takes it
    store(live_server, [ssh_line("e2e-bob", 3 * i) for i in range(6)], detect=True)
    page.goto("/siem/incidents")
    page.locator("#incident-list a", has_text="SSH brute force").first.click()
    page.wait_for_url(re.compile(r".*/siem/incidents/\d+$"))
    page.select_option("#i-status", "in_progress")
    page.fill("#i-assignee", "security")
    page.fill("#i-note", "blocking at the firewall")
    page.locator("#incident-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#incident-status").inner_text() == "in_progress"
    assert "blocking at the firewall" in page.locator("ul.notes").inner_text()
    # the raw events behind the alert are one click away
    page.locator("table a", has_text="1").first.click()
    assert "Failed password for e2e-bob" in page.locator("pre.raw").inner_text()
    page.goto("/siem/rules")
    assert page.locator("#rule-list tr[data-rule='corr:ssh-brute-force']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "siem-rules.png"), full_page=True)
    assert errors == []
