"""Users, their roles, and API tokens (stored hashed, shown once)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simpul.models.base import Base, TimestampMixin
from simpul.models.tenancy import Opd


class Role(StrEnum):
    """Roles of the Sidoarjo SOP work-order flow plus NOC, security and admin."""

    REQUESTER = "requester"
    HELPDESK = "helpdesk"
    IT_SUPPORT = "it_support"
    INFRASTRUCTURE = "infrastructure"
    DATACENTER = "datacenter"
    LEADERSHIP = "leadership"
    NOC = "noc"
    SECURITY = "security"
    ADMIN = "admin"


ROLE_VALUES = tuple(r.value for r in Role)
_ROLE_CHECK = "role IN (" + ", ".join(f"'{r}'" for r in ROLE_VALUES) + ")"


class User(TimestampMixin, Base):
    """A person who signs in; belongs to exactly one OPD (or to Diskominfo)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(32))
    opd_id: Mapped[int] = mapped_column(ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    opd: Mapped[Opd] = relationship(lazy="joined")

    @property
    def is_operator_staff(self) -> bool:
        """True for Diskominfo staff, who may see every OPD's data."""
        return bool(self.opd and self.opd.is_operator)

    # The session-user protocol web frameworks expect (Flask-Login), without importing one.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the identifier kept in the signed session cookie."""
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(TimestampMixin, Base):
    """An API key: only its SHA-256 is stored; the prefix finds it without a scan."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    write_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")
