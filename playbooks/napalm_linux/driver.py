"""NAPALM driver for the Linux system layer: managed files plus reload commands.

The candidate (see :mod:`playbooks.napalm_linux.bundle`) names whole files and the
commands that make daemons read them. The device keeps, under the login user's
``~/.simpul/napalm-linux/``:

- ``manifest.json``: every file simpul wrote (replace mode removes the ones it no
  longer lists in the same directories);
- ``rollback.json``: the state before the last commit — each touched file's exact
  bytes and mode, or "absent" — and the run lines to replay. It is written *before*
  anything changes, so even a commit cut off half-way can be rolled back.

Run lines run through the login shell; when the login user is not root they are
prefixed with ``sudo -n`` (``optional_args["sudo"]`` or ``SIMPUL_DEVICE_SUDO``:
``auto`` (default), ``yes``, ``no``): each run line is then one simple command. Files
are written as the login user, so the managed directories must be writable by it (the
lab gives the lab user its node-local ``/etc/swanctl``, ``/etc/hostapd``...).
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
from typing import Any

from loguru import logger
from napalm.base import NetworkDriver
from napalm.base.exceptions import (
    CommitError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)

from playbooks.napalm_linux import bundle as bundlemod
from playbooks.napalm_linux.bundle import Bundle, BundleError, FileState, Plan
from playbooks.napalm_linux.transport import Shell, ShellError, quote

STATE_DIR = ".simpul/napalm-linux"
SHELL_PORT_ENV = "SIMPUL_DEVICE_SHELL_PORT"
SUDO_ENV = "SIMPUL_DEVICE_SUDO"

# Prints, for each path argument, "F <octal mode>" + base64 line, or "A" + empty line.
READ_SCRIPT = ('for p in "$@"; do if [ -f "$p" ]; then m=$(stat -c %a -- "$p") || exit 3; '
               'printf "F %s\\n" "$m"; base64 -w0 -- "$p" || exit 3; echo; '
               'else printf "A\\n\\n"; fi; done')
# Writes stdin to $1 atomically (temp file in the same directory, then rename).
WRITE_SCRIPT = ('set -e; d=$(dirname -- "$1"); mkdir -p -- "$d"; t="$d/.simpul-$$.tmp"; '
                'trap \'rm -f -- "$t"\' EXIT; cat > "$t"; chmod "$2" "$t"; mv -f -- "$t" "$1"; '
                'trap - EXIT')


class LinuxDriver(NetworkDriver):
    """NAPALM driver for a Linux host's files and reload commands (see module doc)."""

    platform = "linux"

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = timeout
        args = dict(optional_args or {})
        self.port = int(args.get("shell_port") or os.environ.get(SHELL_PORT_ENV)
                        or args.get("port") or 22)
        sudo = str(args.get("sudo") or os.environ.get(SUDO_ENV) or "auto").lower()
        self.sudo = username != "root" if sudo == "auto" else sudo in ("1", "yes", "true")
        self.state_dir = str(args.get("state_dir", STATE_DIR))
        self.shell = Shell(hostname, username, password or None, port=self.port,
                           timeout=float(timeout), key_file=args.get("key_file"))
        self.candidate: Bundle | None = None
        self.replace = False

    # --- connection ---------------------------------------------------------------

    def open(self) -> None:
        """Connect over SSH to the shell port."""
        try:
            self.shell.open()
        except Exception as exc:  # paramiko raises many types; one NAPALM error out
            raise ConnectionException(
                f"cannot open a shell on {self.hostname}:{self.port}: {exc}") from exc

    def close(self) -> None:
        """Disconnect."""
        self.shell.close()

    def is_alive(self) -> dict[str, bool]:
        """Return ``{"is_alive": bool}``."""
        return {"is_alive": self.shell.alive}

    # --- getters ------------------------------------------------------------------

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """Run each command through the login shell; return its output (stdout+stderr)."""
        return {c: self.shell.run(c, check=False).text for c in commands}

    def get_facts(self) -> dict[str, Any]:
        """Return hostname, kernel, uptime and interfaces."""
        out = self.shell.run("hostname; uname -r; cut -d' ' -f1 /proc/uptime; "
                             "ls /sys/class/net").stdout.decode().splitlines()
        hostname, kernel, uptime = ([*out, "", "", "0"])[:3]
        return {"hostname": hostname, "fqdn": hostname, "vendor": "Linux",
                "model": "Linux", "os_version": kernel, "serial_number": "",
                "uptime": float(uptime or 0), "interface_list": sorted(out[3:])}

    def get_config(self, retrieve: str = "all", full: bool = False,
                   sanitized: bool = False, format: str = "text") -> dict[str, str]:
        """Return the managed files (``running``) in candidate format, and the candidate."""
        running = ""
        if retrieve in ("all", "running"):
            paths = self._manifest()
            states = self._read(paths) if paths else {}
            files = tuple(bundlemod.FileSection(p, s.content, s.mode or 0o644)
                          for p, s in states.items() if s.content is not None)
            running = bundlemod.dump(Bundle(files=files))
            if sanitized:
                running = "".join(
                    ln for ln in running.splitlines(keepends=True)
                    if not any(k in ln.lower() for k in ("secret", "psk", "password")))
        candidate = bundlemod.dump(self.candidate) if self.candidate else ""
        return {"running": running, "startup": "", "candidate": candidate}

    # --- candidate life cycle -------------------------------------------------------

    def load_merge_candidate(self, filename: str | None = None,
                             config: str | None = None) -> None:
        """Load a candidate whose files are set and whose other managed files stay."""
        self._load(filename, config, replace=False, error=MergeConfigException)

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        """Load a candidate that also removes simpul's other files in its directories."""
        self._load(filename, config, replace=True, error=ReplaceConfigException)

    def _load(self, filename: str | None, config: str | None, replace: bool,
              error: type[Exception]) -> None:
        if config is None:
            if filename is None:
                raise error("give a config text or a filename")
            with open(filename) as fh:
                config = fh.read()
        try:
            self.candidate = bundlemod.parse(config)
        except BundleError as exc:
            raise error(str(exc)) from exc
        self.replace = replace

    def compare_config(self) -> str:
        """Return the unified diff of every managed file and the run lines ('' = none)."""
        if self.candidate is None:
            return ""
        return self._plan().diff()

    def discard_config(self) -> None:
        """Forget the candidate."""
        self.candidate = None
        self.replace = False

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        """Write the files atomically, run the run lines; roll back and raise on failure."""
        if revert_in is not None:
            raise NotImplementedError("commit confirm is not supported on Linux")
        if self.candidate is None:
            raise CommitError("no candidate loaded")
        manifest = self._manifest()
        result = self._plan(manifest)
        changed = result.changed
        snapshot = {
            "files": [_encode_state(result.before[p]) for p in changed],
            "run": list(result.run) if changed else [],
            "manifest": manifest,
        }
        self._write_state("rollback.json", snapshot)
        self.discard_config()
        if not changed:
            logger.info("{}: linux layer unchanged", self.hostname)
            return
        try:
            self._apply([result.after[p] for p in changed])
            self._write_state("manifest.json", bundlemod.next_manifest(manifest, result))
            self._run_lines(result.run)
        except (ShellError, OSError) as exc:
            logger.warning("{}: commit failed ({}); restoring the previous files",
                           self.hostname, exc)
            try:
                self._restore(snapshot)
            except (ShellError, OSError) as again:
                raise CommitError(f"{self.hostname}: {exc}; and the automatic rollback "
                                  f"failed too: {again}") from again
            raise CommitError(f"{self.hostname}: {exc} (rolled back to the previous "
                              "files)") from exc

    def rollback(self) -> None:
        """Restore the files before the last commit exactly and replay its run lines."""
        raw = self._read_state("rollback.json")
        if raw is None:
            logger.warning("{}: nothing to roll back", self.hostname)
            return
        try:
            self._restore(raw)
        except (ShellError, OSError) as exc:
            raise CommitError(f"{self.hostname}: rollback failed: {exc}") from exc
        self.shell.run(quote("rm", "-f", "--", f"{self.state_dir}/rollback.json"))

    # --- device I/O -------------------------------------------------------------------

    def _plan(self, manifest: list[str] | None = None) -> Plan:
        assert self.candidate is not None
        removes: list[str] = []
        if self.replace:
            removes = bundlemod.replaced_paths(
                self.candidate, self._manifest() if manifest is None else manifest)
        current = self._read(self.candidate.paths + removes)
        return bundlemod.plan(self.candidate, current, removes)

    def _read(self, paths: list[str]) -> dict[str, FileState]:
        """Return the state of every path (content decoded losslessly)."""
        if not paths:
            return {}
        out = self.shell.run(f"sh -c {quote(READ_SCRIPT)} sh {quote(*paths)}").stdout
        lines = out.decode().split("\n")
        states: dict[str, FileState] = {}
        for i, path in enumerate(paths):
            head, data = lines[2 * i], lines[2 * i + 1]
            if head.startswith("F "):
                content = base64.b64decode(data).decode("utf-8", "surrogateescape")
                states[path] = FileState(path, content, int(head[2:], 8))
            else:
                states[path] = FileState(path, None)
        return states

    def _apply(self, states: list[FileState]) -> None:
        for state in states:
            if state.content is None:
                self.shell.run(quote("rm", "-f", "--", state.path))
            else:
                self.shell.run(f"sh -c {quote(WRITE_SCRIPT)} sh "
                               f"{quote(state.path, f'{state.mode or 0o644:04o}')}",
                               stdin=state.content.encode("utf-8", "surrogateescape"))

    def _run_lines(self, lines: tuple[str, ...] | list[str]) -> None:
        for line in lines:
            self.shell.run(f"sudo -n {line}" if self.sudo else line, timeout=120)

    def _restore(self, snapshot: dict[str, Any]) -> None:
        self._apply([_decode_state(f) for f in snapshot["files"]])
        self._write_state("manifest.json", snapshot["manifest"])
        try:
            self._run_lines(snapshot["run"])
        except ShellError as exc:
            raise ShellError(exc.command, exc.status,
                             f"files restored, replaying the run lines failed: "
                             f"{exc.output}") from exc
        logger.info("{}: linux layer restored ({} files)", self.hostname,
                    len(snapshot["files"]))

    def _manifest(self) -> list[str]:
        data = self._read_state("manifest.json")
        return sorted(str(p) for p in data) if isinstance(data, list) else []

    def _read_state(self, name: str) -> Any:
        path = posixpath.join(self.state_dir, name)
        result = self.shell.run(quote("cat", "--", path), check=False)
        if result.status != 0:
            return None
        try:
            return json.loads(result.stdout)
        except ValueError:
            logger.warning("{}: {} is unreadable; ignored", self.hostname, path)
            return None

    def _write_state(self, name: str, data: Any) -> None:
        path = posixpath.join(self.state_dir, name)
        self.shell.run(f"sh -c {quote(WRITE_SCRIPT)} sh {quote(path, '0600')}",
                       stdin=json.dumps(data, indent=1).encode())


def _encode_state(state: FileState) -> dict[str, Any]:
    content = None
    if state.content is not None:
        content = base64.b64encode(state.content.encode("utf-8", "surrogateescape")).decode()
    return {"path": state.path, "content": content, "mode": state.mode}


def _decode_state(data: dict[str, Any]) -> FileState:
    content = data.get("content")
    if content is not None:
        content = base64.b64decode(content).decode("utf-8", "surrogateescape")
    return FileState(str(data["path"]), content, data.get("mode"))
