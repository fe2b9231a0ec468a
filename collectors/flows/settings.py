"""Flow collector and trap receiver settings: ``SIMPUL_FLOW_*`` / ``SIMPUL_TRAP_*``.

Environment over defaults, one frozen value per process, as in ``siem/settings.py``.
Every variable is listed in ``collectors/flows/README.md``. The SNMPv3 pass phrases are
read from the environment only, never logged (``repr=False``) and never stored.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from collectors.flows.sampling import MAX_RATE
from simpul.errors import ConfigError

_OFF = ("off", "none", "no", "false", "disabled")
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "3DES", "AES", "AES192", "AES256")


@dataclass(frozen=True)
class FlowSettings:
    """How the NetFlow/IPFIX collector listens and keeps its data."""

    hosts: tuple[str, ...] = ("127.0.0.1",)
    port: int | None = 2055
    flush_s: float = 10.0
    max_keys: int = 200_000
    max_pending: int = 1_000_000
    rcvbuf: int = 8 * 1024 * 1024
    minute_retention_h: int = 48
    hour_retention_days: int = 90
    # (exporter address, 1-in-N rate, forced even when the exporter announces another)
    sampling: tuple[tuple[str, int, bool], ...] = ()

    def sampling_map(self) -> dict[str, tuple[int, bool]]:
        """Return ``SIMPUL_FLOW_SAMPLING`` as exporter address → ``(rate, forced)``."""
        return {addr: (rate, forced) for addr, rate, forced in self.sampling}


@dataclass(frozen=True)
class TrapSettings:
    """How the trap receiver listens and which credentials it accepts."""

    hosts: tuple[str, ...] = ("127.0.0.1",)
    port: int | None = 10162
    communities: tuple[str, ...] = ()
    v3_user: str = ""
    v3_auth_key: str = ""
    v3_priv_key: str = ""
    v3_auth_proto: str = "SHA"
    v3_priv_proto: str = "AES"
    v3_engine_ids: tuple[str, ...] = ()
    siem: bool = True

    def __repr__(self) -> str:
        return (f"TrapSettings(hosts={self.hosts}, port={self.port}, "
                f"v2c={'on' if self.communities else 'off'}, v3_user={self.v3_user!r})")


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"setting {name}: {raw!r} is not a valid int") from None
    if value < minimum:
        raise ConfigError(f"setting {name}: {value} is below the minimum {minimum}")
    return value


def _port(env: dict[str, str], name: str, default: int) -> int | None:
    raw = env.get(name, "").strip().lower()
    if raw in _OFF:
        return None
    value = _int(env, name, default)
    if value > 65535:
        raise ConfigError(f"setting {name}: {value} is not a port number")
    return value


def _list(env: dict[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _sampling(env: dict[str, str]) -> tuple[tuple[str, int, bool], ...]:
    """Parse ``SIMPUL_FLOW_SAMPLING``: ``ADDR=N`` pairs, comma-separated; ``N!`` forces N.

    Raises:
        ConfigError: an entry that is not ``address=rate`` with a rate in 1..1,000,000.
    """
    name = "SIMPUL_FLOW_SAMPLING"
    out: dict[str, tuple[int, bool]] = {}
    for entry in _list(env, name):
        addr, sep, raw = entry.partition("=")
        raw = raw.strip()
        forced = raw.endswith("!")
        try:
            address = str(ipaddress.ip_address(addr.strip()))
            rate = int(raw.removesuffix("!").strip())
        except ValueError:
            raise ConfigError(f"setting {name}: {entry!r} is not ADDRESS=RATE "
                              "(for example 192.0.2.1=1000)") from None
        if not sep or not 1 <= rate <= MAX_RATE:
            raise ConfigError(f"setting {name}: {entry!r} needs a rate from 1 to {MAX_RATE:,}")
        out[address] = (rate, forced)
    return tuple((addr, rate, forced) for addr, (rate, forced) in out.items())


def load_flow_settings(env: dict[str, str] | None = None) -> FlowSettings:
    """Build FlowSettings from the environment (default ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    hosts = _list(env, "SIMPUL_FLOW_HOSTS", ("127.0.0.1",)) or ("127.0.0.1",)
    try:
        flush = float(env.get("SIMPUL_FLOW_FLUSH_S", "10") or 10)
    except ValueError:
        raise ConfigError("setting SIMPUL_FLOW_FLUSH_S: not a number") from None
    if flush <= 0:
        raise ConfigError("setting SIMPUL_FLOW_FLUSH_S must be above 0")
    return FlowSettings(
        hosts=hosts, port=_port(env, "SIMPUL_FLOW_PORT", 2055), flush_s=flush,
        max_keys=_int(env, "SIMPUL_FLOW_MAX_KEYS", 200_000, minimum=1000),
        max_pending=_int(env, "SIMPUL_FLOW_MAX_PENDING", 1_000_000, minimum=1000),
        rcvbuf=_int(env, "SIMPUL_FLOW_RCVBUF", 8 << 20, minimum=65536),
        minute_retention_h=_int(env, "SIMPUL_FLOW_MINUTE_RETENTION_H", 48),
        hour_retention_days=_int(env, "SIMPUL_FLOW_HOUR_RETENTION_DAYS", 90),
        sampling=_sampling(env),
    )


def load_trap_settings(env: dict[str, str] | None = None) -> TrapSettings:
    """Build TrapSettings from the environment (default ``os.environ``).

    Raises:
        ConfigError: bad port, unknown protocol, a priv key without an auth key, or a
            pass phrase shorter than the 8 characters SNMPv3 requires.
    """
    env = dict(os.environ if env is None else env)
    auth_proto = env.get("SIMPUL_TRAP_V3_AUTH_PROTO", "SHA").strip().upper() or "SHA"
    priv_proto = env.get("SIMPUL_TRAP_V3_PRIV_PROTO", "AES").strip().upper() or "AES"
    if auth_proto not in AUTH_PROTOCOLS:
        raise ConfigError(f"SIMPUL_TRAP_V3_AUTH_PROTO {auth_proto!r} is not one of "
                          f"{', '.join(AUTH_PROTOCOLS)}")
    if priv_proto not in PRIV_PROTOCOLS:
        raise ConfigError(f"SIMPUL_TRAP_V3_PRIV_PROTO {priv_proto!r} is not one of "
                          f"{', '.join(PRIV_PROTOCOLS)}")
    auth, priv = env.get("SIMPUL_TRAP_V3_AUTH_KEY", ""), env.get("SIMPUL_TRAP_V3_PRIV_KEY", "")
    if priv and not auth:
        raise ConfigError("SIMPUL_TRAP_V3_PRIV_KEY needs SIMPUL_TRAP_V3_AUTH_KEY")
    for name, value in (("AUTH", auth), ("PRIV", priv)):
        if value and len(value) < 8:
            raise ConfigError(f"SIMPUL_TRAP_V3_{name}_KEY must be at least 8 characters")
    engine_ids = _list(env, "SIMPUL_TRAP_V3_ENGINE_IDS")
    for eid in engine_ids:
        text = eid.removeprefix("0x")
        if len(text) < 10 or len(text) > 64 or any(c not in "0123456789abcdefABCDEF"
                                                    for c in text):
            raise ConfigError(f"SIMPUL_TRAP_V3_ENGINE_IDS: {eid!r} is not a hex engine ID")
    return TrapSettings(
        hosts=_list(env, "SIMPUL_TRAP_HOSTS", ("127.0.0.1",)) or ("127.0.0.1",),
        port=_port(env, "SIMPUL_TRAP_PORT", 10162),
        communities=_list(env, "SIMPUL_TRAP_COMMUNITIES"),
        v3_user=env.get("SIMPUL_TRAP_V3_USER", "").strip(),
        v3_auth_key=auth, v3_priv_key=priv, v3_auth_proto=auth_proto,
        v3_priv_proto=priv_proto,
        v3_engine_ids=tuple(e.removeprefix("0x").lower() for e in engine_ids),
        siem=env.get("SIMPUL_TRAP_SIEM", "on").strip().lower() not in _OFF,
    )
