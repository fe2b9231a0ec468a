"""The store's rate shortcut (time and restart checked once per interface) changes nothing.

``store._rates`` checks elapsed time and sysUpTime once for an interface's six counters
instead of once per counter; this compares it with the per-counter reference functions
``rates.octet_rate_bps`` and ``rates.event_rate`` on arbitrary readings.
"""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.snmp.poller import InterfaceReading
from collectors.snmp.rates import Reading, event_rate, octet_rate_bps
from collectors.snmp.store import _COUNTERS, _rates

counter = st.one_of(st.none(), st.sampled_from([0, 1, 2**32 - 1, 2**32 - 7, 2**63, 2**64 - 1]),
                    st.integers(0, 2**64 - 1), st.integers(0, 2**33))


def reference(prev: SimpleNamespace, cur: InterfaceReading, ts: float, prev_up: int | None,
              up: int | None, max_bps: float) -> dict[str, float] | None:
    """The per-counter computation, as the store did it before the shortcut."""
    if prev.counters_ts is None or prev.in_octets is None or cur.in_octets is None:
        return None
    if prev.counter_bits != cur.counter_bits:
        return None
    out: dict[str, float] = {}
    for name in ("in_octets", "out_octets"):
        a, b = getattr(prev, name), getattr(cur, name)
        if a is None or b is None:
            return None
        value = octet_rate_bps(Reading(a, prev.counters_ts, prev_up), Reading(b, ts, up),
                               cur.counter_bits, speed_bps=cur.speed_bps, max_rate_bps=max_bps)
        if value is None:
            return None
        out[name.replace("_octets", "_bps")] = value
    for name in ("in_errors", "out_errors", "in_discards", "out_discards"):
        a, b = getattr(prev, name), getattr(cur, name)
        value = None if a is None or b is None else event_rate(
            Reading(a, prev.counters_ts, prev_up), Reading(b, ts, up), 32, max_rate_bps=max_bps)
        out[f"{name}_ps"] = value if value is not None else 0.0
    return out


@settings(max_examples=200, deadline=None)
@given(bits=st.sampled_from([32, 64]), prev_bits=st.sampled_from([32, 64, 64]),
       before=st.lists(counter, min_size=6, max_size=6),
       after=st.lists(counter, min_size=6, max_size=6),
       grow=st.one_of(st.none(), st.integers(0, 10**10)),
       prev_ts=st.one_of(st.none(), st.floats(1e9, 1e9 + 1)),
       elapsed=st.sampled_from([-1.0, 0.0, 0.5, 30.0, 60.0, 61.3, 3600.0]),
       prev_up=st.one_of(st.none(), st.just(100_000)),
       up=st.one_of(st.none(), st.integers(90_000, 900_000)),
       speed=st.sampled_from([None, 0, 10**6, 10**9, 10**10]),
       max_bps=st.sampled_from([4e11, 1e6]))
def test_store_rates_equal_per_counter_rates(bits: int, prev_bits: int, before: list,
                                             after: list, grow: int | None,
                                             prev_ts: float | None, elapsed: float,
                                             prev_up: int | None, up: int | None,
                                             speed: int | None, max_bps: float) -> None:
    prev = SimpleNamespace(counters_ts=prev_ts, counter_bits=prev_bits,
                           **dict(zip(_COUNTERS, before, strict=True)))
    cur = InterfaceReading(1, counter_bits=bits, speed_bps=speed,
                           **dict(zip(_COUNTERS, after, strict=True)))
    if grow is not None and before[0] is not None:  # the common case: plain growth
        cur.in_octets, cur.out_octets = before[0] + grow, (before[1] or 0) + grow // 2
    ts = (prev_ts or 1e9) + elapsed
    assert _rates(prev, cur, ts, prev_up, up, max_bps) == reference(prev, cur, ts, prev_up, up,
                                                                    max_bps)
