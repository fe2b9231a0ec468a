"""Core tables of simpul; domain packages add theirs to the same ``Base.metadata``."""

from __future__ import annotations

from simpul.models.audit import AuditEntry
from simpul.models.base import Base, TimestampMixin, utcnow
from simpul.models.tenancy import Opd
from simpul.models.users import ROLE_VALUES, ApiToken, Role, User

__all__ = [
    "ROLE_VALUES",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Opd",
    "Role",
    "TimestampMixin",
    "User",
    "utcnow",
]
