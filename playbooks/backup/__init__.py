"""Config backup: running configs of every device in a git repository, one commit per run."""

from __future__ import annotations

from playbooks.backup.errors import BackupError, BackupNotFound
from playbooks.backup.repo import ConfigRepo, file_name
from playbooks.backup.service import BackupRun, diff_device, run_backup, store_configs
from playbooks.backup.settings import BackupSettings, load_backup_settings
from playbooks.backup.volatile import CONFIG_COMMANDS, clean_config

__all__ = ["CONFIG_COMMANDS", "BackupError", "BackupNotFound", "BackupRun", "BackupSettings",
           "ConfigRepo", "clean_config", "diff_device", "file_name", "load_backup_settings",
           "run_backup", "store_configs"]
