"""Counter readings to rates: wraps, resets and restarts never give a negative or absurd rate."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from collectors.snmp.rates import (
    WRAP32,
    WRAP64,
    Reading,
    counter_delta,
    event_rate,
    octet_rate_bps,
    restarted,
)

MAX_BPS = 4e11
GBIT = 1_000_000_000


def test_plain_increase_gives_bits_per_second() -> None:
    a, b = Reading(1_000, 100.0, 10_000), Reading(1_000 + 125_000_000, 110.0, 11_000)
    assert octet_rate_bps(a, b, 64, speed_bps=GBIT, max_rate_bps=MAX_BPS) == pytest.approx(1e8)


def test_32bit_wrap_is_followed() -> None:
    a = Reading(WRAP32 - 1_000, 0.0, 0)
    b = Reading(124_999_000, 10.0, 1_000)  # 125 MB later, past the wrap
    assert octet_rate_bps(a, b, 32, speed_bps=GBIT, max_rate_bps=MAX_BPS) == pytest.approx(1e8)


def test_32bit_reset_looks_like_a_huge_wrap_and_is_dropped() -> None:
    a = Reading(3_000_000_000, 0.0, 0)
    b = Reading(10, 60.0, 6_000)  # "wrapped" by ~1.3 GB in 60 s = 173 Mb/s on a 100 Mb/s port
    assert octet_rate_bps(a, b, 32, speed_bps=100_000_000, max_rate_bps=MAX_BPS) is None
    # The same numbers are believable on a gigabit port.
    assert octet_rate_bps(a, b, 32, speed_bps=GBIT, max_rate_bps=MAX_BPS) is not None


def test_64bit_counter_going_back_is_a_reset() -> None:
    a, b = Reading(WRAP64 - 10, 0.0, 0), Reading(5, 60.0, 6_000)
    assert counter_delta(a.value, b.value, 64) is None
    assert octet_rate_bps(a, b, 64, speed_bps=GBIT, max_rate_bps=MAX_BPS) is None


def test_restart_detected_from_uptime_going_back() -> None:
    a, b = Reading(10, 0.0, 500_000), Reading(5_000_000, 60.0, 3_000)
    assert restarted(a, b)
    assert octet_rate_bps(a, b, 64, speed_bps=GBIT, max_rate_bps=MAX_BPS) is None


def test_restart_detected_when_uptime_advanced_less_than_elapsed() -> None:
    # Rebooted 20 s after the previous poll with 10 s uptime: uptime is past the old value
    # (40 s) but advanced only 30 s in 300 s.
    a, b = Reading(10, 0.0, 1_000), Reading(50_000, 300.0, 4_000)
    assert restarted(a, b)
    assert octet_rate_bps(a, b, 64, speed_bps=GBIT, max_rate_bps=MAX_BPS) is None


def test_no_rate_for_zero_or_negative_elapsed_time() -> None:
    a = Reading(10, 5.0, 100)
    assert octet_rate_bps(a, Reading(20, 5.0, 100), 64, speed_bps=None,
                          max_rate_bps=MAX_BPS) is None
    assert octet_rate_bps(a, Reading(20, 4.0, 100), 64, speed_bps=None,
                          max_rate_bps=MAX_BPS) is None


def test_absurd_rate_is_dropped() -> None:
    a, b = Reading(0, 0.0, 0), Reading(10**15, 1.0, 100)  # 8 Pb/s
    assert octet_rate_bps(a, b, 64, speed_bps=None, max_rate_bps=MAX_BPS) is None


readings = st.builds(
    Reading,
    value=st.integers(min_value=0, max_value=WRAP64 - 1),
    ts=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    uptime_cs=st.one_of(st.none(), st.integers(min_value=0, max_value=WRAP32 - 1)),
)


@settings(max_examples=500)
@given(a=readings, b=readings, bits=st.sampled_from([32, 64]),
       speed=st.one_of(st.none(), st.integers(min_value=1, max_value=400 * GBIT)))
def test_never_negative_never_above_the_ceiling(a: Reading, b: Reading, bits: int,
                                               speed: int | None) -> None:
    if bits == 32:
        a = Reading(a.value % WRAP32, a.ts, a.uptime_cs)
        b = Reading(b.value % WRAP32, b.ts, b.uptime_cs)
    bps = octet_rate_bps(a, b, bits, speed_bps=speed, max_rate_bps=MAX_BPS)
    assert bps is None or 0 <= bps <= MAX_BPS
    eps = event_rate(a, b, bits, max_rate_bps=MAX_BPS)
    assert eps is None or 0 <= eps <= MAX_BPS / 512


@settings(max_examples=300)
@given(start=st.integers(min_value=0, max_value=WRAP32 - 1),
       rate_bps=st.integers(min_value=0, max_value=GBIT),
       interval=st.integers(min_value=1, max_value=300),
       uptime=st.integers(min_value=0, max_value=10**8))
def test_32bit_counter_sequence_is_reconstructed(start: int, rate_bps: int, interval: int,
                                                 uptime: int) -> None:
    """Whatever the start value, a steady rate reads back exactly across a wrap.

    (A 32-bit counter cannot tell one wrap from two: more than 4 GiB per interval is
    unknowable, which is why 64-bit counters are read whenever the agent has them.)
    """
    octets = rate_bps * interval // 8
    assume(octets < WRAP32)
    a = Reading(start, 1000.0, uptime)
    b = Reading((start + octets) % WRAP32, 1000.0 + interval, uptime + interval * 100)
    got = octet_rate_bps(a, b, 32, speed_bps=GBIT, max_rate_bps=MAX_BPS)
    assert got == pytest.approx(octets * 8 / interval)


@settings(max_examples=300)
@given(prev=st.integers(min_value=0, max_value=WRAP64 - 1),
       octets=st.integers(min_value=0, max_value=10**13),
       interval=st.integers(min_value=1, max_value=300),
       old_uptime=st.integers(min_value=100_000, max_value=WRAP32 - 1),
       new_uptime=st.integers(min_value=0, max_value=99_999))
def test_restart_never_yields_a_rate(prev: int, octets: int, interval: int, old_uptime: int,
                                     new_uptime: int) -> None:
    """After a reboot (uptime went back) nothing is reported, whatever the counters say."""
    a = Reading(prev, 0.0, old_uptime)
    b = Reading((prev + octets) % WRAP64, float(interval), new_uptime)
    assert octet_rate_bps(a, b, 64, speed_bps=GBIT, max_rate_bps=MAX_BPS) is None
