"""Errors of the config backup."""

from __future__ import annotations

from simpul.errors import NotFoundError, SimpulError


class BackupError(SimpulError):
    """The backup repository cannot be read or written."""


class BackupNotFound(NotFoundError):
    """No backup of the named device (or no such revision)."""
