"""The config repository: one file per device, one git commit per backup run.

Plain ``git`` through subprocess: the repository is an ordinary one that operators can
clone, ``git log -p`` and restore from with the tools they know. A lock file serialises
runs (a scheduled backup and a manual one never interleave their commits).
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playbooks.backup.errors import BackupError, BackupNotFound

SUFFIX = ".cfg"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "simpul backup", "GIT_AUTHOR_EMAIL": "backup@simpul.invalid",
    "GIT_COMMITTER_NAME": "simpul backup", "GIT_COMMITTER_EMAIL": "backup@simpul.invalid",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
}
_REV = re.compile(r"^[A-Za-z0-9_.~^@{}/-]{1,100}$")


def file_name(device: str) -> str:
    """Return the file of *device* ("site/name" devices become "site__name.cfg")."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", device.replace("/", "__"))
    if safe.startswith("."):
        safe = "_" + safe
    return safe + SUFFIX


class ConfigRepo:
    """A git repository of device configs under *path* (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def git(self, *args: str, check: bool = True) -> str:
        """Run git in the repository and return its stdout.

        Raises:
            BackupError: git failed (its first stderr line is the message).
        """
        env = {**os.environ, **_GIT_ENV, "HOME": str(self.path)}
        proc = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false",
                               "-C", str(self.path), *args],
                              capture_output=True, text=True, env=env, timeout=120)
        if check and proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["(no message)"])[0]
            raise BackupError(f"git {args[0]} failed in {self.path}: {first}")
        return proc.stdout

    def ensure(self) -> None:
        """Create the repository when it does not exist yet."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(
                f"cannot create backup directory {self.path}: {exc.strerror}") from None
        if not (self.path / ".git").exists():
            self.git("init", "-q", "-b", "main")
            (self.path / ".gitattributes").write_text(f"*{SUFFIX} text eol=lf\n")

    @property
    def exists(self) -> bool:
        return (self.path / ".git").is_dir()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the repository's run lock (blocks while another run holds it)."""
        self.ensure()
        with open(self.path / ".git" / "simpul-backup.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def read(self, device: str) -> str | None:
        """Return the stored config of *device* in the work tree, or None."""
        path = self.path / file_name(device)
        return path.read_text() if path.exists() else None

    def write(self, device: str, text: str) -> None:
        """Write the config of *device* atomically (a crash never leaves half a file)."""
        path = self.path / file_name(device)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    def commit(self, message: str) -> str | None:
        """Commit every change in the work tree; return the commit id, None if nothing changed."""
        self.git("add", "-A")
        if not self.git("status", "--porcelain"):
            return None
        self._commit(message)
        return self.git("rev-parse", "HEAD").strip()

    def _commit(self, message: str) -> None:
        env = {**os.environ, **_GIT_ENV, "HOME": str(self.path)}
        proc = subprocess.run(["git", "-c", "commit.gpgsign=false", "-C", str(self.path),
                               "commit", "-q", "-F", "-"], input=message, capture_output=True,
                              text=True, env=env, timeout=120)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["(no message)"])[0]
            raise BackupError(f"git commit failed in {self.path}: {first}")

    def devices(self) -> list[str]:
        """Return the file names (without suffix) of every backed-up device."""
        if not self.exists:
            return []
        return sorted(p.name[: -len(SUFFIX)] for p in self.path.glob(f"*{SUFFIX}"))

    def history(self, device: str) -> list[tuple[str, str, str]]:
        """Return (commit, ISO date, subject) of each commit changing *device*, newest first."""
        if not self.exists or not (self.path / file_name(device)).exists():
            raise BackupNotFound(f"no backup of device {device!r}")
        out = self.git("log", "--format=%H%x09%cI%x09%s", "--", file_name(device))
        return [tuple(line.split("\t", 2)) for line in out.splitlines() if line]  # type: ignore[misc]

    def diff(self, device: str, rev: str | None = None) -> str:
        """Return the unified diff of *device*: its last change, or *rev* → newest.

        Raises:
            BackupNotFound: no backup of *device*, or *rev* is not a known revision.
        """
        history = self.history(device)
        name = file_name(device)
        if rev is None:
            if len(history) < 2:
                return ""  # only one version: nothing to compare with
            old, new = history[1][0], history[0][0]
        else:
            if not _REV.match(rev) or rev.startswith("-"):
                raise BackupNotFound(f"no revision {rev!r}")
            found = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
            if not found.strip():
                raise BackupNotFound(f"no revision {rev!r}")
            old, new = found.strip(), history[0][0]
        return self.git("diff", "--no-color", old, new, "--", name)
