"""Work-order operations: one function per thing a person does, the same for API and pages.

Every function takes the acting ``User`` (role and OPD decide what they may see and do)
and changes data only after every check passed; the changes of one call, its timeline
event and its audit entry share the caller's transaction. A requester sees only their
own OPD's work orders (others answer "not found", as if they did not exist); Diskominfo
staff see all, and act only in the roles the machines give them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from simpul.audit import Actor
from simpul.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from simpul.models import Opd, User, utcnow
from simpul.tenancy import require_opd
from webui.helpdesk.domains import REGENCY_DOMAIN
from webui.helpdesk.fields import clean_action_fields, clean_intake
from webui.helpdesk.hooks import HOOKS, check_new_mac, pick_domain
from webui.helpdesk.machines import WORKFLOWS
from webui.helpdesk.models import WorkOrder, aware
from webui.helpdesk.notify import Mailer, notify
from webui.helpdesk.sla import DEFAULT_TABLE, pause_clock, resume_clock, target
from webui.helpdesk.timeline import add_event
from webui.helpdesk.workflows import (
    HELPDESK,
    REQUESTER,
    STAFF_ROLES,
    Context,
    Transition,
    Workflow,
)

NOT_DETAILS = frozenset({"comment", "reason"})


@dataclass(frozen=True)
class HelpdeskConfig:
    """Site settings of the helpdesk: the regency's domain and the SLA table."""

    regency_domain: str = REGENCY_DOMAIN
    sla: Mapping[tuple[str, str], timedelta] = field(default_factory=lambda: DEFAULT_TABLE)
    mailer: Mailer = field(default_factory=Mailer)


DEFAULT_CONFIG = HelpdeskConfig()


def is_staff(user: User) -> bool:
    """True for Diskominfo staff (any role but requester), who see every OPD's WOs."""
    return user.role != REQUESTER and user.is_operator_staff


def workflow_role(user: User) -> str | None:
    """Return the SOP role *user* acts in, or None (admin, NOC, security only watch)."""
    if user.role == REQUESTER:
        return REQUESTER
    if user.role in STAFF_ROLES and user.is_operator_staff:
        return user.role
    return None


def workflow_of(wo: WorkOrder) -> Workflow:
    """Return the machine of *wo*'s type."""
    return WORKFLOWS[wo.type]


def context_for(wo: WorkOrder, now: datetime) -> Context:
    """Return the facts guards look at for *wo* at *now*."""
    return Context(requester_class=wo.requester_class, letter_ref=wo.letter_ref or "",
                   details=dict(wo.details or {}), resolved_at=aware(wo.resolved_at), now=now)


def actor_for(user: User, channel: str) -> Actor:
    """Return the audit Actor of *user* acting through *channel* (web, api)."""
    return Actor.for_user(user, channel)


