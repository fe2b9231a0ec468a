"""The work-order state machines as data, and the pure engine that fires them.

Each work-order type is one ``Workflow``: named states (who holds the WO in each, which
are final, which wait on the requester) and transitions (action, from, to, which SOP
roles may fire it, which fields it needs, which guards must hold). Nothing here touches
the database, so the same rules drive the service layer, the API's "allowed actions",
the ``/types/`` document and the property-based tests.

The refusal order is fixed and each has its own status: an action the type does not
know (400), an action not possible in this state (409), a role that may not fire it
(403), a missing field (400), then the named guards (400 or 409).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simpul.errors import ConflictError, PermissionDeniedError, SimpulError, ValidationError

REQUESTER = "requester"
HELPDESK = "helpdesk"
IT_SUPPORT = "it_support"
INFRASTRUCTURE = "infrastructure"
DATACENTER = "datacenter"
LEADERSHIP = "leadership"
STAFF_ROLES = (HELPDESK, IT_SUPPORT, INFRASTRUCTURE, DATACENTER, LEADERSHIP)
WORKFLOW_ROLES = (REQUESTER, *STAFF_ROLES)
# The only actions a requester may ever fire; everything else is staff work.
REQUESTER_ACTIONS = frozenset({"confirm", "reopen"})

REOPEN_WINDOW = timedelta(days=7)
SETUP_WINDOW = timedelta(hours=48)  # SOP: set-up within 2 x 24 hours ...
MAX_REMINDERS = 3  # ... up to 3 times, then a notification letter


@dataclass(frozen=True)
class State:
    """A state: who holds the WO there (None when final) and whether the clock waits."""

    name: str
    label: Any
    holder: str | None
    final: bool = False
    waits_on_requester: bool = False


@dataclass(frozen=True)
class Transition:
    """One arrow of the machine: *action* moves *source* to *target* for *roles*."""

    action: str
    source: str
    target: str
    roles: frozenset[str]
    requires: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # fields this type's action may carry beyond the shared ones


@dataclass(frozen=True)
class Context:
    """What guards may look at: the WO's facts at the moment of firing."""

    requester_class: str = "umum"
    letter_ref: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    resolved_at: datetime | None = None
    now: datetime | None = None


Guard = Callable[[Context, Mapping[str, Any]], SimpulError | None]


def _letter_unless_vvip(ctx: Context, _fields: Mapping[str, Any]) -> SimpulError | None:
    # SOP 2.1.1: Umum requests need a letter or nota dinas signed by the OPD head.
    if ctx.requester_class == "vvip" or ctx.letter_ref.strip():
        return None
    return ValidationError("an Umum request needs the signed letter (surat / nota dinas) "
                           "before a WO is issued", errors={"letter_ref": ["required for Umum"]})


def _vvip_only(ctx: Context, _fields: Mapping[str, Any]) -> SimpulError | None:
    if ctx.requester_class == "vvip":
        return None
    return ConflictError("only VVIP requests are handled directly by Help Desk",
                         errors={"action": ["VVIP only"]})


def _since_resolved(ctx: Context) -> timedelta | None:
    if ctx.resolved_at is None or ctx.now is None:
        return None
    return ctx.now - ctx.resolved_at


def _within_reopen_window(ctx: Context, _fields: Mapping[str, Any]) -> SimpulError | None:
    age = _since_resolved(ctx)
    if age is not None and age <= REOPEN_WINDOW:
        return None
    return ConflictError(f"a work order can be reopened only within {REOPEN_WINDOW.days} days "
                         "of its resolution", errors={"action": ["reopen window passed"]})


def _reopen_window_passed(ctx: Context, _fields: Mapping[str, Any]) -> SimpulError | None:
    age = _since_resolved(ctx)
    if age is not None and age > REOPEN_WINDOW:
        return None
    return ConflictError(f"the requester has {REOPEN_WINDOW.days} days to confirm; close "
                         "without confirmation only after that", errors={"action": ["too early"]})


def _checks_pass(ctx: Context, _fields: Mapping[str, Any]) -> SimpulError | None:
    checks = ctx.details.get("checks") or {}
    failed = sorted(name for name, ok in checks.items() if ok is not True)
    if checks and not failed:
        return None
    what = ", ".join(failed) if failed else "no checks recorded"
    return ConflictError(f"cannot approve: SOP checks not passed ({what}); reject or return "
                         "for a re-check", errors={"checks": failed or ["missing"]})


def _reminder_due(ctx: Context, _fields: Mapping[str, Any]) -> SimpulError | None:
    sent = int(ctx.details.get("reminders_sent", 0))
    if sent >= MAX_REMINDERS:
        return ConflictError(f"all {MAX_REMINDERS} reminders were sent; send the notification "
                             "letter", errors={"action": ["no reminders left"]})
    due = ctx.details.get("setup_due_at")
    if due and ctx.now is not None and ctx.now < datetime.fromisoformat(due):
        return ConflictError(f"the set-up deadline ({due}) has not passed yet",
                             errors={"action": ["deadline not passed"]})
    return None


GUARDS: dict[str, Guard] = {
    "letter_unless_vvip": _letter_unless_vvip,
    "vvip_only": _vvip_only,
    "within_reopen_window": _within_reopen_window,
    "reopen_window_passed": _reopen_window_passed,
    "checks_pass": _checks_pass,
    "reminder_due": _reminder_due,
}


