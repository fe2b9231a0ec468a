"""Run records of playbooks: who ran what, when, on which hosts, with which outcome.

One ``PlaybookRun`` per ``simpul run`` or web run, its live output appended line by line
while it runs (the web page polls it), and one ``PlaybookRunHost`` per host with the
diff (secrets redacted), the verification messages and the error. Credentials never
reach these tables: diffs and output pass through ``simpul.logging.redact``.

``work_order_id`` is the helpdesk work order the run carries out. It is a plain column,
not a foreign key, so the playbooks tables do not depend on the helpdesk's migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simpul.models.base import Base, utcnow

RUN_STATES = ("queued", "running", "ok", "failed", "error")


class PlaybookRun(Base):
    """One run of one playbook."""

    __tablename__ = "playbook_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook: Mapped[str] = mapped_column(String(100), index=True)  # or "ansible:NAME"
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True)
    started_by: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16), default="cli")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    work_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    output: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")

    hosts: Mapped[list[PlaybookRunHost]] = relationship(
        back_populates="run", order_by="PlaybookRunHost.host", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"run {self.id} ({self.playbook})"


class PlaybookRunHost(Base):
    """The outcome of a run on one host."""

    __tablename__ = "playbook_run_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("playbook_runs.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    diff: Mapped[str] = mapped_column(Text, default="")
    diff_lines: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[bool | None] = mapped_column(Boolean)
    verification: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)

    run: Mapped[PlaybookRun] = relationship(back_populates="hosts")