def create_work_order(session: Session, user: User, *, type: str, title: str,
                      description: str = "", priority: str = "normal",
                      details: Any = None, requester_class: str = "umum",
                      vvip_title: str = "", letter_ref: str = "", channel: str | None = None,
                      opd_code: str | None = None, requester_name: str = "",
                      now: datetime | None = None, config: HelpdeskConfig = DEFAULT_CONFIG,
                      via: str = "web") -> WorkOrder:
    """File a WO: a requester for their own OPD, or Help Desk on someone's behalf.

    Help Desk logs walk-in and phone complaints and VVIP requests (Bupati, Wakil Bupati,
    Sekda, Asisten); only Help Desk may mark a request VVIP.

    Raises:
        PermissionDeniedError: the role files no work orders.
        ValidationError: bad fields, keyed by field.
        ConflictError: a domain name already given out.
    """
    now = now or utcnow()
    role = workflow_role(user)
    if role not in (REQUESTER, HELPDESK):
        raise PermissionDeniedError(f"role {user.role!r} does not file work orders")
    errors: dict[str, list[str]] = {}
    wf = WORKFLOWS.get(type)
    if wf is None:
        errors["type"] = [f"one of: {', '.join(WORKFLOWS)}"]
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        errors["title"] = ["required, at most 200 characters"]
    if role == REQUESTER:
        if opd_code and opd_code.upper() != user.opd.code:
            errors["opd"] = ["a requester files for their own OPD"]
        if requester_class != "umum":
            errors["requester_class"] = ["only Help Desk records VVIP requests"]
        opd: Opd = user.opd
        channel = channel or "web"
    else:
        if not opd_code:
            errors["opd"] = ["required when Help Desk files on someone's behalf"]
        channel = channel or "walk_in"
    if errors:
        raise ValidationError(f"{next(iter(errors))}: {next(iter(errors.values()))[0]}",
                              errors=errors)
    assert wf is not None
    if role == HELPDESK:
        opd = require_opd(session, str(opd_code))
    cleaned = clean_intake(wf.type, details if details is not None else {},
                           requester_class=requester_class, vvip_title=vvip_title,
                           priority=priority, channel=channel)
    if wf.type == "domain":
        cleaned["fqdn"] = pick_domain(session, cleaned["kind"], cleaned["name"],
                                      cleaned.get("suffix", ""), config.regency_domain)
    if wf.type == "pendaftaran_perangkat":
        cleaned["mac"] = check_new_mac(session, cleaned["mac"])
    wo = WorkOrder(type=wf.type, priority=priority, title=title.strip(),
                   description=str(description or ""), opd_id=opd.id,
                   requester_id=user.id if role == REQUESTER else None,
                   requester_name=requester_name or (user.full_name or user.username
                                                     if role == REQUESTER else ""),
                   created_by_id=user.id, channel=channel, requester_class=requester_class,
                   vvip_title=vvip_title if requester_class == "vvip" else "",
                   letter_ref=str(letter_ref or "")[:200], details=cleaned)
    return _file(session, wo, wf, actor_for(user, via), role=role, comment=wo.title,
                 audit_after={"type": wo.type, "opd": opd.code, "priority": priority},
                 text=f"new {wo.type} work order from {opd.code}", now=now, config=config)


def _file(session: Session, wo: WorkOrder, wf: Workflow, actor: Actor, *, role: str,
          comment: str, audit_after: dict[str, Any], text: str, now: datetime,
          config: HelpdeskConfig) -> WorkOrder:
    """Put a new WO at its machine's start with its SLA clock, timeline entry and notice."""
    wo.state, wo.holder_role = wf.initial, wf.state(wf.initial).holder
    wo.sla_due_at = now + target(wf.type, wo.priority, config.sla)
    wo.sla_paused_seconds, wo.escalation_level = 0, 0
    wo.created_at = wo.updated_at = now
    session.add(wo)
    session.flush()
    add_event(session, wo, actor, role=role, kind="create", action="create",
              to_state=wo.state, comment=comment, now=now, audit_after=audit_after)
    notify(session, wo, text, mailer=config.mailer, now=now)
    return wo


def open_follow_up(session: Session, actor: Actor, parent: WorkOrder, *, type_: str,
                   title: str, details: dict[str, Any], now: datetime,
                   config: HelpdeskConfig = DEFAULT_CONFIG) -> WorkOrder:
    """Open the WO an approval implies (colocation -> its IP request) for the same OPD.

    Filed by the system on the OPD's behalf with the parent's letter and requester, so
    it starts at Help Desk like any other; both WOs name each other.

    Raises:
        ValidationError: *details* do not satisfy the type's intake.
    """
    wf = WORKFLOWS[type_]
    cleaned = clean_intake(type_, details, requester_class=parent.requester_class,
                           vvip_title=parent.vvip_title, priority=parent.priority,
                           channel="web")
    cleaned["colocation"] = parent.number
    wo = WorkOrder(type=type_, priority=parent.priority, title=title[:200],
                   description=f"{parent.number}: {parent.title}"[:5000], opd_id=parent.opd_id,
                   requester_id=parent.requester_id, requester_name=parent.requester_name,
                   created_by_id=actor.user_id, channel="web",
                   requester_class=parent.requester_class, vvip_title=parent.vvip_title,
                   letter_ref=parent.letter_ref, details=cleaned)
    return _file(session, wo, wf, actor, role=HELPDESK, comment=f"opened by {parent.number}",
                 audit_after={"type": type_, "parent": parent.number},
                 text=f"new {type_} work order opened by {parent.number}", now=now,
                 config=config)


