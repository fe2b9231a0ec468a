"""SIEM settings: ``SIMPUL_SYSLOG_*`` and ``SIMPUL_SIEM_*`` environment variables over defaults.

The core ``Settings`` stays free of domain fields; the SIEM reads its own variables here
with the same precedence idea (environment over defaults) and one frozen value per
process. Every variable is listed in ``siem/README.md``.

Ports: a number binds that port (``0`` = any free port, used by tests); ``off`` disables
the listener. TLS listens only when a certificate and key are configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simpul.errors import ConfigError
from simpul.settings import Settings

_OFF = ("", "off", "none", "no", "false", "disabled")


@dataclass(frozen=True)
class SiemSettings:
    """Runtime configuration of the syslog receivers, the spool and the event writer."""

    spool_dir: Path
    syslog_host: str = "127.0.0.1"
    udp_port: int | None = 5514
    tcp_port: int | None = 5514
    tls_port: int | None = 6514
    tls_cert: str = ""
    tls_key: str = ""
    max_message: int = 65536
    queue_records: int = 20000
    batch_records: int = 2000
    spool_segment_bytes: int = 16 * 1024 * 1024
    spool_max_bytes: int = 1024 * 1024 * 1024
    fsync_ms: int = 200
    retention_days: int = 90
    retention_max_events: int = 20_000_000
    retention_batch: int = 5000
    stats_flush_s: float = 5.0
    tail_files: tuple[str, ...] = ()
    asset_map: str = ""
    default_tz: str = "UTC"
    udp_rcvbuf: int = 4 * 1024 * 1024
    detect: bool = True
    rules_dirs: tuple[str, ...] = ()
    inventory_enrich: bool = True
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "siem@localhost"
    notify_to: tuple[str, ...] = ()
    notify_min_severity: str = "high"
    state_save_s: float = 30.0

    @property
    def tls_enabled(self) -> bool:
        """TLS needs a port and both certificate files."""
        return bool(self.tls_port is not None and self.tls_cert and self.tls_key)


def _int(env: dict[str, str], name: str, default: int, *, minimum: int = 0,
         maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"setting {name}: {raw!r} is not a valid int") from None
    if value < minimum:
        raise ConfigError(f"setting {name}: {value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"setting {name}: {value} is above the maximum {maximum}")
    return value


def _port(env: dict[str, str], name: str, default: int) -> int | None:
    raw = env.get(name)
    if raw is not None and raw.strip().lower() in _OFF:
        return None
    value = _int(env, name, default)
    if value > 65535:
        raise ConfigError(f"setting {name}: {value} is not a port number")
    return value


def load_siem_settings(settings: Settings, env: dict[str, str] | None = None) -> SiemSettings:
    """Build SiemSettings from the environment (default ``os.environ``) over defaults.

    Raises:
        ConfigError: a value that is not a number or port, or a TLS half-configuration.
    """
    env = dict(os.environ if env is None else env)
    spool = env.get("SIMPUL_SIEM_SPOOL_DIR") or str(settings.data_dir / "siem" / "spool")
    tail = tuple(p.strip() for p in env.get("SIMPUL_SIEM_TAIL_FILES", "").split(",") if p.strip())
    cert, key = env.get("SIMPUL_SYSLOG_TLS_CERT", ""), env.get("SIMPUL_SYSLOG_TLS_KEY", "")
    if bool(cert) != bool(key):
        raise ConfigError("SIMPUL_SYSLOG_TLS_CERT and SIMPUL_SYSLOG_TLS_KEY must be set together")
    return SiemSettings(
        spool_dir=Path(spool).expanduser(),
        syslog_host=env.get("SIMPUL_SYSLOG_HOST", "127.0.0.1") or "127.0.0.1",
        udp_port=_port(env, "SIMPUL_SYSLOG_UDP_PORT", 5514),
        tcp_port=_port(env, "SIMPUL_SYSLOG_TCP_PORT", 5514),
        tls_port=_port(env, "SIMPUL_SYSLOG_TLS_PORT", 6514),
        tls_cert=cert,
        tls_key=key,
        max_message=_int(env, "SIMPUL_SYSLOG_MAX_MESSAGE", 65536, minimum=480,
                         maximum=1 << 20),
        queue_records=_int(env, "SIMPUL_SIEM_QUEUE_RECORDS", 20000, minimum=1),
        batch_records=_int(env, "SIMPUL_SIEM_BATCH_RECORDS", 2000, minimum=1),
        spool_segment_bytes=_int(env, "SIMPUL_SIEM_SPOOL_SEGMENT_BYTES", 16 << 20,
                                 minimum=4096),
        spool_max_bytes=_int(env, "SIMPUL_SIEM_SPOOL_MAX_BYTES", 1 << 30, minimum=4096),
        fsync_ms=_int(env, "SIMPUL_SIEM_FSYNC_MS", 200),
        retention_days=_int(env, "SIMPUL_SIEM_RETENTION_DAYS", 90),
        retention_max_events=_int(env, "SIMPUL_SIEM_RETENTION_MAX_EVENTS", 20_000_000),
        retention_batch=_int(env, "SIMPUL_SIEM_RETENTION_BATCH", 5000, minimum=1),
        tail_files=tail,
        asset_map=env.get("SIMPUL_SIEM_ASSET_MAP", ""),
        default_tz=env.get("SIMPUL_SIEM_DEFAULT_TZ", "UTC") or "UTC",
        detect=_flag(env, "SIMPUL_SIEM_DETECT", True),
        rules_dirs=_list(env, "SIMPUL_SIEM_RULES_DIR"),
        inventory_enrich=_flag(env, "SIMPUL_SIEM_INVENTORY_ENRICH", True),
        # one relay for the whole office (SIMPUL_SMTP_*), unless the SIEM names its own
        smtp_host=env.get("SIMPUL_SIEM_SMTP_HOST", "") or env.get("SIMPUL_SMTP_HOST", ""),
        smtp_port=_int(env, "SIMPUL_SIEM_SMTP_PORT" if env.get("SIMPUL_SIEM_SMTP_PORT")
                       else "SIMPUL_SMTP_PORT", 25, minimum=1, maximum=65535),
        mail_from=(env.get("SIMPUL_SIEM_MAIL_FROM", "") or env.get("SIMPUL_SMTP_FROM", "")
                   or "siem@localhost"),
        notify_to=_list(env, "SIMPUL_SIEM_NOTIFY_TO"),
        notify_min_severity=_severity(env.get("SIMPUL_SIEM_NOTIFY_MIN_SEVERITY", "high")),
    )


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in env.get(name, "").split(",") if p.strip())


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in _OFF or value == "0":
        return False
    raise ConfigError(f"setting {name}: {raw!r} is not on/off")


def _severity(raw: str) -> str:
    value = (raw or "high").strip().lower()
    if value not in ("info", "low", "medium", "high", "critical"):
        raise ConfigError("SIMPUL_SIEM_NOTIFY_MIN_SEVERITY must be info, low, medium, high "
                          "or critical")
    return value
