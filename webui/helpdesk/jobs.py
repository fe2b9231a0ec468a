"""Background work of the helpdesk under ``simpul up``: SLA escalation, event clean-up.

Every pass escalates overdue work orders and gives back what one-off events held once
their time is up (``inventory.expiry``), noting the release on the event's work order.

``background_services(app)`` follows the ``simpul.runtime`` protocol (a name and a
start/stop pair), so the runner can start it beside the collectors and the SIEM.
"""

from __future__ import annotations

import threading
from datetime import datetime

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.expiry import release_expired
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.models import utcnow
from webui.helpdesk.models import WorkOrder
from webui.helpdesk.settings import load_helpdesk_config
from webui.helpdesk.sla import escalate_overdue
from webui.helpdesk.timeline import add_event

INTERVAL_SECONDS = 300


def release_event_reservations(session: Session, actor: Actor, now: datetime) -> list[str]:
    """Release expired reservations; note each freed event prefix on its WO's timeline."""
    freed = set(release_expired(session, actor, now).prefixes)
    noted = []
    for wo in session.scalars(select(WorkOrder).where(
            WorkOrder.type == "kegiatan_insidentil").order_by(WorkOrder.id)):
        held = (wo.details or {}).get("reservation") or {}
        if held.get("prefix") in freed and not held.get("released_at"):
            wo.details = {**wo.details, "reservation": {**held, "released_at": now.isoformat()}}
            add_event(session, wo, actor, role="system", kind="release", action="release",
                      from_state=wo.state, to_state=wo.state, now=now,
                      comment=f"{held['prefix']} released after the event")
            noted.append(wo.number)
    return noted


class EscalationService:
    """Every few minutes, escalate overdue work orders (one transaction per run)."""

    name = "helpdesk-escalation"

    def __init__(self, app: AppContext, interval: float = INTERVAL_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Escalate what is overdue now; return how many work orders were raised."""
        actor, now = Actor.system(self.name), utcnow()
        config = load_helpdesk_config()
        with self.app.db.session() as session:
            numbers = [wo.number for wo in escalate_overdue(session, actor, now, config.sla,
                                                            config.mailer)]
            released = release_event_reservations(session, actor, now)
        if numbers:
            logger.bind(task=self.name).info("escalated {}", ", ".join(numbers))
        if released:
            logger.bind(task=self.name).info("event reservations released: {}",
                                             ", ".join(released))
        return len(numbers)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception as exc:  # keep the loop alive; the next run retries
                logger.bind(task=self.name).opt(exception=exc).error("escalation failed")

    def start(self) -> None:
        """Start the loop in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for a running pass to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def background_services(app: AppContext) -> list[EscalationService]:
    """The helpdesk's background services for ``simpul up``."""
    return [EscalationService(app)]