def load_visible(session: Session, user: User, wo_id: int, *, lock: bool = False
                 ) -> WorkOrder:
    """Return the WO if *user* may see it (locked for update when asked), else 404."""
    stmt = select(WorkOrder).where(WorkOrder.id == wo_id)
    if lock:  # serialise desks acting on one WO (PostgreSQL; SQLite's writer lock does it)
        stmt = stmt.with_for_update(of=WorkOrder).execution_options(populate_existing=True)
    wo = session.scalars(stmt).unique().one_or_none()
    if wo is None or not (is_staff(user) or wo.opd_id == user.opd_id):
        raise NotFoundError(f"work order {wo_id} does not exist",
                            errors={"id": ["not found"]})
    return wo


def get_work_order(session: Session, user: User, wo_id: int) -> WorkOrder:
    """Return the WO if *user* may see it, else raise NotFoundError (never 403: no leak)."""
    return load_visible(session, user, wo_id)


def list_work_orders(session: Session, user: User, *, type: str | None = None,
                     state: str | None = None, opd_code: str | None = None,
                     assigned: str | None = None, overdue: bool | None = None,
                     now: datetime | None = None) -> Select[Any]:
    """Return the query of the WOs *user* may see, filtered, newest first.

    ``assigned`` is ``me`` (assigned to the caller) or a role (the desk holding the WO).
    """
    now = now or utcnow()
    stmt = select(WorkOrder).order_by(WorkOrder.id.desc())
    if not is_staff(user):
        stmt = stmt.where(WorkOrder.opd_id == user.opd_id)
    if type:
        stmt = stmt.where(WorkOrder.type == type)
    if state:
        stmt = stmt.where(WorkOrder.state == state)
    if opd_code:
        stmt = stmt.join(Opd, Opd.id == WorkOrder.opd_id).where(Opd.code == opd_code.upper())
    if assigned == "me":
        stmt = stmt.where(WorkOrder.assignee_id == user.id)
    elif assigned:
        stmt = stmt.where(WorkOrder.holder_role == assigned)
    if overdue is not None:
        late = (WorkOrder.closed_at.is_(None) & WorkOrder.sla_paused_at.is_(None)
                & (WorkOrder.sla_due_at < now))
        stmt = stmt.where(late if overdue else ~late)
    return stmt


def allowed_actions(wo: WorkOrder, user: User, now: datetime | None = None) -> list[Transition]:
    """Return what *user* may fire on *wo* now (guards checked)."""
    role = workflow_role(user)
    if role is None:
        return []
    return workflow_of(wo).available(wo.state, role, context_for(wo, now or utcnow()))


