"""NAC errors: each derives from a simpul error so the API and CLI pick the right status."""

from __future__ import annotations

from simpul.errors import ConflictError, NotFoundError, SimpulError, ValidationError

__all__ = ["DuplicateMacError", "NacError", "NacNotFoundError", "NacValidationError"]


class NacError(SimpulError):
    """Base of the NAC's own errors."""


class NacValidationError(NacError, ValidationError):
    """Input broke a NAC rule (bad MAC, unknown type, bad expiry); nothing changed (400)."""


class DuplicateMacError(NacError, ConflictError):
    """The MAC is already registered (409): one register entry per MAC."""


class NacNotFoundError(NacError, NotFoundError):
    """No such register entry, or not visible to the caller (404)."""
