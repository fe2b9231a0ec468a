"""Inventory errors: each derives from a simpul error so the API picks the right status.

``ValidationError`` (400) for input that breaks a rule, ``ConflictError`` (409) when the
data has no room left (a full prefix, a full rack) or an object is still in use.
"""

from __future__ import annotations

from simpul.errors import ConflictError, NotFoundError, SimpulError, ValidationError

__all__ = [
    "InUseError",
    "InventoryError",
    "InventoryNotFoundError",
    "InventoryValidationError",
    "NoPrefixSpaceError",
    "PowerBudgetError",
    "PrefixFullError",
    "RackSpaceError",
]


class InventoryError(SimpulError):
    """Base of the inventory's own errors."""


class InventoryValidationError(InventoryError, ValidationError):
    """Input broke an inventory rule; nothing was changed (400, errors keyed by field)."""


class InventoryNotFoundError(InventoryError, NotFoundError):
    """A referenced inventory object does not exist (404)."""


class PrefixFullError(InventoryError, ConflictError):
    """``198.51.100.0/30 has no free address``: allocation found no room (409)."""


class NoPrefixSpaceError(InventoryError, ConflictError):
    """The parent prefix holds no free child of the asked length (409)."""


class RackSpaceError(InventoryError, ConflictError):
    """No rack (or no position) has the contiguous free units asked for (409)."""


class PowerBudgetError(InventoryError, ConflictError):
    """Adding the device would exceed the rack's power budget (409)."""


class InUseError(InventoryError, ConflictError):
    """The object cannot be deleted while others depend on it (409, like NetBox)."""
