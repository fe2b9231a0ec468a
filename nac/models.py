"""NAC tables: the device register, VLAN and site policy, decisions and accounting sessions.

``mac`` is stored normalised (``aa:bb:cc:dd:ee:ff``) and unique, so the decision for a
RADIUS request is one indexed equality lookup. Policy rows use ``*_key`` columns (the
referenced id or 0 for "any") in unique constraints, because SQLite and PostgreSQL both
treat NULLs as distinct there (the inventory does the same with ``vrf_key``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simpul.models.base import Base, TimestampMixin, utcnow
from simpul.models.tenancy import Opd

DEVICE_TYPES = ("pc", "laptop", "printer", "phone", "camera", "ap", "iot", "server", "other")
DEVICE_STATUS = ("pending", "active", "blocked", "expired")
AUTH_METHODS = ("mab", "dot1x")
UNKNOWN_ACTIONS = ("reject", "quarantine")
DECISION_RESULTS = ("accept", "reject", "quarantine")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class NacDevice(TimestampMixin, Base):
    """One registered MAC: who owns it, which OPD, what it is, and whether it may join."""

    __tablename__ = "nac_devices"
    __table_args__ = (
        CheckConstraint(_in("status", DEVICE_STATUS), name="status_valid"),
        CheckConstraint(_in("device_type", DEVICE_TYPES), name="type_valid"),
        CheckConstraint(_in("auth_method", AUTH_METHODS), name="auth_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    opd_id: Mapped[int] = mapped_column(ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    device_type: Mapped[str] = mapped_column(String(16), default="pc")
    purpose: Mapped[str] = mapped_column(String(500), default="")
    role: Mapped[str] = mapped_column(String(50), default="staff")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    auth_method: Mapped[str] = mapped_column(String(8), default="mab")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[str] = mapped_column(String(64), default="")
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(String(500), default="")

    opd: Mapped[Opd] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.mac


class NacVlanPolicy(TimestampMixin, Base):
    """VLAN for an OPD and NAC role when the inventory has no VLAN with that OPD and role.

    ``opd_key`` 0 is the default for every OPD without its own row.
    """

    __tablename__ = "nac_vlan_policy"
    __table_args__ = (
        UniqueConstraint("opd_key", "role", name="uq_nac_vlan_policy_opd_role"),
        CheckConstraint("vid BETWEEN 1 AND 4094", name="vid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id", ondelete="CASCADE"))
    opd_key: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(50))
    vid: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500), default="")


class NacSitePolicy(TimestampMixin, Base):
    """What a site does with unknown MACs: reject, or put them in a quarantine VLAN.

    ``site_key`` 0 is the default for NAS devices of any other (or no known) site.
    """

    __tablename__ = "nac_site_policy"
    __table_args__ = (
        CheckConstraint(_in("unknown_action", UNKNOWN_ACTIONS), name="action_valid"),
        CheckConstraint("quarantine_vid IS NULL OR quarantine_vid BETWEEN 1 AND 4094",
                        name="vid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("dcim_site.id", ondelete="CASCADE"))
    site_key: Mapped[int] = mapped_column(Integer, default=0, unique=True)
    unknown_action: Mapped[str] = mapped_column(String(16), default="reject")
    quarantine_vid: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500), default="")


class NacDecision(Base):
    """One RADIUS decision, kept for the SIEM and the "recent rejects" view; never updated."""

    __tablename__ = "nac_decisions"
    __table_args__ = (
        CheckConstraint(_in("result", DECISION_RESULTS), name="result_valid"),
    )

    # 32-bit key: SQLite only auto-numbers INTEGER keys; 2^31 rows is decades at NAC rates.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    mac: Mapped[str] = mapped_column(String(17), default="", index=True)
    username: Mapped[str] = mapped_column(String(253), default="")
    method: Mapped[str] = mapped_column(String(8), default="mab")
    nas_ip: Mapped[str] = mapped_column(String(45), default="")
    nas_port: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    vid: Mapped[int | None] = mapped_column(Integer)


class NacSession(Base):
    """An accounting session: which MAC is on which NAS port, in which VLAN, since when."""

    __tablename__ = "nac_sessions"
    __table_args__ = (
        UniqueConstraint("nas_ip", "acct_session_id", name="uq_nac_sessions_nas_session"),
        Index("ix_nac_sessions_port", "nas_ip", "nas_port"),
    )

    # 32-bit key: SQLite only auto-numbers INTEGER keys; 2^31 rows is decades at NAC rates.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    acct_session_id: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(17), default="", index=True)
    username: Mapped[str] = mapped_column(String(253), default="")
    nas_ip: Mapped[str] = mapped_column(String(45))
    nas_port: Mapped[str] = mapped_column(String(64), default="")
    vid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    input_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    output_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    terminate_cause: Mapped[str] = mapped_column(String(64), default="")
