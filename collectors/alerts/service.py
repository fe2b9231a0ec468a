"""Alert service functions: list, acknowledge, resolve alerts; manage maintenance windows.

Tenancy: Diskominfo staff see every alert and window; an OPD user sees the alerts of
their OPD's services and devices (another OPD's id answers "not found"). Only NOC,
Infrastruktur, data-centre staff and admins of Diskominfo change anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from collectors.alerts.models import (
    ALERT_STATES,
    MAINTENANCE_SCOPES,
    SEVERITIES,
    Alert,
    AlertSignal,
    MaintenanceWindow,
)
from collectors.alerts.notify import Notice
from collectors.alerts.sources import Where
from inventory.service import audit, snapshot
from simpul.audit import Actor
from simpul.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from simpul.models import User, utcnow
from simpul.tenancy import get_opd

OPERATOR_ROLES = ("admin", "noc", "infrastructure", "datacenter")


def can_operate(user: User | None) -> bool:
    """True for the CLI (None) and Diskominfo NOC/Infrastruktur/DC staff and admins."""
    return user is None or (user.is_operator_staff and user.role in OPERATOR_ROLES)


def _require_operator(user: User | None) -> None:
    if not can_operate(user):
        raise PermissionDeniedError("only NOC, Infrastruktur, data-centre staff or an admin "
                                    "may do this")


def alerts_query(user: User | None = None, *, state: str | None = None,
                 severity: str | None = None, rule: str | None = None,
                 opd_id: int | None = None, open_only: bool = False) -> Select[tuple[Alert]]:
    """Alerts *user* may see, newest first, optionally filtered."""
    stmt = select(Alert).order_by(Alert.fired_at.desc(), Alert.id.desc())
    if user is not None and not user.is_operator_staff:
        stmt = stmt.where(Alert.opd_id == user.opd_id)
    if state:
        if state not in ALERT_STATES:
            raise ValidationError(f"state must be one of {', '.join(ALERT_STATES)}",
                                  errors={"state": ["unknown"]})
        stmt = stmt.where(Alert.state == state)
    if open_only:
        stmt = stmt.where(Alert.state != "resolved")
    if severity:
        if severity not in SEVERITIES:
            raise ValidationError(f"severity must be one of {', '.join(SEVERITIES)}",
                                  errors={"severity": ["unknown"]})
        stmt = stmt.where(Alert.severity == severity)
    if rule:
        stmt = stmt.where(Alert.rule == rule)
    if opd_id is not None:
        stmt = stmt.where(Alert.opd_id == opd_id)
    return stmt


def list_alerts(session: Session, user: User | None = None, **filters: Any) -> Sequence[Alert]:
    """Return visible alerts (see alerts_query for the filters)."""
    return session.scalars(alerts_query(user, **filters)).unique().all()


def require_alert(session: Session, alert_id: int, user: User | None = None) -> Alert:
    """Return the alert or raise NotFoundError (also when *user* may not see it)."""
    alert = session.get(Alert, alert_id)
    if alert is None or (user is not None and not user.is_operator_staff
                         and alert.opd_id != user.opd_id):
        raise NotFoundError(f"alert {alert_id} does not exist", errors={"alert": ["not found"]})
    return alert


def notice_of(alert: Alert, event: str) -> Notice:
    """The notice describing *alert* after *event*."""
    return Notice(event, alert.id, alert.rule, alert.kind, alert.severity, alert.state,
                  alert.title, alert.details, alert.entity, alert.device, alert.site,
                  alert.service, alert.opd.code if alert.opd else "", alert.value,
                  alert.fired_at, alert.resolved_at, alert.flapping)


def acknowledge_alert(session: Session, actor: Actor, alert: Alert, *, user: User | None = None,
                      note: str = "", now: datetime | None = None) -> Notice:
    """Mark an open alert as being worked on (it still resolves by itself when clear).

    Raises:
        ConflictError: the alert is already resolved.
    """
    _require_operator(user)
    if alert.state == "resolved":
        raise ConflictError(f"alert {alert.id} is already resolved")
    before = snapshot(alert)
    alert.state = "acknowledged"
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_by = actor.name[:64]
    if note:
        alert.note = note[:1000]
    audit(session, actor, "acknowledge", alert, before=before)
    return notice_of(alert, "acknowledged")


def resolve_alert(session: Session, actor: Actor, alert: Alert, *, user: User | None = None,
                  note: str = "", now: datetime | None = None) -> Notice:
    """Close an alert by hand; if its condition still holds it does not re-fire until clear.

    Raises:
        ConflictError: the alert is already resolved.
    """
    _require_operator(user)
    if alert.state == "resolved":
        raise ConflictError(f"alert {alert.id} is already resolved")
    before = snapshot(alert)
    alert.state = "resolved"
    alert.resolved_at = now or utcnow()
    alert.resolved_by = actor.name[:64]
    if note:
        alert.note = note[:1000]
    signal = session.scalar(select(AlertSignal).where(AlertSignal.dedup_key == alert.dedup_key))
    if signal is not None:
        signal.hold_until_clear = signal.breached
    audit(session, actor, "resolve", alert, before=before)
    return notice_of(alert, "resolved")


# --- maintenance windows -------------------------------------------------------------------

def maintenance_query(user: User | None = None, *, active_at: datetime | None = None,
                      upcoming_after: datetime | None = None) -> Select[tuple[MaintenanceWindow]]:
    """Windows *user* may see; active at a time, or not yet over after a time."""
    stmt = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at.desc(),
                                              MaintenanceWindow.id.desc())
    if user is not None and not user.is_operator_staff:
        stmt = stmt.where(MaintenanceWindow.opd_id == user.opd_id)
    if active_at is not None:
        stmt = stmt.where(MaintenanceWindow.starts_at <= active_at,
                          MaintenanceWindow.ends_at > active_at)
    if upcoming_after is not None:
        stmt = stmt.where(MaintenanceWindow.ends_at > upcoming_after)
    return stmt


def list_maintenance(session: Session, user: User | None = None, **filters: Any
                     ) -> Sequence[MaintenanceWindow]:
    """Return visible maintenance windows."""
    return session.scalars(maintenance_query(user, **filters)).all()


def _aware(name: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{name} is not an ISO date-time",
                                  errors={name: ["ISO 8601 date-time"]}) from None
    if not isinstance(value, datetime):
        raise ValidationError(f"{name} is required", errors={name: ["required"]})
    if value.tzinfo is None:
        raise ValidationError(f"{name} needs a time zone (e.g. +07:00)",
                              errors={name: ["needs a time zone offset"]})
    return value.astimezone(UTC)  # SQLite keeps wall time only: store every instant in UTC


def create_maintenance(session: Session, actor: Actor, *, scope: str, target: str,
                       starts_at: Any, ends_at: Any, reason: str = "",
                       user: User | None = None) -> MaintenanceWindow:
    """Plan a window in which alerts of *scope* = *target* are recorded but not notified.

    Raises:
        ValidationError: unknown scope, empty target, end not after start, no time zone.
    """
    _require_operator(user)
    errors: dict[str, list[str]] = {}
    if scope not in MAINTENANCE_SCOPES:
        errors["scope"] = [f"one of {', '.join(MAINTENANCE_SCOPES)}"]
    target = str(target or "").strip()
    if not target:
        errors["target"] = ["required"]
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"maintenance {first}: {errors[first][0]}", errors=errors)
    start, end = _aware("starts_at", starts_at), _aware("ends_at", ends_at)
    if end <= start:
        raise ValidationError("maintenance must end after it starts",
                              errors={"ends_at": ["after starts_at"]})
    opd_id = None
    if scope == "opd":
        opd = get_opd(session, target)
        if opd is None:
            raise ValidationError(f"unknown OPD {target!r}", errors={"target": ["unknown OPD"]})
        target, opd_id = opd.code, opd.id
    window = MaintenanceWindow(scope=scope, target=target, starts_at=start, ends_at=end,
                               reason=str(reason or "")[:500], created_by=actor.name[:64],
                               opd_id=opd_id)
    session.add(window)
    session.flush()
    audit(session, actor, "create", window)
    return window


def require_maintenance(session: Session, window_id: int, user: User | None = None
                        ) -> MaintenanceWindow:
    """Return the window or raise NotFoundError."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None or (user is not None and not user.is_operator_staff
                          and window.opd_id != user.opd_id):
        raise NotFoundError(f"maintenance window {window_id} does not exist")
    return window


