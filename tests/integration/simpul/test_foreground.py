"""A part run alone in the foreground starts, says so, and stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_trap_receiver_in_the_foreground_stops_on_a_signal(tmp_path: Path,
                                                           stop_with: int) -> None:
    simpul = str(Path(sys.executable).parent / "simpul")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env.update({"SIMPUL_DATA_DIR": str(tmp_path), "SIMPUL_TRAP_PORT": "0"})
    proc = subprocess.Popen([simpul, "collectors", "traps", "run"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    deadline, seen = time.monotonic() + 60, ""
    while "(Ctrl-C stops)" not in seen:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, f"exited early: {seen}"
        seen += line
        assert time.monotonic() < deadline, seen
    assert "trap receiver" in seen
    proc.send_signal(stop_with)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
