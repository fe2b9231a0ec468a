"""Timeline events and their audit entries, written together in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from simpul.audit import Actor, record
from webui.helpdesk.models import WorkOrder, WorkOrderEvent


def add_event(session: Session, wo: WorkOrder, actor: Actor, *, role: str, kind: str,
              action: str = "", from_state: str | None = None, to_state: str | None = None,
              comment: str = "", data: dict[str, Any] | None = None, now: datetime,
              audit_before: dict[str, Any] | None = None,
              audit_after: dict[str, Any] | None = None) -> WorkOrderEvent:
    """Append one timeline event to *wo* and audit it as ``helpdesk.<kind>``."""
    event = WorkOrderEvent(at=now, kind=kind, actor_id=actor.user_id, actor_name=actor.name,
                           actor_role=role, action=action, from_state=from_state,
                           to_state=to_state, comment=comment, data=data)
    wo.events.append(event)
    after = {"state": wo.state, "action": action, **(audit_after or {})}
    if comment:
        after["comment"] = comment[:500]
    record(session, actor, f"helpdesk.{kind}", wo, before=audit_before, after=after,
           opd_id=wo.opd_id)
    return event


def transition_steps(wo: WorkOrder) -> list[tuple[str, str, str]]:
    """Return (from, action, to) of every state change on *wo*'s timeline, in order."""
    return [(e.from_state or "", e.action, e.to_state or "") for e in wo.events
            if e.kind == "transition"]
