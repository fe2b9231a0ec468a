"""Incidents: alerts grouped per entity, with status, assignee, notes and notification.

One service function per operation (``file_alerts``, ``update_incident``,
``incidents_query``, ``require_incident``), used by the writer, the API, the pages and
the tests alike.

Grouping: an alert joins the open (not closed) incident of the same entity seen in the
last ``GROUP_WINDOW``; otherwise it opens a new one. The incident's severity is the
highest of its alerts. Infrastructure incidents carry the DRP damage class of
REQUIREMENTS.md: *interruption* while open less than 24 h, *minor* up to 4 days, *major*
beyond, *disaster* only when a person sets it.
"""

from __future__ import annotations

import queue
import smtplib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from loguru import logger
from sqlalchemy import Select, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from siem.detect.alerts import DAMAGE_CLASSES, SEVERITY_RANK, Alert
from siem.errors import SiemError
from siem.models import SiemAlert, SiemIncident
from simpul.errors import ConflictError, NotFoundError, ValidationError

GROUP_WINDOW = timedelta(hours=24)
STATUSES = ("new", "in_progress", "closed")
MAX_NOTE = 4000


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def damage_class_for(incident: SiemIncident, now: datetime | None = None) -> str:
    """The DRP class an open infrastructure incident has reached by duration."""
    if incident.kind != "infrastructure":
        return incident.damage_class or ""
    if incident.damage_class == "disaster":
        return "disaster"
    now = now or datetime.now(UTC)
    end = _utc(incident.closed_at) or now
    start = _utc(incident.first_seen) or now
    age = end - start
    by_age = "interruption" if age < timedelta(hours=24) else (
        "minor" if age <= timedelta(days=4) else "major")
    current = incident.damage_class or "interruption"
    return max(current, by_age, key=DAMAGE_CLASSES.index)


@dataclass(frozen=True)
class Notifier:
    """E-mail for new incidents at or above ``min_severity`` (``SIMPUL_SIEM_SMTP_*``).

    Sending happens on a daemon thread after the incident committed, so a slow or
    absent mail relay never holds up the writer; failures are logged.
    """

    host: str = ""
    port: int = 25
    sender: str = "siem@localhost"
    recipients: tuple[str, ...] = ()
    min_severity: str = "high"

    @property
    def enabled(self) -> bool:
        """Mail is sent only when a relay and recipients are configured."""
        return bool(self.host and self.recipients)

    def message(self, incident: SiemIncident, alert: Alert) -> EmailMessage:
        """The e-mail for a new incident."""
        msg = EmailMessage()
        msg["Subject"] = f"[simpul SIEM] {incident.severity.upper()}: {incident.title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        lines = [f"Incident #{incident.id}: {incident.title}", f"Entity: {incident.entity}",
                 f"Severity: {incident.severity}", f"Rule: {alert.rule_id}"]
        if alert.technique:
            lines.append(f"MITRE ATT&CK: {alert.technique}")
        if incident.damage_class:
            lines.append(f"DRP damage class: {incident.damage_class}")
        lines += ["", alert.summary, "", f"/siem/incidents/{incident.id}"]
        msg.set_content("\n".join(lines))
        return msg


class _MailQueue:
    def __init__(self) -> None:
        self._q: queue.Queue[tuple[Notifier, EmailMessage]] = queue.Queue(maxsize=1000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, notifier: Notifier, msg: EmailMessage) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="siem-mail",
                                                daemon=True)
                self._thread.start()
        try:
            self._q.put_nowait((notifier, msg))
        except queue.Full:
            logger.warning("siem mail queue full; notification dropped")

    def _run(self) -> None:
        while True:
            notifier, msg = self._q.get()
            try:
                with smtplib.SMTP(notifier.host, notifier.port, timeout=10) as smtp:
                    smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as exc:
                logger.warning("siem mail to {} not sent: {}", notifier.host, exc)
            finally:
                self._q.task_done()

    def join(self) -> None:
        self._q.join()


MAIL = _MailQueue()