def transition(session: Session, user: User, wo_id: int, action: str,
               fields: Mapping[str, Any] | None = None, *, now: datetime | None = None,
               expected_version: int | None = None, via: str = "web",
               config: HelpdeskConfig = DEFAULT_CONFIG) -> WorkOrder:
    """Fire *action* on a WO: check, run the inventory hook, move, log, audit, notify.

    Raises:
        NotFoundError: the WO does not exist or is another OPD's.
        PermissionDeniedError: the caller's role may not fire it.
        ConflictError: not possible in this state, a stale ``expected_version``, or the
            inventory had no room; nothing was written.
        ValidationError: missing or bad fields; nothing was written.
    """
    now = now or utcnow()
    raw = dict(fields or {})
    wo = load_visible(session, user, wo_id, lock=True)
    role = workflow_role(user)
    if role is None:
        raise PermissionDeniedError(f"role {user.role!r} takes no part in the work-order flow")
    wf = workflow_of(wo)
    t = wf.check(wo.state, role, action, raw, context_for(wo, now))
    cleaned = clean_action_fields(action, t.requires, raw, t.optional)
    if expected_version is not None and expected_version != wo.version:
        raise ConflictError(f"{wo.number} changed meanwhile (version {wo.version}, you saw "
                            f"{expected_version}); reload it", errors={"version": ["stale"]})
    try:
        _apply(session, user, wo, wf, t, cleaned, role, now, via)
    except StaleDataError:
        raise ConflictError(f"{wo.number} was changed by someone else at the same time; "
                            "reload it", errors={"version": ["stale"]}) from None
    notify(session, wo, f"{action} by {user.username}: now {wo.state}", mailer=config.mailer,
           now=now, include_requester=wf.state(wo.state).final)
    return wo


def _apply(session: Session, user: User, wo: WorkOrder, wf: Workflow, t: Transition,
           cleaned: dict[str, Any], role: str, now: datetime, via: str) -> None:
    """Run the hook and move the WO inside a savepoint: all of it or none of it."""
    action = t.action
    with session.begin_nested():
        hook = HOOKS.get((wo.type, action))
        added = hook(session, actor_for(user, via), wo, cleaned, now) if hook else {}
        facts = {k: v for k, v in cleaned.items() if k not in NOT_DETAILS}
        wo.details = {**(wo.details or {}), **facts, **added}
        _move(wo, wf, t, now)
        add_event(session, wo, actor_for(user, via), role=role, kind="transition", action=action,
                  from_state=t.source, to_state=t.target,
                  comment=str(cleaned.get("reason") or cleaned.get("comment") or ""),
                  data={**facts, **added} or None, now=now,
                  audit_before={"state": t.source})
        session.flush()


def _move(wo: WorkOrder, wf: Workflow, t: Transition, now: datetime) -> None:
    """Set state, holder, assignee and the SLA clock for the transition *t*."""
    old, new = wf.state(t.source), wf.state(t.target)
    wo.state = new.name
    if new.holder != wo.holder_role:
        wo.assignee_id = None  # handed to another desk: it assigns its own person
    wo.holder_role = new.holder
    if new.waits_on_requester:
        pause_clock(wo, now, "waiting for the requester's confirmation")
    elif old.waits_on_requester or new.final:
        resume_clock(wo, now)
    if new.name == "resolved":
        wo.resolved_at = now
    elif old.name == "resolved" and not new.final:
        wo.resolved_at = None  # reopened
    if new.final:
        wo.closed_at = now


def attach_letter(session: Session, user: User, wo_id: int, letter_ref: str, *,
                  now: datetime | None = None, via: str = "web") -> WorkOrder:
    """Record the signed letter (number or attachment id) of an Umum request at intake.

    Raises:
        PermissionDeniedError: neither the requester's OPD nor Help Desk.
        ConflictError: the WO was already issued (the letter is checked at issue).
    """
    now = now or utcnow()
    role = workflow_role(user)
    if role not in (REQUESTER, HELPDESK):
        raise PermissionDeniedError("only the requester or Help Desk records the letter")
    if not isinstance(letter_ref, str) or not letter_ref.strip() or len(letter_ref) > 200:
        raise ValidationError("letter_ref must be 1-200 characters",
                              errors={"letter_ref": ["1-200 characters"]})
    wo = load_visible(session, user, wo_id, lock=True)
    if wo.state != workflow_of(wo).initial:
        raise ConflictError(f"{wo.number} is already issued; its letter can no longer change",
                            errors={"letter_ref": ["already issued"]})
    before = wo.letter_ref
    wo.letter_ref = letter_ref.strip()
    add_event(session, wo, actor_for(user, via), role=role, kind="letter", action="letter",
              from_state=wo.state, to_state=wo.state, comment=wo.letter_ref, now=now,
              audit_before={"letter_ref": before}, audit_after={"letter_ref": wo.letter_ref})
    return wo


