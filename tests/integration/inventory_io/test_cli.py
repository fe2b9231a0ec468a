"""`simpul inventory` and `simpul ipam` as an operator runs them (subprocess, both DBs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.inventory_io.conftest import CLAB, REPO

SIMPUL = str(Path(sys.executable).parent / "simpul")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the console script on this checkout's code (PYTHONPATH beats the editable .pth)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    full.update(env, PYTHONPATH=str(REPO))
    return subprocess.run([SIMPUL, "--log-level", "WARNING", *args], env=full,
                          capture_output=True, text=True, timeout=180)


def ok(args: list[str], env: dict[str, str]) -> str:
    result = run(args, env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SIMPUL_DATA_DIR": str(tmp_path / "data"), "SIMPUL_DATABASE_URL": db_url}


def test_import_and_ipam_commands(env: dict[str, str], sample: Path, tmp_path: Path) -> None:
    dry = ok(["inventory", "import", str(sample), "--dry-run"], env)
    assert "dry run: nothing written" in dry
    first = ok(["inventory", "import", str(sample)], env)
    assert "device: 3 created" in first
    again = ok(["inventory", "import", str(sample)], env)
    assert again.splitlines()[-1].startswith(f"{sample}: unchanged (")
    report = json.loads(ok(["inventory", "import", str(sample), "--json"], env))
    assert report["changed"] is False

    assert ok(["ipam", "next-ip", "198.51.100.0/24", "--count", "2"], env).split() == [
        "198.51.100.2/24", "198.51.100.3/24"]
    held = ok(["ipam", "next-ip", "198.51.100.0/24", "--reserve", "--description", "rapat",
               "--expires", "2d"], env)
    assert held.startswith("reserved 198.51.100.2/24 until ")
    assert ok(["ipam", "next-ip", "198.51.100.0/24"], env).strip() == "198.51.100.3/24"
    usage = json.loads(ok(["ipam", "utilisation", "198.51.100.0/24", "--json"], env))
    assert usage["used"] == 3 and usage["total"] == 254
    assert ok(["ipam", "release", "198.51.100.2"], env).strip() == "released 198.51.100.2/24"
    assert ok(["ipam", "next-prefix", "192.0.2.0/24", "--length", "28"], env).strip() == \
        "192.0.2.64/28"
    assert ok(["ipam", "next-prefix", "192.0.2.0/24", "--length", "28", "--reserve"],
              env).strip() == "reserved 192.0.2.64/28"
    assert ok(["ipam", "next-ip", "203.0.113.64/26", "--vrf", "opd"], env).strip() == \
        "203.0.113.65/26"
    space = ok(["inventory", "rack-space", "--u", "4", "--site", "dc-diskominfo", "--power",
                "500"], env)
    assert space.startswith("dc-diskominfo/R01: U3 ")

    out = tmp_path / "inv.yml"
    assert ok(["inventory", "export", "--ansible", "--output", str(out)], env).startswith("wrote")
    assert yaml.safe_load(out.read_text())["all"]["hosts"]["core1"]["ansible_host"] == \
        "192.0.2.11"
    own = yaml.safe_load(ok(["inventory", "export", "--yaml"], env))
    assert [d["name"] for d in own["devices"]] == ["acc-b", "core1", "srv1"]
    v6 = json.loads(ok(["ipam", "ipv6-report", "--block", "2001:db8::/32", "--json"], env))
    assert v6["stages"]["dual-stack"] == 1


def test_one_line_errors(env: dict[str, str], sample: Path, tmp_path: Path) -> None:
    ok(["inventory", "import", str(sample)], env)
    one_line_error(run(["ipam", "next-ip", "10.9.0.0/24"], env),
                   "prefix 10.9.0.0/24 does not exist in VRF global")
    one_line_error(run(["ipam", "next-ip", "not-a-prefix"], env), "is not a prefix")
    one_line_error(run(["ipam", "next-ip", "203.0.113.0/31", "--count", "3"], env),
                   "203.0.113.0/31 has no free address")
    one_line_error(run(["ipam", "next-ip", "192.0.2.0/24"], env), "is a container")
    one_line_error(run(["ipam", "next-ip", "198.51.100.0/24", "--reserve", "--expires",
                        "soon"], env), "neither a time")
    one_line_error(run(["ipam", "release", "198.51.100.99"], env), "does not exist")
    one_line_error(run(["inventory", "export"], env), "--ansible or --yaml")
    bad = tmp_path / "bad.yml"
    bad.write_text("sites:\n- slug: x\n  opd: NOPE\n")
    one_line_error(run(["inventory", "import", str(bad)], env),
                   "bad.yml:2: site x: opd: unknown OPD 'NOPE'")
    one_line_error(run(["inventory", "import", str(tmp_path / "missing.yml")], env),
                   "cannot read")


def test_lab_in_one_command(env: dict[str, str]) -> None:
    out = ok(["inventory", "import", str(CLAB)], env)
    assert "device: 29 created" in out and "cable: 37 created" in out
    assert "unchanged" in ok(["inventory", "import", str(CLAB)], env).splitlines()[-1]
    assert ok(["ipam", "next-ip", "10.1.10.0/24"], env).strip() == "10.1.10.2/24"
