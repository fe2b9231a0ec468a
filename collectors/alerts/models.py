"""Alert tables: alerts, the per-key state the engine keeps, maintenance windows.

``alerts`` holds every alert ever raised (history for reports); at most one alert per
``dedup_key`` (rule + entity) is open — firing or acknowledged — at any time, enforced
by a partial unique index on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simpul.models import Opd
from simpul.models.base import Base, TimestampMixin, utcnow

ALERT_STATES = ("firing", "acknowledged", "resolved")
SEVERITIES = ("critical", "high", "medium", "low", "info")
MAINTENANCE_SCOPES = ("device", "site", "opd", "service")
_OPEN = text("state != 'resolved'")


class Alert(Base):
    """One alert from firing to resolution."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ux_alerts_open_key", "dedup_key", unique=True, sqlite_where=_OPEN,
              postgresql_where=_OPEN),
        Index("ix_alerts_state_fired", "state", "fired_at"),
        {"info": {"package": "alerts"}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(400))
    entity: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="firing")
    title: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    device: Mapped[str] = mapped_column(String(100), default="")
    site: Mapped[str] = mapped_column(String(100), default="")
    service: Mapped[str] = mapped_column(String(64), default="")
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id", ondelete="SET NULL"),
                                               index=True)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str] = mapped_column(String(64), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")

    opd: Mapped[Opd | None] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        """Firing or acknowledged."""
        return self.state != "resolved"

    def __str__(self) -> str:
        return f"alert {self.id} {self.rule} {self.entity}"


class AlertSignal(Base):
    """The engine's memory of one key between evaluations (see lifecycle.SignalState)."""

    __tablename__ = "alert_signals"
    __table_args__ = ({"info": {"package": "alerts"}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(400), unique=True)
    rule: Mapped[str] = mapped_column(String(100), index=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_until_clear: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MaintenanceWindow(TimestampMixin, Base):
    """A planned period in which alerts of a device, site, OPD or service are not notified."""

    __tablename__ = "alert_maintenance"
    __table_args__ = (Index("ix_alert_maintenance_period", "starts_at", "ends_at"),
                      {"info": {"package": "alerts"}})

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id", ondelete="SET NULL"),
                                               index=True)

    def __str__(self) -> str:
        return f"maintenance {self.scope} {self.target}"
