"""Backup settings: ``SIMPUL_BACKUP_*`` environment variables over defaults.

``SIMPUL_BACKUP_DIR``        git repository of the configs (default ``<data dir>/backups``)
``SIMPUL_BACKUP_HOUR``       hour of the daily backup run by ``simpul up`` (local time
                             of ``SIMPUL_TIMEZONE``; ``off`` disables it), default 2
``SIMPUL_BACKUP_WORKERS``    parallel SSH sessions, default 20
``SIMPUL_BACKUP_TIMEOUT``    seconds per device, default 60
``SIMPUL_BACKUP_MASK_SECRETS`` replace passwords/keys/communities by ``<removed>`` in the
                             stored files (default on: secrets never stored in clear)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from simpul.errors import ConfigError
from simpul.settings import Settings

_OFF = ("off", "none", "no", "false", "disabled")


@dataclass(frozen=True)
class BackupSettings:
    """Where the config repository lives and how the backup runs."""

    repo_dir: Path
    hour: int | None = 2
    workers: int = 20
    timeout: float = 60.0
    mask_secrets: bool = True


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {raw} is outside {low:g}..{high:g}")
    return value


def load_backup_settings(settings: Settings, env: Mapping[str, str] | None = None
                         ) -> BackupSettings:
    """Return the backup settings of this process.

    Raises:
        ConfigError: a value is not a number or out of range.
    """
    env = os.environ if env is None else env
    repo = env.get("SIMPUL_BACKUP_DIR") or str(Path(settings.data_dir) / "backups")
    hour_raw = (env.get("SIMPUL_BACKUP_HOUR") or "").strip().lower()
    hour = None if hour_raw in _OFF else int(_number(env, "SIMPUL_BACKUP_HOUR", 2, 0, 23))
    mask = (env.get("SIMPUL_BACKUP_MASK_SECRETS") or "on").strip().lower() not in _OFF
    return BackupSettings(
        repo_dir=Path(repo).expanduser(), hour=hour,
        workers=int(_number(env, "SIMPUL_BACKUP_WORKERS", 20, 1, 500)),
        timeout=_number(env, "SIMPUL_BACKUP_TIMEOUT", 60.0, 1, 3600), mask_secrets=mask)
