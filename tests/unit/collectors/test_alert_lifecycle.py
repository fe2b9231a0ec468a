"""The alert key state machine: for-duration, de-duplication, flap damping, manual resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.alerts.lifecycle import Decision, SignalState, Timing, resolved_by_hand, step

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
NO_FLAP = Timing(for_s=0, flap_threshold=0)


def run(values: list[bool], timing: Timing, every_s: float = 60) -> list[Decision]:
    state = SignalState()
    return [step(state, v, T0 + timedelta(seconds=i * every_s), timing).decision
            for i, v in enumerate(values)]


def test_fires_once_refreshes_and_resolves() -> None:
    assert run([False, True, True, True, False, False], NO_FLAP) == [
        Decision.NONE, Decision.FIRE, Decision.REFRESH, Decision.REFRESH, Decision.RESOLVE,
        Decision.NONE]


def test_for_duration_needs_the_condition_to_hold_throughout() -> None:
    timing = Timing(for_s=180, flap_threshold=0)
    # held 0, 60, 120 s then cleared: never fires; then held 0..180 s: fires at 180 s.
    decisions = run([True, True, True, False, True, True, True, True], timing)
    assert decisions == [Decision.NONE, Decision.NONE, Decision.NONE, Decision.NONE,
                         Decision.NONE, Decision.NONE, Decision.NONE, Decision.FIRE]


def test_flapping_holds_the_alert_open_and_quiet() -> None:
    timing = Timing(for_s=0, flap_window_s=600, flap_threshold=4)
    values = [True, False] * 6 + [False] * 12
    decisions = run(values, timing)
    fires = decisions.count(Decision.FIRE)
    resolves = decisions.count(Decision.RESOLVE)
    # Undamped this would be 6 fires and 6 resolves; damped: the first two cycles, then
    # held open while flapping, resolved once the window has calmed down.
    assert fires == 2 and resolves == 2
    assert decisions[-1] is Decision.NONE
    undamped = run(values, NO_FLAP)
    assert undamped.count(Decision.FIRE) == 6


def test_flapping_flag_reported_and_cleared() -> None:
    timing = Timing(for_s=0, flap_window_s=300, flap_threshold=3)
    state = SignalState()
    flags = []
    for i, v in enumerate([True, False, True, False, False, False, False, False, False]):
        flags.append(step(state, v, T0 + timedelta(minutes=i), timing).flapping)
    assert flags == [False, False, True, True, True, True, True, False, False]


def test_manual_resolve_does_not_refire_until_clear() -> None:
    state = SignalState()
    assert step(state, True, T0, NO_FLAP).decision is Decision.FIRE
    resolved_by_hand(state)
    assert step(state, True, T0 + timedelta(minutes=1), NO_FLAP).decision is Decision.NONE
    assert step(state, False, T0 + timedelta(minutes=2), NO_FLAP).decision is Decision.NONE
    assert step(state, True, T0 + timedelta(minutes=3), NO_FLAP).decision is Decision.FIRE


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.booleans(), max_size=80),
       for_s=st.sampled_from([0, 60, 300]),
       threshold=st.sampled_from([0, 3, 5]),
       manual=st.sets(st.integers(0, 79), max_size=5))
def test_invariants(values: list[bool], for_s: int, threshold: int, manual: set[int]) -> None:
    """Whatever the sequence: never two open alerts, resolve only what is open, fire only
    while breached, and an open alert is never left open on a calm clear condition."""
    timing = Timing(for_s=for_s, flap_window_s=600, flap_threshold=threshold)
    state = SignalState()
    open_alert = False
    for i, value in enumerate(values):
        now = T0 + timedelta(minutes=i)
        result = step(state, value, now, timing)
        if result.decision is Decision.FIRE:
            assert not open_alert and value
            open_alert = True
        elif result.decision is Decision.RESOLVE:
            assert open_alert and not value
            open_alert = False
        elif result.decision is Decision.REFRESH:
            assert open_alert and value
        assert state.open_alert == open_alert
        if not value and not state.flapping:
            assert not open_alert
        if i in manual and open_alert:
            resolved_by_hand(state)
            open_alert = False
    # Flap damping bounds notifications: in any flap window (10 samples here) a key fires
    # at most `threshold` times, however fast the condition toggles.
    if threshold:
        fires = [d is Decision.FIRE for d in run(values, timing)]
        assert all(sum(fires[i:i + 10]) <= threshold for i in range(len(fires)))
