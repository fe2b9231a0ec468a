"""``simpul backup`` and ``simpul diff`` against the lab's real FRR routers (through the CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lab.labhelpers import REPO, Lab, in_ns

pytestmark = pytest.mark.lab
LAB_INVENTORY = REPO / "inventory" / "lab" / "province.yml"
TEST_LINE = "ip prefix-list SIMPUL-BACKUP-TEST seq 5 permit 192.0.2.0/24"


def simpul(env: dict[str, str], *args: str, check: bool = True
           ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "simpul.cli", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"simpul {' '.join(args)}: {proc.returncode}\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def lab_env(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A simpul data dir holding the lab inventory, and the lab's device credentials."""
    data = tmp_path_factory.mktemp("backup-data")
    env = {**os.environ, "PYTHONPATH": str(REPO), "SIMPUL_DATA_DIR": str(data),
           "SIMPUL_DATABASE_URL": f"sqlite:///{data / 'simpul.db'}",
           "SIMPUL_DEVICE_USERNAME": "simpul", "SIMPUL_DEVICE_PASSWORD": "simpul-lab"}
    simpul(env, "db", "upgrade")
    simpul(env, "inventory", "import", str(LAB_INVENTORY))
    yield env


def test_backup_commits_changes_only(lab_env: dict[str, str], lab: Lab) -> None:
    first = json.loads(simpul(lab_env, "backup", "--json").stdout)
    routers = sorted(lab.routers)
    assert sorted(first["added"]) == routers and first["failed"] == {}
    assert first["commit"] and "web" in first["skipped"]
    repo = Path(lab_env["SIMPUL_DATA_DIR"]) / "backups"
    core1 = (repo / "core1.cfg").read_text()
    assert core1.startswith("!\nfrr version") and "hostname core1\n" in core1
    assert "Building configuration" not in core1 and "Current configuration" not in core1

    # A second backup of an unchanged network makes no commit (no false diffs).
    second = json.loads(simpul(lab_env, "backup", "--json").stdout)
    assert second["commit"] is None and sorted(second["unchanged"]) == routers

    # A real change on one router: one commit naming it, and `simpul diff` shows it.
    vtysh = ("vtysh", "-N", "core1", "-c", "configure terminal")
    in_ns("core1", *vtysh, "-c", TEST_LINE)
    try:
        third = simpul(lab_env, "backup")
        assert "1 changed, 0 added, 0 failed" in third.stdout
        assert "changed: core1" in third.stdout
        diff = simpul(lab_env, "diff", "core1").stdout
        body = [ln for ln in diff.splitlines()[4:] if ln[:1] in "+-"]
        assert body == [f"+{TEST_LINE}", "+!"]
        since_first = simpul(lab_env, "diff", "core1", first["commit"]).stdout
        assert f"+{TEST_LINE}" in since_first
        log = simpul(lab_env, "diff", "core1", "--log").stdout.splitlines()
        assert len(log) == 2 and "1 changed" in log[0]
    finally:
        in_ns("core1", *vtysh, "-c", f"no {TEST_LINE}")
    bad = simpul(lab_env, "diff", "nosuch", check=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "error: no backup of device 'nosuch'"
