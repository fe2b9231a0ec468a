"""SIEM tables: normalised events and per-source counters.

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

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text
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