def delete_maintenance(session: Session, actor: Actor, window: MaintenanceWindow, *,
                       user: User | None = None) -> None:
    """Cancel a maintenance window."""
    _require_operator(user)
    audit(session, actor, "delete", window, before=snapshot(window), deleted=True)
    session.delete(window)


def covers(window: MaintenanceWindow, where: Where) -> bool:
    """True when *window* applies to an entity at *where*."""
    value = {"device": where.device, "site": where.site, "opd": where.opd,
             "service": where.service}.get(window.scope, "")
    return bool(value) and value.lower() == window.target.lower()


def in_maintenance(windows: Sequence[MaintenanceWindow], where: Where) -> MaintenanceWindow | None:
    """The first of *windows* covering *where*, or None."""
    return next((w for w in windows if covers(w, where)), None)


def open_alert_counts(session: Session, user: User | None = None) -> dict[str, int]:
    """Open alerts per severity (for the NOC tiles)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for alert in session.scalars(alerts_query(user, open_only=True)).unique():
        counts[alert.severity] = counts.get(alert.severity, 0) + 1
    return counts


def search_filter(stmt: Select[tuple[Alert]], q: str) -> Select[tuple[Alert]]:
    """Narrow *stmt* to alerts whose title, entity or device contains *q*."""
    like = f"%{q.strip()}%"
    return stmt.where(or_(Alert.title.ilike(like), Alert.entity.ilike(like),
                          Alert.device.ilike(like)))
