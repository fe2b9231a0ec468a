"""Browser fixtures (a pytest plugin loaded once by tests/conftest.py, for every directory).

A real `simpul up` and Debian's Chromium driven by Playwright. Defined in one place on
purpose: importing these fixtures into another conftest would define them twice, and
a second session browser would start Playwright's sync API inside the first's loop.

Playwright never downloads a browser here: it launches /usr/bin/chromium (installed by
the test command as root) headless, without the sandbox (we run as root), and with the
background-networking features off so the browser makes no connection but ours.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.envs import QUIET_LISTENERS
from tests.pgcluster import free_port

CHROMIUM = os.environ.get("SIMPUL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DEMO_PASSWORD = "e2e-demo-password-1"


@dataclass
class LiveServer:
    """A running `simpul up` with demo data."""

    url: str
    data_dir: Path
    password: str = DEMO_PASSWORD


def sign_in(page: object, server: LiveServer, username: str) -> None:
    """Sign *page* in as *username* (demo users share the demo password).

    Keyboard-only sign-in and the wrong-password message are tested in test_shell.
    """
    page.goto("/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", server.password)  # type: ignore[attr-defined]
    page.press("#password", "Enter")  # type: ignore[attr-defined]
    page.wait_for_url(f"{server.url}/")  # type: ignore[attr-defined]


@contextmanager
def simpul_up(extra_env: dict[str, str] | None = None,
              setup: list[list[str]] | None = None) -> Iterator[LiveServer]:
    """Run `simpul up` on a free port in a fresh data dir with demo data; stop it after.

    *setup* commands (``["inventory", "import", FILE]``) run after the demo load, with
    the same environment, before the server starts.
    """
    simpul = str(Path(sys.executable).parent / "simpul")
    data_dir = Path(tempfile.mkdtemp(prefix="simpul-e2e-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env.update({"SIMPUL_DATA_DIR": str(data_dir), "SIMPUL_DEMO_ADMIN_PASSWORD": DEMO_PASSWORD,
                **QUIET_LISTENERS, **(extra_env or {})})
    for args in (["demo", "load"], *(setup or [])):
        subprocess.run([simpul, *args], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([simpul, "up", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
            break
        except (urllib.error.URLError, OSError):  # refused, reset, or a read timeout
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"simpul up did not start: {proc.communicate()[0]}")
            time.sleep(0.1)
    try:
        yield LiveServer(url=url, data_dir=data_dir)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """`simpul up` with demo data for the whole session."""
    with simpul_up() as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an asyncio loop running in the main
    thread while it is open, and every later test calling asyncio.run() (the SNMP
    poller, the probes) would fail with "cannot be called from a running event loop".
    """
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0:
            pytest.skip(f"{CHROMIUM} is missing and not root to install it")
        pytest.fail(f"{CHROMIUM} is missing: the test command installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, live_server: LiveServer) -> Iterator[object]:
    """A fresh browser context (own cookies) per test."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()
