"""Settings, the CSV report text and the FreeRADIUS templates (no secret ever written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nac import raddb_templates
from nac.csvimport import ImportReport, RowError, import_devices
from nac.errors import NacValidationError
from nac.settings import api_secret, load_nac_settings, radius_secret
from simpul.audit import Actor
from simpul.errors import ConfigError
from simpul.settings import load_settings


def test_settings_defaults_and_environment(tmp_path: Path) -> None:
    core = load_settings(env={}, data_dir=str(tmp_path), web_port=8090)
    nac = load_nac_settings(core, env={})
    assert (nac.host, nac.auth_port, nac.acct_port) == ("127.0.0.1", 1812, 1813)
    assert nac.api_url == "http://127.0.0.1:8090" and nac.enabled
    assert nac.raddb == tmp_path / "nac" / "raddb"
    nac = load_nac_settings(core, env={"SIMPUL_RADIUS_AUTH_PORT": "11812",
                                       "SIMPUL_RADIUS_ENABLED": "off",
                                       "SIMPUL_RADIUS_API_TIMEOUT": "0.8"})
    assert (nac.auth_port, nac.enabled, nac.api_timeout) == (11812, False, 0.8)
    with pytest.raises(ConfigError, match="SIMPUL_RADIUS_ACCT_PORT"):
        load_nac_settings(core, env={"SIMPUL_RADIUS_ACCT_PORT": "many"})


def test_secrets_come_from_env_or_a_private_file(tmp_path: Path) -> None:
    assert radius_secret(tmp_path, {"SIMPUL_RADIUS_SECRET": "s3cret-from-env"}) == \
        "s3cret-from-env"
    generated = api_secret(tmp_path, {})
    assert len(generated) >= 32 and api_secret(tmp_path, {}) == generated
    assert (tmp_path / "nac" / "api_secret").stat().st_mode & 0o077 == 0


def test_templates_reference_secrets_only_through_the_environment() -> None:
    text = "".join(v for k, v in vars(raddb_templates).items()
                   if k.isupper() and isinstance(v, str))
    assert "$ENV{SIMPUL_NAC_API_SECRET}" in text and "$ENV{@SECRET_ENV@}" in text
    assert "secret = " not in text.replace("secret = $ENV{", "")


def test_import_report_lines_say_whether_anything_was_kept() -> None:
    strict = ImportReport(True, ["02:00:5e:00:53:01"], [RowError(3, "zz", "not a MAC")])
    assert not strict.kept
    assert strict.lines() == ["line 3: zz: not a MAC", "nothing imported: 1 row(s) refused "
                              "(all-or-nothing; fix them, or use --partial to keep the "
                              "valid rows)"]
    partial = ImportReport(False, ["02:00:5e:00:53:01"], [RowError(3, "", "no MAC")])
    assert partial.kept
    assert partial.lines()[-1] == "1 device(s) registered, 1 row(s) refused"


@pytest.mark.parametrize(("text", "message"), [
    ("owner,opd\nx,DINKES\n", "'mac' column"),
    ("mac,colour\n02:00:5e:00:53:01,red\n", "unknown CSV column"),
    ("", "'mac' column"),
])
def test_unusable_csv_files_are_refused_before_any_row(text: str, message: str) -> None:
    with pytest.raises(NacValidationError, match=message):
        import_devices(None, Actor.system("test"), text)  # type: ignore[arg-type]
