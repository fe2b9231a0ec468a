"""`simpul up` as an operator runs it: answers within 10 s, reports health, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.envs import QUIET_LISTENERS
from tests.pgcluster import free_port

SIMPUL = str(Path(sys.executable).parent / "simpul")


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env.update({"SIMPUL_DATA_DIR": str(tmp_path / "data"), "SIMPUL_DATABASE_URL": db_url,
                **QUIET_LISTENERS})
    return env


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_up_answers_within_10s_and_stops_cleanly(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen([SIMPUL, "up", "--port", str(port)], env=_env(tmp_path, db_url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        status = None
        while time.monotonic() - started < 10:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        assert status == 200, f"no HTTP answer on port {port} within 10 s"
        health = json.loads(body)
        assert health["status"] == "ok"
        assert health["database"] == {"status": "ok"}
        login_status, page = _get(f"http://127.0.0.1:{port}/login")
        assert login_status == 200 and b"Masuk" in page
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "stopping" in output
    with socket.socket() as s:  # the listener is gone (TIME_WAIT leftovers are fine)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def test_sigterm_also_stops(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([SIMPUL, "up", "--port", str(port)],
                            env=_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            _get(f"http://127.0.0.1:{port}/healthz")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    proc.terminate()
    output = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0, output


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([SIMPUL, "up", "--port", str(port)],
                                env=_env(tmp_path, f"sqlite:///{tmp_path / 'y.db'}"),
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_bad_port_is_refused(tmp_path: Path, port: str) -> None:
    result = subprocess.run([SIMPUL, "up", "--port", port],
                            env=_env(tmp_path, f"sqlite:///{tmp_path / 'z.db'}"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "Invalid value for '--port'" in result.stderr


def test_sigint_works_even_when_inherited_as_ignored(tmp_path: Path) -> None:
    """A shell's `cmd &` starts children with SIGINT ignored; Ctrl-C must still stop us."""
    port = free_port()
    proc = subprocess.Popen([SIMPUL, "up", "--port", str(port)],
                            env=_env(tmp_path, f"sqlite:///{tmp_path / 'i.db'}"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            _get(f"http://127.0.0.1:{port}/healthz")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    try:
        output = proc.communicate(timeout=15)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("simpul up ignored SIGINT")
    assert proc.returncode == 0 and "stopping" in output
