"""Settings: environment ``SIMPUL_*`` over a TOML file over defaults.

One frozen ``Settings`` value is passed around instead of reading the environment in
many places, so tests can build their own and nothing changes under a running service.
The TOML file is ``$SIMPUL_CONFIG`` when set, else ``simpul.toml`` in the data directory.
Keys are the field names; a ``[section]`` prefixes its keys (``[web] port`` = ``web_port``).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simpul.errors import ConfigError

ENV_PREFIX = "SIMPUL_"
SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "simpul"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of one simpul process."""

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    log_level: str = "INFO"
    log_json_file: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_threads: int = 8
    session_cookie_secure: bool = False
    default_locale: str = "id"
    timezone: str = "Asia/Jakarta"
    operator_opd_code: str = "DISKOMINFO"
    config_file: str = ""

    @property
    def database_backend(self) -> str:
        """Return ``sqlite`` or ``postgresql``."""
        return urlsplit(self.database_url).scheme.split("+", 1)[0]


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind_name == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind_name == "int":
            return int(raw)
        if kind_name == "Path":
            return Path(str(raw)).expanduser()
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}: {raw!r} is not a valid {kind_name}") from None
    return str(raw)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}".lower()
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return _flatten(tomllib.load(fh))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"config file {path} is not readable") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def validate_database_url(url: str) -> str:
    """Return *url* if simpul can use it, else raise ConfigError naming the problem."""
    scheme = urlsplit(url).scheme
    if not scheme:
        raise ConfigError(f"database URL {url!r} has no scheme (expected sqlite:/// or postgresql://)")
    if scheme not in SUPPORTED_SCHEMES:
        raise ConfigError(
            f"database URL scheme {scheme!r} is not supported "
            f"(use one of: {', '.join(SUPPORTED_SCHEMES)})"
        )
    return url


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, then the TOML file, then the environment, then *overrides*.

    Raises:
        ConfigError: an unknown key, a bad value, an unreadable file or an unusable URL.
    """
    env = dict(os.environ if env is None else env)
    kinds = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}

    from_env = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :].lower() in kinds
    }
    explicit_dir = overrides.get("data_dir") or from_env.get("data_dir")
    data_dir = Path(explicit_dir or _default_data_dir()).expanduser()
    config_path = env.get(f"{ENV_PREFIX}CONFIG")
    candidate = Path(config_path).expanduser() if config_path else data_dir / "simpul.toml"
    try:
        has_file = bool(config_path) or candidate.is_file()
    except PermissionError:
        raise ConfigError(
            f"data directory {data_dir} is not accessible (check its permissions)"
        ) from None
    if has_file:
        file_values = _read_toml(candidate)
        unknown = sorted(set(file_values) - set(kinds))
        if unknown:
            raise ConfigError(f"config file {candidate}: unknown setting(s) {', '.join(unknown)}")
        values.update(file_values)
        values["config_file"] = str(candidate)
    values.update(from_env)
    values.update({k: v for k, v in overrides.items() if v is not None})

    coerced = {name: _coerce(name, raw, kinds[name]) for name, raw in values.items()}
    settings = Settings(**coerced)
    if not settings.database_url:
        settings = replace(settings, database_url=f"sqlite:///{settings.data_dir / 'simpul.db'}")
    validate_database_url(settings.database_url)
    validate_timezone(settings.timezone)
    return settings


def validate_timezone(name: str) -> ZoneInfo:
    """Return the zone for *name* (e.g. Asia/Jakarta, Asia/Makassar) or raise ConfigError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone {name!r} is unknown (e.g. Asia/Jakarta, Asia/Makassar, "
                          "Asia/Jayapura)") from None


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data directory if needed and prove it is writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except PermissionError:
        raise ConfigError(
            f"data directory {path} is not writable (check its permissions)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"data directory {path} cannot be used: {exc.strerror}") from None
    return path


def resolve_secret_key(settings: Settings) -> str:
    """Return the web secret key: from the environment, or generated once into the data dir.

    A generated key lives in ``<data_dir>/secret_key`` (mode 0600) so sessions survive a
    restart without the key ever entering the repository or the database.
    """
    if settings.secret_key:
        return settings.secret_key
    path = ensure_data_dir(settings) / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
