"""NAC settings: ``SIMPUL_RADIUS_*`` and ``SIMPUL_NAC_*`` environment variables over defaults.

The core ``Settings`` stays free of domain fields (as the SIEM does). Secrets are never
settings values written anywhere by simpul: the RADIUS client secret and the policy-API
secret come from the environment, or — when unset — from a random value generated once
into the data directory (mode 0600), so ``simpul up`` works out of the box without a
secret ever entering the repository, the generated configuration or the database.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from simpul.errors import ConfigError
from simpul.settings import Settings

RADIUS_SECRET_ENV = "SIMPUL_RADIUS_SECRET"
API_SECRET_ENV = "SIMPUL_NAC_API_SECRET"
_OFF = ("0", "off", "no", "false", "disabled")


@dataclass(frozen=True)
class NacSettings:
    """Where FreeRADIUS listens, where it finds simpul, and how long it waits for it."""

    data_dir: Path
    enabled: bool = True
    binary: str = "/usr/sbin/freeradius"
    host: str = "127.0.0.1"
    auth_port: int = 1812
    acct_port: int = 1813
    config_dir: Path | None = None
    api_url: str = "http://127.0.0.1:8080"
    connect_timeout: float = 0.5
    api_timeout: float = 1.5
    reject_delay: int = 1
    cache_interval: int = 60
    policy_ttl: float = 5.0
    # The dedicated policy process (nac.policyserver) FreeRADIUS calls instead of the web
    # app; off, or with SIMPUL_RADIUS_API_URL set, rlm_rest calls ``api_url`` as given.
    policy_server: bool = True
    policy_port: int = 0  # 0: any free loopback port, chosen at start
    api_url_explicit: bool = False

    @property
    def nac_dir(self) -> Path:
        """Directory of everything FreeRADIUS-related simpul keeps (config, certs, logs)."""
        return self.data_dir / "nac"

    @property
    def raddb(self) -> Path:
        """The generated FreeRADIUS configuration directory."""
        return self.config_dir or self.nac_dir / "raddb"


def _number(env: dict[str, str], name: str, default: float, kind: type) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"setting {name}: {raw!r} is not a valid {kind.__name__}") from None
    if value < 0:
        raise ConfigError(f"setting {name}: {value} must not be negative")
    return value


def load_nac_settings(settings: Settings, env: dict[str, str] | None = None) -> NacSettings:
    """Build the NAC settings from the core settings and ``SIMPUL_RADIUS_*`` variables."""
    env = dict(os.environ if env is None else env)
    web_host = settings.web_host if settings.web_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    config_dir = env.get("SIMPUL_RADIUS_CONFIG_DIR", "").strip()
    return NacSettings(
        data_dir=settings.data_dir,
        enabled=env.get("SIMPUL_RADIUS_ENABLED", "yes").strip().lower() not in _OFF,
        binary=env.get("SIMPUL_RADIUS_BINARY", "").strip() or "/usr/sbin/freeradius",
        host=env.get("SIMPUL_RADIUS_HOST", "").strip() or "127.0.0.1",
        auth_port=int(_number(env, "SIMPUL_RADIUS_AUTH_PORT", 1812, int)),
        acct_port=int(_number(env, "SIMPUL_RADIUS_ACCT_PORT", 1813, int)),
        config_dir=Path(config_dir).expanduser() if config_dir else None,
        api_url=(env.get("SIMPUL_RADIUS_API_URL", "").strip()
                 or f"http://{web_host}:{settings.web_port}").rstrip("/"),
        connect_timeout=_number(env, "SIMPUL_RADIUS_CONNECT_TIMEOUT", 0.5, float),
        api_timeout=_number(env, "SIMPUL_RADIUS_API_TIMEOUT", 1.5, float),
        reject_delay=int(_number(env, "SIMPUL_RADIUS_REJECT_DELAY", 1, int)),
        cache_interval=int(_number(env, "SIMPUL_NAC_CACHE_INTERVAL", 60, int)),
        policy_ttl=_number(env, "SIMPUL_NAC_POLICY_TTL", 5.0, float),
        policy_server=env.get("SIMPUL_NAC_POLICY_SERVER", "yes").strip().lower() not in _OFF,
        policy_port=int(_number(env, "SIMPUL_NAC_POLICY_PORT", 0, int)),
        api_url_explicit=bool(env.get("SIMPUL_RADIUS_API_URL", "").strip()),
    )


def _stored_secret(data_dir: Path, name: str) -> str:
    """Return a random secret kept in ``<data_dir>/nac/<name>`` (0600), creating it once."""
    path = data_dir / "nac" / name
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its value
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def api_secret(data_dir: Path, env: dict[str, str] | None = None) -> str:
    """The shared secret FreeRADIUS presents to the policy API (env, else data dir)."""
    env = os.environ if env is None else env
    return env.get(API_SECRET_ENV, "").strip() or _stored_secret(data_dir, "api_secret")


def radius_secret(data_dir: Path, env: dict[str, str] | None = None) -> str:
    """The RADIUS secret of the loopback client (env, else data dir)."""
    env = os.environ if env is None else env
    return env.get(RADIUS_SECRET_ENV, "").strip() or _stored_secret(data_dir, "radius_secret")