@dataclass
class _NewIncident:
    """An incident opened by this batch: plain attributes (the same names as the model)
    until one multi-row INSERT stores them all; ORM objects cost more than the insert."""

    title: str
    entity: str
    severity: str
    severity_rank: int
    kind: str
    damage_class: str
    opd: str
    techniques: list[str]
    rules: list[str]
    first_seen: datetime
    last_seen: datetime
    alert_count: int = 0
    status: str = "new"
    assignee: str = ""
    closed_at: datetime | None = None
    id: int | None = None

    def row(self) -> dict[str, object]:
        return {"title": self.title, "entity": self.entity, "severity": self.severity,
                "severity_rank": self.severity_rank, "status": self.status,
                "assignee": self.assignee, "kind": self.kind,
                "damage_class": self.damage_class, "opd": self.opd,
                "techniques": self.techniques, "rules": self.rules,
                "alert_count": self.alert_count, "notes": [], "first_seen": self.first_seen,
                "last_seen": self.last_seen, "closed_at": None, "version": 1}


def file_alerts(session: Session, alerts: Iterable[Alert], *,
                notifier: Notifier | None = None) -> list[int]:
    """Store *alerts*, grouped into incidents per entity; return the ids of the incidents.

    Notifications for new incidents are queued after the caller's commit.
    """
    touched: dict[int, None] = {}
    fresh: list[tuple[_NewIncident, Alert]] = []
    alerts = list(alerts)
    cache: dict[str, SiemIncident | _NewIncident] = {}
    if not alerts:
        return []
    # One query for the open incidents of every entity in the batch (not one per alert).
    oldest = min((_utc(a.when) or datetime.now(UTC)) for a in alerts) - GROUP_WINDOW
    entities = sorted({a.entity[:300] for a in alerts})
    for start in range(0, len(entities), 500):
        for row in session.scalars(
                select(SiemIncident).where(SiemIncident.entity.in_(entities[start:start + 500]),
                                           SiemIncident.status != "closed",
                                           SiemIncident.last_seen >= oldest)
                .order_by(SiemIncident.id)):
            cache[row.entity] = row  # the newest open one wins
    pairs: list[tuple[SiemIncident | _NewIncident, Alert, datetime]] = []
    for alert in alerts:
        when = _utc(alert.when) or datetime.now(UTC)
        incident = cache.get(alert.entity[:300])
        if incident is not None and (_utc(incident.last_seen) or when) < when - GROUP_WINDOW:
            incident = None
        rank = SEVERITY_RANK.get(alert.severity, 2)
        if incident is None:
            incident = _NewIncident(
                title=alert.title[:300], entity=alert.entity[:300], severity=alert.severity,
                severity_rank=rank, kind=alert.kind,
                damage_class=alert.damage_class if alert.kind == "infrastructure" else "",
                opd=alert.opd[:32], techniques=[alert.technique] if alert.technique else [],
                rules=[alert.rule_id], first_seen=when, last_seen=when)
            fresh.append((incident, alert))
        else:
            if rank > (incident.severity_rank or 0):
                incident.severity, incident.severity_rank = alert.severity, rank
                incident.title = alert.title[:300]
            if alert.technique and alert.technique not in incident.techniques:
                incident.techniques = [*incident.techniques, alert.technique]
            if alert.rule_id not in incident.rules:
                incident.rules = [*incident.rules, alert.rule_id]
            if when > (_utc(incident.last_seen) or when):
                incident.last_seen = when
            if alert.kind == "infrastructure":
                incident.kind = "infrastructure"
            if not incident.opd and alert.opd:
                incident.opd = alert.opd[:32]
        incident.alert_count = (incident.alert_count or 0) + 1
        if incident.kind == "infrastructure":
            incident.damage_class = damage_class_for(incident)  # type: ignore[arg-type]
        cache[alert.entity[:300]] = incident
        pairs.append((incident, alert, when))
    if fresh:  # one multi-row INSERT; ids come back in the order of the rows
        table = SiemIncident.__table__
        ids = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [inc.row() for inc, _ in fresh]).scalars().all()
        for (inc, _), new_id in zip(fresh, ids, strict=True):
            inc.id = new_id
    session.flush()  # the incidents that existed (their version is checked)
    session.execute(insert(SiemAlert), [
        {"incident_id": inc.id, "rule_id": a.rule_id[:100], "rule_title": a.title[:300],
         "severity": a.severity, "technique": a.technique[:32], "entity": a.entity[:300],
         "summary": a.summary[:4000], "event_ids": [e for e in a.event_ids if e][:50],
         "created": when} for inc, a, when in pairs])
    for inc, _, _ in pairs:
        touched[inc.id] = None  # type: ignore[index]
    if notifier is not None and notifier.enabled and fresh:
        threshold = SEVERITY_RANK.get(notifier.min_severity, 3)
        messages = [notifier.message(i, a) for i, a in fresh  # type: ignore[arg-type]
                    if SEVERITY_RANK.get(i.severity, 0) >= threshold]
        if messages:
            from sqlalchemy import event as sa_event

            def _send(_session: Session) -> None:
                for msg in messages:
                    MAIL.put(notifier, msg)
            sa_event.listen(session, "after_commit", _send, once=True)
    return list(touched)


