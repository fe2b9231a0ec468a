"""Probe tables: what to probe (``probes``) and every answer it gave (``probe_results``).

Results are kept one row per check so that availability and response time over any
period (a day on the NOC screen, a month for the SLA report) come from one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simpul.models import Opd
from simpul.models.base import Base, TimestampMixin

PROBE_KINDS = ("icmp", "tcp", "http", "dns", "smtp")


class Probe(TimestampMixin, Base):
    """One service check: a kind, a target and what a healthy answer looks like."""

    __tablename__ = "probes"
    __table_args__ = ({"info": {"package": "probes"}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id", ondelete="RESTRICT"),
                                               index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    port: Mapped[int | None] = mapped_column(Integer)
    expect: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    timeout_s: Mapped[float] = mapped_column(Float, default=5.0)
    device: Mapped[str] = mapped_column(String(100), default="")
    site: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    opd: Mapped[Opd | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name


class ProbeResult(Base):
    """One check's outcome; never updated after insert."""

    __tablename__ = "probe_results"
    __table_args__ = (Index("ix_probe_results_probe_at", "probe_id", "at"),
                      {"info": {"package": "probes"}})

    id: Mapped[int] = mapped_column(primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probes.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    rtt_ms: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(500), default="")
    cert_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
