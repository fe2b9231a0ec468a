"""Helpers for the lab integration tests (namespaces, CLI, syslog listener)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.topology import Topology

REPO = Path(__file__).resolve().parents[3]
CONFIGS = Path(__file__).resolve().parent / "configs"
UP_BUDGET_SECONDS = 60.0


def free_udp_port() -> int:
    """Return a UDP port free on all addresses."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


class SyslogListener:
    """Collect syslog datagrams (RFC 3164 forward format) by sending host name."""

    LINE = re.compile(r"^<(\d+)>(\w{3}\s+\d+ [\d:]+) (\S+) (.*)$", re.S)

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self._sock.bind(("0.0.0.0", port))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                continue
            except OSError:
                return
            match = self.LINE.match(data)
            if match:
                self.messages.append((match.group(3), match.group(4)))

    def hosts(self, pattern: str = "") -> set[str]:
        """Return the hosts that sent a message containing *pattern*."""
        return {host for host, msg in list(self.messages) if pattern in msg}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def lab_cli(*args: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``python -m labs.cli ARGS`` (what ``simpul lab`` runs)."""
    proc = subprocess.run([sys.executable, "-m", "labs.cli", *args], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def in_ns(node: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run *argv* inside *node*'s namespace."""
    return subprocess.run(["ip", "netns", "exec", f"sl-{node}", *argv], capture_output=True,
                          text=True, timeout=timeout)


def lab_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("sl-")]


def lab_processes(state_dir: str = "/run/simpul-lab") -> list[str]:
    """Return processes whose command line mentions the lab (state dir or pathspace)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if state_dir in cmd or "watchfrr -N" in cmd or "netns exec sl-" in cmd:
            found.append(f"{pid} {cmd[:120]}")
    return found


def assert_clean() -> None:
    """Assert no lab namespace, link or process is left."""
    assert lab_namespaces() == []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "sl-mgmt" not in links
    assert re.search(r"\d+: slm[0-9a-f]{8}", links) is None
    assert lab_processes() == []
    assert not Path("/run/simpul-lab").exists()


def parallel(func: Callable[[Any], Any], items: list[Any], workers: int = 16) -> list[Any]:
    """Map *func* over *items* in threads, keeping order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Poll *predicate* until it holds or *timeout* passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@dataclass
class Lab:
    """A running lab as the tests see it."""

    topology: Topology
    syslog: SyslogListener
    up_seconds: float
    env: dict[str, str]
    routed: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def routers(self) -> list[str]:
        return [n.name for n in self.topology.nodes.values() if n.is_router]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return lab_cli(*args, env=self.env, check=check)


