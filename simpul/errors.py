"""Domain errors: every user-facing failure is a SimpulError with a one-line message.

The CLI prints them without a traceback and exits non-zero; the API turns them into
JSON with a 4xx status (``http_status``). Errors keyed by field (``errors``) let forms
and the API show which input was wrong.
"""

from __future__ import annotations


class SimpulError(Exception):
    """Base of every error a user can cause or must act on."""

    http_status: int = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = errors or {}

    def __str__(self) -> str:
        return self.message


class ConfigError(SimpulError):
    """The configuration (environment, TOML file, data directory) is unusable."""


class DatabaseError(SimpulError):
    """The database cannot be reached or is not in the expected state."""

    http_status = 503


class ValidationError(SimpulError):
    """Input was rejected; nothing was changed."""


class NotFoundError(SimpulError):
    """The named object does not exist (or is not visible to the caller)."""

    http_status = 404


class ConflictError(SimpulError):
    """The change clashes with existing data (duplicate name, concurrent allocation)."""

    http_status = 409


class AuthError(SimpulError):
    """Authentication failed."""

    http_status = 401


class PermissionDeniedError(SimpulError):
    """Authenticated, but the role or OPD does not allow this."""

    http_status = 403
