"""OPD tenants: each government office is one; Diskominfo is the operator tenant."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from simpul.models.base import Base, TimestampMixin


class Opd(TimestampMixin, Base):
    """An OPD (Perangkat Daerah): the unit that owns requests, addresses and assets."""

    __tablename__ = "opd"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(500), default="")

    def __repr__(self) -> str:
        return f"<Opd {self.code}>"
