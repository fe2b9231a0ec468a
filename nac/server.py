"""Running FreeRADIUS for simpul: foreground child process, own log and pid in the data dir.

``freeradius -f -d <raddb> -l stdout`` with the secrets in its environment only. The
child's output goes to ``<data>/nac/radius/freeradius.out``; readiness is the line
"Ready to process requests" there. Stopped by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from loguru import logger

from nac.settings import API_SECRET_ENV, RADIUS_SECRET_ENV, NacSettings, api_secret, radius_secret
from simpul.errors import ConfigError

READY = "Ready to process requests"
# FreeRADIUS ignores a HUP within 5 s of the previous one, and does not reload a module
# loaded within 2 whole seconds; either way it then forgets that the file changed.
HUP_GUARD = 5.5


def freeradius_binary(nac: NacSettings) -> str | None:
    """The FreeRADIUS executable to run, or None when it is not installed."""
    path = nac.binary
    if os.path.sep in path:
        return path if os.access(path, os.X_OK) else None
    return shutil.which(path)


def radius_env(nac: NacSettings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The child environment: the caller's plus both secrets (never logged)."""
    env = dict(os.environ if base is None else base)
    env[RADIUS_SECRET_ENV] = radius_secret(nac.data_dir, env)
    env[API_SECRET_ENV] = api_secret(nac.data_dir, env)
    return env


class FreeRadiusProcess:
    """One FreeRADIUS child on a generated configuration tree."""

    def __init__(self, nac: NacSettings, raddb: Path, logdir: Path) -> None:
        self.nac = nac
        self.raddb = raddb
        self.output = logdir / "freeradius.out"
        self.proc: subprocess.Popen[bytes] | None = None
        self._loaded = 0.0  # when FreeRADIUS last (re)loaded its modules

    def start(self, env: dict[str, str] | None = None) -> None:
        """Spawn FreeRADIUS in the foreground mode (returns at once; see ``wait_ready``)."""
        binary = freeradius_binary(self.nac)
        if binary is None:
            raise ConfigError(f"FreeRADIUS binary {self.nac.binary} not found (install the "
                              "freeradius and freeradius-rest packages)")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [binary, "-f", "-d", str(self.raddb), "-l", "stdout"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=radius_env(self.nac, env), start_new_session=True)
        self._loaded = time.monotonic()

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until FreeRADIUS says it is ready; raise ConfigError with its last words."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output.read_text(errors="replace") if self.output.exists() else ""
            if READY in text:
                self._loaded = time.monotonic()
                return
            if self.proc is None or self.proc.poll() is not None:
                tail = "\n".join(text.strip().splitlines()[-8:])
                raise ConfigError(f"FreeRADIUS exited at start (see {self.output}):\n{tail}")
            time.sleep(0.05)
        raise ConfigError(f"FreeRADIUS not ready within {timeout:.0f} s (see {self.output})")

    def reload(self, cache_file: Path | None = None, module: str = "nac_cache",
               attempts: int = 3) -> bool:
        """SIGHUP until FreeRADIUS reports it re-read *module*; return whether it did.

        FreeRADIUS skips HUPs that come too soon (see ``HUP_GUARD``) yet records the
        file as seen, so a later HUP would say "no files changed" and keep a stale
        fail-over cache. So: wait out the guard, and bump *cache_file*'s mtime before
        each HUP, and confirm the reload in FreeRADIUS's log, retrying.
        """
        marker = f'Reloaded module "{module}"'
        for _attempt in range(attempts):
            if self.proc is None or self.proc.poll() is not None:
                return False
            wait = self._loaded + HUP_GUARD - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if cache_file is not None and cache_file.exists():
                stamp = max(int(cache_file.stat().st_mtime) + 1, int(time.time()))
                os.utime(cache_file, (stamp, stamp))
            before = self._log().count(marker)
            self.proc.send_signal(signal.SIGHUP)
            self._loaded = time.monotonic()
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                if self._log().count(marker) > before:
                    return True
                time.sleep(0.05)
        logger.warning("FreeRADIUS did not reload {} after {} HUPs", module, attempts)
        return False

    def _log(self) -> str:
        try:
            return self.output.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def running(self) -> bool:
        """True while the child lives."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the child by its PID; kill it if it does not stop in *timeout*."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("FreeRADIUS (pid {}) ignored SIGTERM; killing", self.proc.pid)
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None


class PolicyServerProcess:
    """The dedicated policy process (``python -m nac.policyserver``) on a socket we bind.

    The parent binds the loopback port and passes the listening descriptor, so the URL
    written into rlm_rest's configuration is known before the child starts, and a
    restarted child takes over the same socket (connections wait in its backlog).
    """

    def __init__(self, nac: NacSettings, settings_env: dict[str, str]) -> None:
        self.nac = nac
        self.settings_env = settings_env  # SIMPUL_DATA_DIR / SIMPUL_DATABASE_URL of simpul up
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where rlm_rest reaches the policy server."""
        assert self.sock is not None
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Bind (once) and spawn the child on the socket."""
        from nac.policyserver import listen

        if self.sock is None:
            try:
                self.sock = listen("127.0.0.1", self.nac.policy_port)
            except OSError as exc:
                raise ConfigError(f"NAC policy server cannot listen on 127.0.0.1:"
                                  f"{self.nac.policy_port}: {exc.strerror}") from None
        env = dict(os.environ)
        env.update(self.settings_env)
        fd = self.sock.fileno()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nac.policyserver", "--fd", str(fd)], pass_fds=(fd,),
            env=env, stdin=subprocess.DEVNULL)

    @property
    def running(self) -> bool:
        """True while the child lives."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the child writes its queued decisions), then SIGKILL; close the socket."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("nac policy server (pid {}) ignored SIGTERM; killing",
                               self.proc.pid)
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None
