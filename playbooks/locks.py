"""One lock per device across processes: a ``flock`` on a file in the data directory.

Two runs touching the same device at once would interleave their diffs and rollbacks,
so the second is refused (not queued): the operator sees who holds the device. flock
locks belong to the open file, so they also exclude a second run inside the same
process (the web app's threads), and the kernel drops them when a process dies, so a
crashed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from playbooks.base import DeviceLockedError


def lock_dir(data_dir: Path) -> Path:
    """Return (and create) the directory holding the device lock files."""
    path = Path(data_dir).expanduser() / "locks" / "devices"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file(directory: Path, device: str) -> Path:
    return directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", device) + ".lock")


class DeviceLock:
    """The held lock of one device; release() (or the context manager) frees it."""

    def __init__(self, device: str, handle: IO[str]) -> None:
        self.device = device
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        """Free the device (idempotent)."""
        if self._handle is not None:
            try:
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            finally:
                self._handle.close()
                self._handle = None


def acquire(data_dir: Path, device: str, *, holder: str) -> DeviceLock:
    """Take *device*'s lock for *holder* (e.g. "run 12 by alice") without waiting.

    Raises:
        DeviceLockedError: another run holds it; the message names that run.
    """
    path = _file(lock_dir(data_dir), device)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        try:
            info = json.loads(handle.read() or "{}")
        except ValueError:
            info = {}
        handle.close()
        who = info.get("holder", "another run")
        raise DeviceLockedError(
            f"{device} is locked by {who} (pid {info.get('pid', '?')}); "
            "try again when that run has finished") from None
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"holder": holder, "pid": os.getpid(), "since": time.time()}))
    handle.flush()
    return DeviceLock(device, handle)


@contextmanager
def device_lock(data_dir: Path, device: str, *, holder: str) -> Iterator[DeviceLock]:
    """Hold *device*'s lock for the duration of the block."""
    lock = acquire(data_dir, device, holder=holder)
    try:
        yield lock
    finally:
        lock.release()
