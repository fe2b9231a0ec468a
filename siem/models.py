"""SIEM tables: normalised events, per-source counters, incidents, rules, saved searches.

Events keep their indexed, frequently filtered fields as columns (time, host, source,
user, action, outcome, category, severity, dataset), the whole normalised event as JSON
(flat ECS-style dotted keys) and the raw line, so nothing the sender sent is lost and
later parsers can re-process it.

``id`` is assigned by the writer (time-ordered 63-bit, see ``siem.ids``) rather than by
the database: SQLite only auto-numbers ``INTEGER`` keys, and a 32-bit key would run out
on PostgreSQL within months at SIEM rates. ``event_id`` is the stable, content- or
position-derived id that makes re-delivery idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from simpul.models.base import Base, utcnow


class SiemEvent(Base):
    """One received log line, normalised; never updated after insert."""

    __tablename__ = "siem_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    host_name: Mapped[str | None] = mapped_column(String(255), index=True)
    host_ip: Mapped[str | None] = mapped_column(String(45))
    source_ip: Mapped[str | None] = mapped_column(String(45), index=True)
    destination_ip: Mapped[str | None] = mapped_column(String(45))
    user_name: Mapped[str | None] = mapped_column(String(255), index=True)
    action: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), index=True)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    severity: Mapped[int | None] = mapped_column(Integer, index=True)
    dataset: Mapped[str | None] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    raw_encoding: Mapped[str] = mapped_column(String(8), default="utf8")
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_siem_events_timestamp_id", "timestamp", "id"),)


class SiemSource(Base):
    """Counters of one sender (an IP address, or ``file:<path>``), flushed periodically."""

    __tablename__ = "siem_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    transport: Mapped[str] = mapped_column(String(16), default="")
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    parsed: Mapped[int] = mapped_column(BigInteger, default=0)
    unparsed: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped: Mapped[int] = mapped_column(BigInteger, default=0)
    truncated: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SiemIncident(Base):
    """Alerts about one entity (a source address, a device, a user) grouped for a person.

    A new alert on an entity that already has an open incident joins it (raising its
    severity when higher) instead of opening another, so one brute-force campaign is one
    incident with many alerts. ``opd`` is the OPD of the entity (from enrichment) for
    tenancy; ``damage_class`` is the DRP class (interruption/minor/major/disaster) that
    infrastructure incidents carry.
    """

    __tablename__ = "siem_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    entity: Mapped[str] = mapped_column(String(300), index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    severity_rank: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), index=True, default="new")
    assignee: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16), default="security")
    damage_class: Mapped[str] = mapped_column(String(16), default="")
    opd: Mapped[str] = mapped_column(String(32), default="", index=True)
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's API)


class SiemAlert(Base):
    """One rule hit: which rule, on which entity, and the events that made it fire."""

    __tablename__ = "siem_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("siem_incidents.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    rule_title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    technique: Mapped[str] = mapped_column(String(32), default="")
    entity: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                              index=True)


class SiemRule(Base):
    """Per-rule switches and counters; the rule itself lives in its file."""

    __tablename__ = "siem_rules"

    rule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hit: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SiemRuleState(Base):
    """Correlation state that must survive a restart (windows, sequences, last-seen)."""

    __tablename__ = "siem_rule_state"

    rule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SiemSavedSearch(Base):
    """A named console query of one user."""

    __tablename__ = "siem_saved_searches"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")
    time_range: Mapped[str] = mapped_column(String(16), default="24h")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
