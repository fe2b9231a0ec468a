"""Settings precedence and validation: environment over TOML file over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from simpul.errors import ConfigError
from simpul.settings import load_settings


def test_defaults_put_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'simpul.db'}"
    assert settings.web_port == 8080
    assert settings.default_locale == "id"
    assert settings.database_backend == "sqlite"


def test_env_overrides_toml_which_overrides_defaults(tmp_path: Path) -> None:
    toml = tmp_path / "simpul.toml"
    toml.write_text('log_level = "DEBUG"\n[web]\nport = 9000\nhost = "0.0.0.0"\n')
    env = {"SIMPUL_CONFIG": str(toml), "SIMPUL_DATA_DIR": str(tmp_path),
           "SIMPUL_WEB_PORT": "9100"}
    settings = load_settings(env=env)
    assert settings.web_port == 9100  # environment wins
    assert settings.web_host == "0.0.0.0"  # from the file's [web] section
    assert settings.log_level == "DEBUG"
    assert settings.config_file == str(toml)


def test_toml_in_data_dir_is_read_without_simpul_config(tmp_path: Path) -> None:
    (tmp_path / "simpul.toml").write_text("web_port = 8181\n")
    assert load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path)}).web_port == 8181


def test_database_url_from_environment(tmp_path: Path) -> None:
    url = "postgresql://simpul@db.example/simpul"
    settings = load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path), "SIMPUL_DATABASE_URL": url})
    assert settings.database_url == url
    assert settings.database_backend == "postgresql"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SIMPUL_DATABASE_URL": "mysql://x/y"}, "scheme 'mysql' is not supported"),
        ({"SIMPUL_DATABASE_URL": "not a url"}, "has no scheme"),
        ({"SIMPUL_WEB_PORT": "eighty"}, "web_port: 'eighty' is not a valid int"),
        ({"SIMPUL_SESSION_COOKIE_SECURE": "maybe"}, "is not a valid bool"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path), **env})


def test_unknown_key_and_broken_file_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("datbase_url = 'sqlite://'\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*datbase_url"):
        load_settings(env={"SIMPUL_CONFIG": str(bad)})
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={"SIMPUL_CONFIG": str(bad)})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"SIMPUL_CONFIG": str(tmp_path / "missing.toml")})


def test_secret_key_is_not_in_repr(tmp_path: Path) -> None:
    settings = load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path),
                                  "SIMPUL_SECRET_KEY": "super-secret-value"})
    assert settings.secret_key == "super-secret-value"
    assert "super-secret-value" not in repr(settings)


def test_timezone_defaults_to_wib_and_is_validated(tmp_path: Path) -> None:
    assert load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path)}).timezone == "Asia/Jakarta"
    wita = load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path), "SIMPUL_TIMEZONE": "Asia/Makassar"})
    assert wita.timezone == "Asia/Makassar"
    with pytest.raises(ConfigError, match="timezone 'Mars/Olympus' is unknown"):
        load_settings(env={"SIMPUL_DATA_DIR": str(tmp_path), "SIMPUL_TIMEZONE": "Mars/Olympus"})