def _staff_role(user: User) -> str:
    role = workflow_role(user)
    if role is None or role == REQUESTER:
        raise PermissionDeniedError("only Diskominfo staff in the work-order flow may do this")
    return role


def add_comment(session: Session, user: User, wo_id: int, text: str, *,
                now: datetime | None = None, via: str = "web") -> WorkOrder:
    """Add a comment to the timeline (requesters on their own OPD's WOs, staff on all)."""
    now = now or utcnow()
    if not isinstance(text, str) or not text.strip() or len(text) > 5000:
        raise ValidationError("comment must be 1-5000 characters",
                              errors={"comment": ["1-5000 characters"]})
    wo = load_visible(session, user, wo_id)
    add_event(session, wo, actor_for(user, via), role=workflow_role(user) or user.role,
              kind="comment", action="comment", from_state=wo.state, to_state=wo.state,
              comment=text.strip(), now=now)
    return wo


def assign(session: Session, user: User, wo_id: int, username: str, *,
           now: datetime | None = None, via: str = "web") -> WorkOrder:
    """Give the WO to one person of the desk holding it (Help Desk or that desk).

    Raises:
        ValidationError: unknown user, or not of the holding desk's role.
    """
    now = now or utcnow()
    role = _staff_role(user)
    wo = load_visible(session, user, wo_id, lock=True)
    if role not in (HELPDESK, wo.holder_role):
        raise PermissionDeniedError(f"role {role!r} may not assign a WO held by "
                                    f"{wo.holder_role!r}")
    person = session.scalar(select(User).where(User.username == username))
    if person is None or not person.is_active or workflow_role(person) != wo.holder_role:
        raise ValidationError(f"{username!r} is not an active {wo.holder_role} staff member",
                              errors={"assignee": [f"must be {wo.holder_role} staff"]})
    before = wo.assignee_id
    wo.assignee_id = person.id
    add_event(session, wo, actor_for(user, via), role=role, kind="assign", action="assign",
              from_state=wo.state, to_state=wo.state, comment=person.username, now=now,
              data={"assignee": person.username}, audit_before={"assignee_id": before},
              audit_after={"assignee_id": person.id})
    return wo


def pause_sla(session: Session, user: User, wo_id: int, reason: str, *,
              now: datetime | None = None, via: str = "web") -> WorkOrder:
    """Stop the WO's SLA clock while a desk waits on the requester (reason required)."""
    now = now or utcnow()
    role = _staff_role(user)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("a pause needs a reason", errors={"reason": ["required"]})
    wo = load_visible(session, user, wo_id, lock=True)
    if wo.closed_at is not None or not pause_clock(wo, now, reason.strip()):
        raise ConflictError(f"the SLA clock of {wo.number} is not running")
    add_event(session, wo, actor_for(user, via), role=role, kind="sla", action="pause",
              from_state=wo.state, to_state=wo.state, comment=reason.strip(), now=now)
    return wo


def resume_sla(session: Session, user: User, wo_id: int, *, now: datetime | None = None,
               via: str = "web") -> WorkOrder:
    """Restart a paused SLA clock (not while the WO itself waits on the requester)."""
    now = now or utcnow()
    role = _staff_role(user)
    wo = load_visible(session, user, wo_id, lock=True)
    if workflow_of(wo).state(wo.state).waits_on_requester:
        raise ConflictError(f"{wo.number} is waiting for the requester's confirmation")
    if not resume_clock(wo, now):
        raise ConflictError(f"the SLA clock of {wo.number} is not paused")
    add_event(session, wo, actor_for(user, via), role=role, kind="sla", action="resume",
              from_state=wo.state, to_state=wo.state, now=now)
    return wo