def incidents_query(*, status: str | None = None, severity: str | None = None,
                    opd: str | None = None, q: str | None = None,
                    scope_opd: str | None = None) -> Select[tuple[SiemIncident]]:
    """Incidents newest activity first; *scope_opd* limits to one OPD (tenancy)."""
    stmt = select(SiemIncident).order_by(SiemIncident.last_seen.desc(), SiemIncident.id.desc())
    if status:
        if status == "open":
            stmt = stmt.where(SiemIncident.status != "closed")
        elif status in STATUSES:
            stmt = stmt.where(SiemIncident.status == status)
        else:
            raise ValidationError("status must be new, in_progress, closed or open",
                                  errors={"status": ["new, in_progress, closed or open"]})
    if severity:
        if severity not in SEVERITY_RANK:
            raise ValidationError(f"unknown severity {severity!r}",
                                  errors={"severity": ["unknown"]})
        stmt = stmt.where(SiemIncident.severity_rank >= SEVERITY_RANK[severity])
    if opd:
        stmt = stmt.where(SiemIncident.opd == opd)
    if scope_opd is not None:
        stmt = stmt.where(SiemIncident.opd == scope_opd)
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(or_(SiemIncident.title.ilike(like), SiemIncident.entity.ilike(like)))
    return stmt


def require_incident(session: Session, incident_id: int, *, scope_opd: str | None = None
                     ) -> SiemIncident:
    """Return the incident or raise NotFoundError (also for another OPD's incident)."""
    incident = session.get(SiemIncident, incident_id)
    if incident is None or (scope_opd is not None and incident.opd != scope_opd):
        raise NotFoundError(f"incident {incident_id} not found")
    return incident


def incident_alerts(session: Session, incident: SiemIncident) -> list[SiemAlert]:
    """The incident's alerts, oldest first."""
    return list(session.scalars(select(SiemAlert).where(SiemAlert.incident_id == incident.id)
                                .order_by(SiemAlert.id)))


def update_incident(session: Session, incident: SiemIncident, *, actor: str,
                    status: str | None = None, assignee: str | None = None,
                    note: str | None = None, damage_class: str | None = None) -> SiemIncident:
    """Change status, assignee or damage class and/or add a note, recording who did it.

    Raises:
        ValidationError: an unknown status or damage class, an empty or too long note.
    """
    now = datetime.now(UTC)
    changes: list[str] = []
    if status is not None:
        if status not in STATUSES:
            raise ValidationError("status must be new, in_progress or closed",
                                  errors={"status": ["new, in_progress or closed"]})
        if status != incident.status:
            changes.append(f"status {incident.status} -> {status}")
            incident.status = status
            incident.closed_at = now if status == "closed" else None
    if assignee is not None:
        assignee = assignee.strip()[:64]
        if assignee != incident.assignee:
            changes.append(f"assignee -> {assignee or '(nobody)'}")
            incident.assignee = assignee
    if damage_class is not None:
        if damage_class not in (*DAMAGE_CLASSES, ""):
            raise ValidationError("damage_class must be interruption, minor, major or "
                                  "disaster", errors={"damage_class": ["unknown class"]})
        if damage_class != incident.damage_class:
            changes.append(f"damage class -> {damage_class or '(none)'}")
            incident.damage_class = damage_class
    notes = list(incident.notes or [])
    if note is not None:
        text = note.strip()
        if not text:
            raise ValidationError("note is empty", errors={"note": ["empty"]})
        if len(text) > MAX_NOTE:
            raise ValidationError(f"note is longer than {MAX_NOTE} characters",
                                  errors={"note": ["too long"]})
        notes.append({"time": now.isoformat(timespec="seconds"), "by": actor, "text": text})
    if changes:
        notes.append({"time": now.isoformat(timespec="seconds"), "by": actor,
                      "text": "; ".join(changes), "system": True})
    if not changes and note is None:
        raise SiemError("nothing to change")
    incident.notes = notes
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"incident {incident.id} changed meanwhile (a new alert or "
                            "another analyst); reload and try again") from None
    return incident
