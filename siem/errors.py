"""SIEM errors: every user-facing SIEM failure is a SiemError (a SimpulError)."""

from __future__ import annotations

from simpul.errors import SimpulError


class SiemError(SimpulError):
    """A SIEM operation could not be done as asked (bad filter, unusable spool, busy port)."""


class SpoolError(SiemError):
    """The on-disk spool cannot be opened or written (permissions, disk full, locked)."""

    http_status = 503
