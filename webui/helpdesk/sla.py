"""Service levels: targets per type and priority, a pausable clock, overdue and escalation.

The clock counts wall-clock time from intake, minus the time the WO waited on the
requester (automatically in states that wait on them, or paused by a desk with a
reason), and stops when the WO ends. Overdue WOs escalate twice: to the Help Desk lead
when the target passes, to Pimpinan when it is exceeded by half again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from simpul.audit import Actor
from webui.helpdesk.models import WorkOrder, aware
from webui.helpdesk.notify import Mailer, notify
from webui.helpdesk.timeline import add_event

PRIORITIES = ("low", "normal", "high", "critical")

# Working targets for a regency data center, in hours at "normal" priority: complaints
# and incidents within a working day, small requests within three days, anything that
# needs Pimpinan or a site visit within two weeks.
BASE_HOURS: dict[str, float] = {
    "pengaduan": 8,
    "gangguan_aplikasi": 8,
    "permintaan": 72,
    "penambahan_ip": 72,
    "kegiatan_insidentil": 48,
    "domain": 72,
    "titik_koneksi": 336,
    "penitipan_server": 336,
    "penitipan_aplikasi": 336,
    "pse": 336,
    "pendaftaran_perangkat": 24,
}
PRIORITY_FACTOR: dict[str, float] = {"low": 2.0, "normal": 1.0, "high": 0.5, "critical": 0.25}
LEADERSHIP_AFTER = 1.5  # escalate to Pimpinan at 150 % of the target
ESCALATE_TO = {1: "helpdesk", 2: "leadership"}


def sla_table(overrides: Mapping[str, float] | None = None) -> dict[tuple[str, str], timedelta]:
    """Return the target per (type, priority); *overrides* maps ``"type:priority"`` to hours."""
    table = {(t, p): timedelta(hours=h * PRIORITY_FACTOR[p])
             for t, h in BASE_HOURS.items() for p in PRIORITIES}
    for key, hours in (overrides or {}).items():
        type_, _, priority = key.partition(":")
        if (type_, priority) not in table or float(hours) <= 0:
            raise ValueError(f"SLA override {key}={hours}: unknown type:priority or not > 0")
        table[(type_, priority)] = timedelta(hours=float(hours))
    return table


DEFAULT_TABLE = sla_table()


def target(type_: str, priority: str,
           table: Mapping[tuple[str, str], timedelta] | None = None) -> timedelta:
    """Return the resolution target of a WO of *type_* and *priority*."""
    return (table or DEFAULT_TABLE)[(type_, priority)]


@dataclass(frozen=True)
class SlaStatus:
    """Where a WO stands against its target at one moment."""

    target: timedelta
    elapsed: timedelta
    due_at: datetime
    paused: bool
    stopped: bool
    overdue: bool
    level: int  # 0 fine, 1 lead, 2 Pimpinan

    @property
    def remaining(self) -> timedelta:
        """Time left (negative when overdue)."""
        return self.target - self.elapsed

    @property
    def escalate_to(self) -> str | None:
        """The role an overdue WO is escalated to."""
        return ESCALATE_TO.get(self.level)


def sla_status(wo: WorkOrder, now: datetime,
               table: Mapping[tuple[str, str], timedelta] | None = None) -> SlaStatus:
    """Return *wo*'s SLA position at *now* (pure: reads the clock columns only)."""
    goal = target(wo.type, wo.priority, table)
    created = aware(wo.created_at) or now
    closed = aware(wo.closed_at)
    ref = closed or now
    paused_at = aware(wo.sla_paused_at)
    paused = timedelta(seconds=wo.sla_paused_seconds or 0)
    if paused_at is not None and closed is None:
        paused += max(ref - paused_at, timedelta(0))
    elapsed = max(ref - created - paused, timedelta(0))
    overdue = closed is None and elapsed > goal
    level = 0
    if overdue:
        level = 2 if elapsed > goal * LEADERSHIP_AFTER else 1
    return SlaStatus(target=goal, elapsed=elapsed, due_at=created + goal + paused,
                     paused=paused_at is not None and closed is None, stopped=closed is not None,
                     overdue=overdue, level=level)


def pause_clock(wo: WorkOrder, now: datetime, reason: str) -> bool:
    """Stop *wo*'s clock from *now*; False when it was already stopped."""
    if wo.sla_paused_at is not None:
        return False
    wo.sla_paused_at = now
    wo.sla_pause_reason = reason[:200]
    return True


def resume_clock(wo: WorkOrder, now: datetime) -> bool:
    """Restart *wo*'s clock, moving the due time by the pause; False when it was running."""
    paused_at = aware(wo.sla_paused_at)
    if paused_at is None:
        return False
    waited = max(int((now - paused_at).total_seconds()), 0)
    wo.sla_paused_seconds = (wo.sla_paused_seconds or 0) + waited
    wo.sla_due_at = aware(wo.sla_due_at) + timedelta(seconds=waited)  # type: ignore[operator]
    wo.sla_paused_at = None
    wo.sla_pause_reason = ""
    return True


def escalate_overdue(session: Session, actor: Actor, now: datetime,
                     table: Mapping[tuple[str, str], timedelta] | None = None,
                     mailer: Mailer | None = None) -> Sequence[WorkOrder]:
    """Raise the escalation level of every open, running, overdue WO; return those raised.

    Run periodically (the scheduler, or ``simpul`` CLI later). Each raise is a timeline
    event and an audit entry in the caller's transaction; a level is never lowered.
    """
    candidates = session.scalars(select(WorkOrder).where(
        WorkOrder.closed_at.is_(None), WorkOrder.sla_paused_at.is_(None),
        WorkOrder.sla_due_at < now).order_by(WorkOrder.id)).all()
    raised = []
    for wo in candidates:
        status = sla_status(wo, now, table)
        if status.level <= wo.escalation_level:
            continue
        before = wo.escalation_level
        wo.escalation_level = status.level
        wo.escalated_at = now
        add_event(session, wo, actor, role="system", kind="escalation", action="escalate",
                  comment=f"overdue by {status.elapsed - status.target}; escalated to "
                          f"{status.escalate_to}",
                  data={"level": status.level, "to": status.escalate_to}, now=now,
                  audit_before={"escalation_level": before},
                  audit_after={"escalation_level": status.level})
        notify(session, wo, f"overdue: escalated to {status.escalate_to}", mailer=mailer,
               now=now)
        raised.append(wo)
    return raised