@dataclass(frozen=True)
class Workflow:
    """The state machine of one work-order type."""

    type: str
    label: Any
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    initial: str = "submitted"
    approval_gate: str | None = None  # the state only Pimpinan's "approve" leaves forward

    def state(self, name: str) -> State:
        """Return the state called *name* (KeyError for an unknown one)."""
        return self.states[name]

    @property
    def actions(self) -> frozenset[str]:
        """Every action name this type knows."""
        return frozenset(t.action for t in self.transitions)

    def transitions_from(self, state: str) -> list[Transition]:
        """Return the transitions leaving *state*, in declaration order."""
        return [t for t in self.transitions if t.source == state]

    def find(self, state: str, action: str) -> Transition | None:
        """Return the transition for *action* out of *state*, or None."""
        return next((t for t in self.transitions_from(state) if t.action == action), None)

    def available(self, state: str, role: str, ctx: Context | None = None) -> list[Transition]:
        """Return what *role* may fire now (guards checked when *ctx* is given)."""
        found = []
        for t in self.transitions_from(state):
            if role not in t.roles:
                continue
            if ctx is not None and any(GUARDS[g](ctx, {}) for g in t.guards):
                continue
            found.append(t)
        return found

    def check(self, state: str, role: str, action: str, fields: Mapping[str, Any],
              ctx: Context) -> Transition:
        """Return the transition *role* fires with *action* from *state*, or raise.

        Raises:
            ValidationError: unknown action, a required field missing, or a guard (400).
            ConflictError: the action is not possible in this state, or a guard (409).
            PermissionDeniedError: the role may not fire it (403).
        """
        if action not in self.actions:
            raise ValidationError(f"unknown action {action!r} for a {self.type} work order",
                                  errors={"action": ["unknown action"]})
        t = self.find(state, action)
        if t is None:
            here = ", ".join(x.action for x in self.transitions_from(state)) or "none"
            raise ConflictError(
                f"action {action!r} is not possible in state {state!r} (role {role!r}); "
                f"possible here: {here}", errors={"action": [f"not possible in {state}"]})
        if role not in t.roles:
            raise PermissionDeniedError(
                f"role {role!r} may not fire {action!r} in state {state!r} "
                f"(only {', '.join(sorted(t.roles))})")
        missing = [name for name in t.requires if _blank(fields.get(name))]
        if missing:
            raise ValidationError(f"{action!r} needs: {', '.join(missing)}",
                                  errors={name: ["required"] for name in missing})
        for name in t.guards:
            error = GUARDS[name](ctx, fields)
            if error is not None:
                raise error
        return t

    def replay(self, steps: Iterable[tuple[str, str, str]]) -> str:
        """Return the state reached by (from_state, action, to_state) steps from the start.

        Raises:
            ValueError: a step does not follow from the previous one.
        """
        current = self.initial
        for source, action, target in steps:
            t = self.find(current, action)
            if source != current or t is None or t.target != target:
                raise ValueError(f"timeline breaks at {source}-{action}->{target} "
                                 f"(machine is in {current})")
            current = target
        return current


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def tr(action: str, source: str | Sequence[str], target: str, *roles: str,
       requires: Sequence[str] = (), guards: Sequence[str] = (),
       optional: Sequence[str] = ()) -> list[Transition]:
    """Build transitions for *action* from one or several sources (declaration helper)."""
    sources = [source] if isinstance(source, str) else list(source)
    return [Transition(action, s, target, frozenset(roles), tuple(requires), tuple(guards),
                       tuple(optional))
            for s in sources]


def reachable(workflow: Workflow) -> set[str]:
    """Return the states reachable from the initial one (ignoring roles and guards)."""
    seen = {workflow.initial}
    todo = [workflow.initial]
    while todo:
        for t in workflow.transitions_from(todo.pop()):
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def steps_to_close(workflow: Workflow) -> dict[str, int]:
    """Return the fewest transitions from each state to ``closed`` (absent: cannot close)."""
    dist, todo = {"closed": 0}, ["closed"]
    while todo:
        here = todo.pop(0)
        for t in workflow.transitions:
            if t.target == here and t.source not in dist:
                dist[t.source] = dist[here] + 1
                todo.append(t.source)
    return dist


def problems(workflow: Workflow) -> list[str]:
    """Return what is wrong with *workflow* (empty when well-formed)."""
    found = []
    names = set(workflow.states)
    for t in workflow.transitions:
        if t.source not in names or t.target not in names:
            found.append(f"{t.action}: {t.source}->{t.target} names an unknown state")
        if not t.roles <= set(WORKFLOW_ROLES):
            found.append(f"{t.action}: unknown role in {sorted(t.roles)}")
        if REQUESTER in t.roles and (t.action not in REQUESTER_ACTIONS or len(t.roles) > 1):
            found.append(f"{t.action}: a requester action shared with staff or not listed")
        unknown = set(t.guards) - set(GUARDS)
        if unknown:
            found.append(f"{t.action}: unknown guard(s) {sorted(unknown)}")
    for name in names - reachable(workflow):
        found.append(f"state {name} is unreachable")
    for s in workflow.states.values():
        exits = workflow.transitions_from(s.name)
        if s.final and exits:
            found.append(f"final state {s.name} has exits")
        if not s.final and not any(t.target != s.name for t in exits):
            found.append(f"state {s.name} has no way out")
        if not s.final and s.holder is None:
            found.append(f"state {s.name} has no holder")
    if "closed" not in names or not workflow.states["closed"].final:
        found.append("closed must exist and be final")
    return found
