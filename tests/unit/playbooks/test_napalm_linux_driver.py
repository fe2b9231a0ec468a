"""The Linux driver's commit / rollback against a real local shell (no SSH).

The driver's device I/O goes through ``Shell.run``; here a ``LocalShell`` runs the very
same commands with ``sh`` in a temporary directory, so file handling, manifest and
rollback are exercised for real without a lab.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from napalm.base.exceptions import CommitError, MergeConfigException

from playbooks.napalm_linux import LinuxDriver
from playbooks.napalm_linux.transport import Result, ShellError


class LocalShell:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.commands: list[str] = []
        self.alive = True

    def run(self, command: str, stdin: bytes | None = None, check: bool = True,
            timeout: float | None = None) -> Result:
        self.commands.append(command)
        proc = subprocess.run(["sh", "-c", command], input=stdin or b"", cwd=self.home,
                              capture_output=True, timeout=30)
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise ShellError(command, proc.returncode, result.text)
        return result

    def close(self) -> None:
        self.alive = False


@pytest.fixture
def device(tmp_path: Path) -> tuple[LinuxDriver, Path]:
    home, etc = tmp_path / "home", tmp_path / "etc"
    home.mkdir()
    etc.mkdir()
    driver = LinuxDriver("local", "tester", "", optional_args={"sudo": "no"})
    driver.shell = LocalShell(home)  # type: ignore[assignment]
    return driver, etc


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o7777)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_commit_writes_runs_and_rollback_restores_byte_identical(
        device: tuple[LinuxDriver, Path]) -> None:
    driver, etc = device
    (etc / "keep.conf").write_bytes(b"old \xff\xfe bytes\nno newline at end")
    (etc / "keep.conf").chmod(0o600)
    (etc / "gone.conf").write_text("remove me\n")
    before = _tree(etc)
    log = etc / "runs.log"
    driver.load_merge_candidate(config=(
        f"### file {etc}/keep.conf mode=0640\nnew\n"
        f"### file {etc}/sub/new.conf\nfresh\n"
        f"### absent {etc}/gone.conf\n"
        f"### run sh -c 'echo run >> {log}'\n"))
    diff = driver.compare_config()
    assert f"+++ b{etc}/sub/new.conf" in diff and "+++ /dev/null" in diff
    assert "\\ No newline at end of file" in diff
    driver.commit_config()
    assert (etc / "keep.conf").read_text() == "new\n"
    assert (etc / "keep.conf").stat().st_mode & 0o777 == 0o640
    assert (etc / "sub" / "new.conf").read_text() == "fresh\n"
    assert not (etc / "gone.conf").exists()
    assert log.read_text() == "run\n"

    # Same candidate again: nothing to do, no diff.
    driver.load_merge_candidate(config=(
        f"### file {etc}/keep.conf mode=0640\nnew\n### file {etc}/sub/new.conf\nfresh\n"
        f"### absent {etc}/gone.conf\n### run sh -c 'echo run >> {log}'\n"))
    assert driver.compare_config() == ""
    driver.discard_config()

    driver.rollback()
    log.unlink()  # the replayed run line wrote it again
    assert _tree(etc) == before


def test_failing_run_line_rolls_back_and_raises(device: tuple[LinuxDriver, Path]) -> None:
    driver, etc = device
    (etc / "a.conf").write_text("good\n")
    before = _tree(etc)
    # The "reload" refuses the new content; with the old content restored it succeeds.
    driver.load_merge_candidate(config=f"### file {etc}/a.conf\nbad\n### file {etc}/b.conf\n"
                                       f"b\n### run sh -c '! grep -q bad {etc}/a.conf'\n")
    with pytest.raises(CommitError, match="rolled back"):
        driver.commit_config()
    assert _tree(etc) == before


def test_failing_reload_that_keeps_failing_still_restores_the_files(
        device: tuple[LinuxDriver, Path]) -> None:
    driver, etc = device
    (etc / "a.conf").write_text("good\n")
    before = _tree(etc)
    driver.load_merge_candidate(config=f"### file {etc}/a.conf\nbad\n### run false\n")
    with pytest.raises(CommitError, match="rollback failed too"):
        driver.commit_config()
    assert _tree(etc) == before


def test_replace_removes_files_simpul_wrote_before(device: tuple[LinuxDriver, Path]) -> None:
    driver, etc = device
    (etc / "foreign.conf").write_text("not ours\n")
    driver.load_merge_candidate(config=f"### file {etc}/one.conf\n1\n### file {etc}/two.conf\n2\n")
    driver.commit_config()
    driver.load_replace_candidate(config=f"### file {etc}/one.conf\n1\n")
    assert driver.compare_config() == f"--- a{etc}/two.conf\n+++ /dev/null\n@@ -1 +0,0 @@\n-2\n"
    driver.commit_config()
    assert sorted(os.listdir(etc)) == ["foreign.conf", "one.conf"]
    running = driver.get_config()["running"]
    assert running == f"### file {etc}/one.conf mode=0644\n1\n"
    driver.rollback()
    assert sorted(os.listdir(etc)) == ["foreign.conf", "one.conf", "two.conf"]


def test_bad_candidate_is_a_merge_error(device: tuple[LinuxDriver, Path]) -> None:
    driver, _etc = device
    with pytest.raises(MergeConfigException, match="text outside a section"):
        driver.load_merge_candidate(config="oops\n")


def test_sudo_prefix_for_non_root_logins() -> None:
    assert LinuxDriver("h", "simpul", "x", optional_args={}).sudo is True
    assert LinuxDriver("h", "root", "x", optional_args={}).sudo is False
    assert LinuxDriver("h", "simpul", "x", optional_args={"sudo": "no"}).sudo is False
    assert LinuxDriver("h", "u", "x", optional_args={"port": 22, "shell_port": 2222}).port == 2222
