"""`lab down` cleans up completely, also after an `up` that was interrupted half-way.

Marked ``lab_lifecycle``: the integration conftest runs these after every test that
uses the shared session lab, since they take labs up and down themselves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.lab.labhelpers import REPO, assert_clean, lab_cli, lab_namespaces, wait_until

pytestmark = pytest.mark.lab_lifecycle


def _start_up() -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "labs.cli", "up"], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_mid_build() -> None:
    """Wait until namespaces exist and daemons are being started."""
    assert wait_until(lambda: len(lab_namespaces()) > 20
                      and os.path.exists("/run/simpul-lab/nodes/core1/rsyslog.conf"),
                      30, interval=0.05)


def test_down_after_up_killed_mid_way(lab_deps: None) -> None:
    lab_cli("down", check=False)
    proc = _start_up()
    _wait_mid_build()
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert lab_namespaces(), "the interrupted up left nothing to clean (too late or too early)"
    out = lab_cli("down").stdout
    assert "lab down" in out
    assert_clean()


def test_up_interrupted_by_sigint_cleans_up_itself(lab_deps: None) -> None:
    lab_cli("down", check=False)
    proc = _start_up()
    _wait_mid_build()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert_clean()
    lab_cli("down")
    assert_clean()
