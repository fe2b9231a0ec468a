"""The `simpul` command as a user runs it: one-line errors, non-zero exits, no tracebacks."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SIMPUL = str(Path(sys.executable).parent / "simpul")


def run(args: list[str], env: dict[str, str], stdin: str | None = None,
        drop_dac: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [SIMPUL, *args]
    if drop_dac:
        # root bypasses file permissions through CAP_DAC_OVERRIDE; without it (still uid 0,
        # so the checkout stays readable) permissions apply as for any operator account.
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    full_env.update(env)
    return subprocess.run(cmd, env=full_env, input=stdin, capture_output=True, text=True,
                          timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SIMPUL_DATA_DIR": str(tmp_path / "data"), "SIMPUL_DATABASE_URL": db_url}


def test_help_and_version() -> None:
    result = run(["--help"], {})
    assert result.returncode == 0
    for command in ("db", "user", "token", "up", "version"):
        assert command in result.stdout
    version = run(["version"], {})
    assert version.returncode == 0 and version.stdout.startswith("simpul ")


def test_upgrade_users_tokens_and_audit(env: dict[str, str]) -> None:
    assert "at revision" in run(["db", "upgrade"], env).stdout
    assert run(["db", "check"], env).stdout.strip() == "no schema drift"
    assert run(["opd", "add", "DISKOMINFO", "Dinas Kominfo", "--operator"], env).returncode == 0
    assert run(["opd", "add", "DINKES", "Dinas Kesehatan"], env).returncode == 0
    added = run(["user", "add", "sari", "--role", "infrastructure", "--password-stdin"], env,
                stdin="infra-password-123\n")
    assert added.returncode == 0, added.stderr
    assert "sari (infrastructure, DISKOMINFO)" in added.stdout
    key = run(["token", "create", "sari"], env).stdout.strip()
    assert len(key) == 40
    listed = run(["token", "list", "--json"], env).stdout
    assert key[:8] in listed and key not in listed
    audit = run(["audit-log", "--json"], env).stdout
    assert "user.create" in audit and "token.create" in audit
    assert "infra-password-123" not in audit and key not in audit

    assert_one_line_error(run(["user", "add", "x1", "--role", "wizard"], env),
                          "unknown role 'wizard'")
    assert_one_line_error(run(["user", "add", "x2", "--role", "noc", "--opd", "DINKES"], env),
                          "can only be requesters")
    assert_one_line_error(run(["user", "add", "sari", "--role", "noc"], env), "already exists")
    assert_one_line_error(run(["token", "create", "ghost"], env), "unknown user 'ghost'")


def test_unknown_url_scheme(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], {"SIMPUL_DATA_DIR": str(tmp_path),
                                     "SIMPUL_DATABASE_URL": "mysql://root@localhost/simpul"})
    assert_one_line_error(result, "scheme 'mysql' is not supported")


def test_unreachable_database(tmp_path: Path) -> None:
    from tests.pgcluster import free_port

    url = f"postgresql://simpul:topsecretpw@127.0.0.1:{free_port()}/simpul"
    result = run(["db", "upgrade"], {"SIMPUL_DATA_DIR": str(tmp_path),
                                     "SIMPUL_DATABASE_URL": url})
    assert_one_line_error(result, "cannot connect to database")
    assert "topsecretpw" not in result.stderr


def test_unwritable_data_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)  # r-x: may not create the data dir inside
    env = {"SIMPUL_DATA_DIR": str(locked / "simpul")}
    is_root = os.geteuid() == 0
    if is_root and shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE for this test")
    result = run(["db", "upgrade"], env, drop_dac=is_root)
    assert_one_line_error(result, "check its permissions")
    assert "data directory" in result.stderr


def test_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "simpul.toml"
    config.write_text("[web]\nport = 'x'\n")
    result = run(["db", "upgrade"], {"SIMPUL_CONFIG": str(config),
                                     "SIMPUL_DATA_DIR": str(tmp_path)})
    assert_one_line_error(result, "web_port: 'x' is not a valid int")
