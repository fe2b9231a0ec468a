"""SNMP poller settings: ``SIMPUL_SNMP_*`` (and ``SIMPUL_REDIS_URL``, ``SIMPUL_METRICS_*``).

Like ``siem/settings.py``: the core Settings stays free of domain fields; one frozen
value per process, read from the environment over defaults. Credentials come only from
the environment and are registered with the log filter so they never reach a log line.
Every variable is listed in ``collectors/snmp/README.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from simpul.errors import ConfigError
from simpul.logging import register_secret

AUTH_PROTOCOLS = ("SHA", "SHA256", "SHA512", "MD5")
PRIV_PROTOCOLS = ("AES", "AES256", "DES")


@dataclass(frozen=True)
class SnmpCredentials:
    """How to talk to an agent: v2c community or a v3 authPriv user."""

    version: str = "2c"
    community: str = field(default="public", repr=False)
    v3_user: str = ""
    v3_auth_protocol: str = "SHA"
    v3_auth_key: str = field(default="", repr=False)
    v3_priv_protocol: str = "AES"
    v3_priv_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class SnmpSettings:
    """Runtime configuration of the poller, the writer, retention and scale-out."""

    credentials: SnmpCredentials = field(default_factory=SnmpCredentials)
    port: int = 161
    interval_s: float = 60.0
    timeout_s: float = 2.0
    retries: int = 1
    concurrency: int = 16
    max_repetitions: int = 25
    lldp_every: int = 5
    # Re-read interface names/aliases/types/speeds every N polls of a device (and on
    # restart or when interfaces come and go; see statics.py); 1 = every poll.
    static_every: int = 10
    host_resources: bool = True
    raw_retention_h: float = 6.0
    rollup_5m_retention_d: float = 2.0
    rollup_1h_retention_d: float = 35.0
    max_rate_bps: float = 4e11
    enabled: bool = True
    mode: str = "local"
    shares: int = 2
    redis_url: str = "redis://127.0.0.1:6379/0"
    metrics_token: str = field(default="", repr=False)
    metrics_allow: tuple[str, ...] = ()
    # End hosts run no agent: polling them only fills the wall with false "down"s.
    skip_roles: tuple[str, ...] = ("host",)


def _get(env: dict[str, str], name: str, default: str) -> str:
    raw = env.get(f"SIMPUL_{name}")
    return default if raw is None or raw.strip() == "" else raw.strip()


def _num(env: dict[str, str], name: str, default: float, kind: type = float,
         minimum: float = 0.0) -> float:
    raw = _get(env, name, "")
    if raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"setting SIMPUL_{name}: {raw!r} is not a valid "
                          f"{kind.__name__}") from None
    if value < minimum:
        raise ConfigError(f"setting SIMPUL_{name}: {value} is below the minimum {minimum}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name, "").lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"setting SIMPUL_{name}: {raw!r} is not a boolean")


def load_snmp_settings(env: dict[str, str] | None = None) -> SnmpSettings:
    """Read ``SIMPUL_SNMP_*`` from *env* (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    version = _get(env, "SNMP_VERSION", "2c").lower().removeprefix("v")
    if version not in ("2c", "3"):
        raise ConfigError(f"setting SIMPUL_SNMP_VERSION: {version!r} must be 2c or 3")
    auth_proto = _get(env, "SNMP_V3_AUTH_PROTOCOL", "SHA").upper()
    priv_proto = _get(env, "SNMP_V3_PRIV_PROTOCOL", "AES").upper()
    if auth_proto not in AUTH_PROTOCOLS:
        raise ConfigError(f"setting SIMPUL_SNMP_V3_AUTH_PROTOCOL: {auth_proto!r} is not one of "
                          f"{', '.join(AUTH_PROTOCOLS)}")
    if priv_proto not in PRIV_PROTOCOLS:
        raise ConfigError(f"setting SIMPUL_SNMP_V3_PRIV_PROTOCOL: {priv_proto!r} is not one of "
                          f"{', '.join(PRIV_PROTOCOLS)}")
    creds = SnmpCredentials(
        version=version, community=_get(env, "SNMP_COMMUNITY", "public"),
        v3_user=_get(env, "SNMP_V3_USER", ""), v3_auth_protocol=auth_proto,
        v3_auth_key=_get(env, "SNMP_V3_AUTH_KEY", ""), v3_priv_protocol=priv_proto,
        v3_priv_key=_get(env, "SNMP_V3_PRIV_KEY", ""))
    if version == "3" and not (creds.v3_user and creds.v3_auth_key and creds.v3_priv_key):
        raise ConfigError("SNMPv3 needs SIMPUL_SNMP_V3_USER, SIMPUL_SNMP_V3_AUTH_KEY and "
                          "SIMPUL_SNMP_V3_PRIV_KEY (authPriv)")
    for secret in (creds.community, creds.v3_auth_key, creds.v3_priv_key):
        if secret and secret != "public":
            register_secret(secret)
    mode = _get(env, "SNMP_MODE", "local").lower()
    if mode not in ("local", "celery"):
        raise ConfigError(f"setting SIMPUL_SNMP_MODE: {mode!r} must be local or celery")
    token = _get(env, "METRICS_TOKEN", "")
    if token:
        register_secret(token)
    allow = tuple(a.strip() for a in _get(env, "METRICS_ALLOW", "").split(",") if a.strip())
    skip = tuple(r.strip() for r in _get(env, "SNMP_SKIP_ROLES", "host").split(",")
                 if r.strip() and r.strip() != "none")
    return SnmpSettings(
        credentials=creds,
        port=int(_num(env, "SNMP_PORT", 161, int, 1)),
        interval_s=_num(env, "SNMP_INTERVAL", 60.0, float, 1.0),
        timeout_s=_num(env, "SNMP_TIMEOUT", 2.0, float, 0.1),
        retries=int(_num(env, "SNMP_RETRIES", 1, int, 0)),
        concurrency=int(_num(env, "SNMP_CONCURRENCY", 16, int, 1)),
        max_repetitions=int(_num(env, "SNMP_MAX_REPETITIONS", 25, int, 1)),
        lldp_every=int(_num(env, "SNMP_LLDP_EVERY", 5, int, 1)),
        static_every=int(_num(env, "SNMP_STATIC_EVERY", 10, int, 1)),
        host_resources=_bool(env, "SNMP_HOST_RESOURCES", True),
        raw_retention_h=_num(env, "SNMP_RAW_RETENTION_HOURS", 6.0, float, 0.1),
        rollup_5m_retention_d=_num(env, "SNMP_5M_RETENTION_DAYS", 2.0, float, 0.1),
        rollup_1h_retention_d=_num(env, "SNMP_1H_RETENTION_DAYS", 35.0, float, 0.1),
        max_rate_bps=_num(env, "SNMP_MAX_RATE_BPS", 4e11, float, 1.0),
        enabled=_bool(env, "SNMP_ENABLED", True),
        mode=mode,
        shares=int(_num(env, "SNMP_SHARES", 2, int, 1)),
        redis_url=_get(env, "REDIS_URL", "redis://127.0.0.1:6379/0"),
        metrics_token=token,
        skip_roles=skip,
        metrics_allow=allow,
    )
