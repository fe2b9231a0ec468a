"""The per-device lock: one holder at a time, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from playbooks import locks
from playbooks.base import DeviceLockedError


def test_second_holder_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    with locks.device_lock(tmp_path, "core1", holder="run 7 (backbone) by ana"):
        with pytest.raises(DeviceLockedError, match=r"core1 is locked by run 7 \(backbone\) by "
                                                    r"ana \(pid \d+\)"):
            locks.acquire(tmp_path, "core1", holder="run 8")
        locks.acquire(tmp_path, "core2", holder="run 8").release()  # other devices are free
    locks.acquire(tmp_path, "core1", holder="run 8").release()  # released: free again


def test_lock_excludes_another_process(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from playbooks import locks\n"
            "try:\n locks.acquire(Path(sys.argv[1]), 'edge', holder='child')\n"
            "except Exception as exc:\n print(exc); sys.exit(3)\n")
    lock = locks.acquire(tmp_path, "edge", holder="parent run")
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                              text=True, cwd=Path(__file__).resolve().parents[3])
        assert proc.returncode == 3 and "edge is locked by parent run" in proc.stdout
    finally:
        lock.release()
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_odd_device_names_stay_inside_the_lock_dir(tmp_path: Path) -> None:
    lock = locks.acquire(tmp_path, "../site/x y", holder="t")
    lock.release()
    lock.release()  # idempotent
    assert [p.name for p in locks.lock_dir(tmp_path).iterdir()] == [".._site_x_y.lock"]
