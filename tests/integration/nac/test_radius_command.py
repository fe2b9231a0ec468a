"""``simpul nac radius`` alone: FreeRADIUS with its own policy server, no web app.

A site that runs RADIUS on a separate machine from the web UI starts just this command.
Its decisions must come from the live policy (not from the fail-over cache), and a
SIGTERM must stop FreeRADIUS and the policy process it started, leaving neither behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from simpul import migrate
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import load_settings
from tests.envs import QUIET_LISTENERS
from tests.integration.nac.radius import free_udp_port, mab, radclient
from tests.integration.nac.test_failover import CACHE_NOTE
from tests.integration.nac.test_freeradius import (
    ACTIVE,
    PENDING,
    REPO,
    SECRET,
    SIMPUL,
    _seed_devices,
    pytestmark,  # noqa: F401 - same skip when FreeRADIUS is absent
)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def test_radius_command_answers_from_the_policy_and_stops_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'simpul.db'}"
    settings = load_settings(env={}, data_dir=str(tmp_path / "data"), database_url=url)
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    _seed_devices(AppContext(settings=settings, db=db))
    db.dispose()
    auth, acct = free_udp_port(), free_udp_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env.update({"SIMPUL_DATA_DIR": str(tmp_path / "data"), "SIMPUL_DATABASE_URL": url,
                **QUIET_LISTENERS, "SIMPUL_RADIUS_ENABLED": "no",  # the command overrides
                "SIMPUL_RADIUS_AUTH_PORT": str(auth), "SIMPUL_RADIUS_ACCT_PORT": str(acct),
                "SIMPUL_RADIUS_SECRET": SECRET, "SIMPUL_RADIUS_REJECT_DELAY": "0",
                "PYTHONPATH": str(REPO)})
    proc = subprocess.Popen([SIMPUL, "nac", "radius"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any("FreeRADIUS ready" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        assert "policy http://127.0.0.1:" in "".join(lines)  # its own, not the web app
        children = _children(proc.pid)
        assert len(children) == 2, children  # freeradius and nac.policyserver

        reply = radclient(auth, SECRET, mab(ACTIVE))
        assert reply.code == "Access-Accept", reply.raw
        assert reply.attrs["Tunnel-Private-Group-Id"] == "110"
        assert reply.attrs.get("Reply-Message") != CACHE_NOTE  # the live policy answered
        assert radclient(auth, SECRET, mab(PENDING)).code == "Access-Reject"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=5)
    log = "".join(lines)
    assert proc.returncode == 0, log
    assert "Traceback" not in log and SECRET not in log
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
