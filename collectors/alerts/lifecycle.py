"""The life of one alert key (rule + entity), as a pure state machine.

Each evaluation gives, per entity, whether the rule's condition holds. ``step`` turns
that into at most one decision — fire, refresh, resolve — and keeps the small state the
decision needs between evaluations:

* **for N seconds**: the condition must hold continuously for ``for_s`` before firing.
* **de-duplication**: while an alert for the key is open (firing or acknowledged), a
  holding condition only refreshes it; there is never a second open alert per key.
* **flap damping**: every change of the condition within ``flap_window_s`` is counted;
  at ``flap_threshold`` changes the key is *flapping* and its alert stays open (no
  resolve/re-fire storm, no notifications) until the changes in the window fall to half
  the threshold; then it resolves normally if the condition is clear.
* **manual resolve**: an operator resolving an alert whose condition still holds is
  believed; the key does not re-fire until the condition has cleared once.

No database and no clock inside: the engine stores ``SignalState`` and passes ``now``,
so the tests drive it through any sequence (see tests/unit/collectors/test_alert_lifecycle.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Decision(StrEnum):
    """What the engine must do with the key's alert after one observation."""

    NONE = "none"
    FIRE = "fire"
    REFRESH = "refresh"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Timing:
    """A rule's time behaviour."""

    for_s: float = 0.0
    flap_window_s: float = 900.0
    flap_threshold: int = 5


@dataclass
class SignalState:
    """What one key remembers between evaluations."""

    breached: bool = False
    pending_since: datetime | None = None
    changes: list[datetime] = field(default_factory=list)
    flapping: bool = False
    open_alert: bool = False
    hold_until_clear: bool = False


@dataclass(frozen=True)
class Step:
    """The decision of one observation, and whether the flapping flag just changed."""

    decision: Decision
    flapping: bool
    flap_changed: bool = False


def step(state: SignalState, breached: bool, now: datetime, timing: Timing) -> Step:
    """Apply one observation to *state* (in place) and return what to do."""
    if breached != state.breached:
        state.changes.append(now)
        state.breached = breached
        state.pending_since = now if breached else None
    elif breached and state.pending_since is None:
        state.pending_since = now
    window_start = now - timedelta(seconds=timing.flap_window_s)
    state.changes = [t for t in state.changes if t > window_start]
    was_flapping = state.flapping
    if timing.flap_threshold > 0:
        if not state.flapping and len(state.changes) >= timing.flap_threshold:
            state.flapping = True
        elif state.flapping and len(state.changes) <= timing.flap_threshold // 2:
            state.flapping = False
    flap_changed = was_flapping != state.flapping

    decision = Decision.NONE
    if breached:
        if state.open_alert:
            decision = Decision.REFRESH
        elif not state.hold_until_clear and state.pending_since is not None and \
                (now - state.pending_since).total_seconds() >= timing.for_s:
            decision = Decision.FIRE
            state.open_alert = True
    else:
        state.hold_until_clear = False
        if state.open_alert and not state.flapping:
            decision = Decision.RESOLVE
            state.open_alert = False
    return Step(decision, state.flapping, flap_changed)


def resolved_by_hand(state: SignalState) -> None:
    """An operator closed the alert: no re-fire until the condition clears once."""
    state.open_alert = False
    state.hold_until_clear = state.breached
