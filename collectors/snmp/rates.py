"""Counter readings to rates: 32- and 64-bit wrap, device restarts, never a bogus spike.

A rate is reported only when the two readings can be trusted to belong to one counter
life: the device did not restart in between (sysUpTime advanced by about the elapsed
time), the counter did not go backwards (except a single 32-bit wrap whose implied rate
is plausible), and the result is below a ceiling. Anything else yields ``None``: the
sample is skipped and the new reading becomes the baseline, which costs one interval
of data instead of a spike that would ruin a graph's scale or fire an alert.
"""

from __future__ import annotations

from dataclasses import dataclass

WRAP32 = 1 << 32
WRAP64 = 1 << 64
# Clocks differ a little (agent uptime vs. our receive time, agent-side caches):
# uptime must advance by at least half the elapsed time minus this slack.
UPTIME_SLACK_S = 2.0


@dataclass(frozen=True)
class Reading:
    """A counter value, when we received it (epoch s) and the agent's sysUpTime (1/100 s)."""

    value: int
    ts: float
    uptime_cs: int | None = None


def restarted(prev: Reading, cur: Reading) -> bool:
    """True when sysUpTime says the agent restarted between *prev* and *cur*."""
    if prev.uptime_cs is None or cur.uptime_cs is None:
        return False
    if cur.uptime_cs < prev.uptime_cs:
        return True
    advanced = (cur.uptime_cs - prev.uptime_cs) / 100.0
    elapsed = cur.ts - prev.ts
    return advanced < elapsed * 0.5 - UPTIME_SLACK_S


def counter_delta(prev: int, cur: int, bits: int) -> tuple[int, bool] | None:
    """Return (increase, wrapped) from *prev* to *cur*, or None when it went backwards.

    A 32-bit counter that went backwards wrapped once (the caller checks plausibility);
    a 64-bit counter never wraps in practice, so going backwards means it was reset.
    """
    if cur >= prev:
        return cur - prev, False
    if bits == 32 and prev < WRAP32 and cur < WRAP32:
        return cur + WRAP32 - prev, True
    return None


def rate(prev: Reading, cur: Reading, bits: int, *, ceiling: float,
         wrap_ceiling: float | None = None) -> float | None:
    """Return the per-second increase from *prev* to *cur*, or None when untrustworthy.

    Args:
        bits: 32 or 64, the counter's width.
        ceiling: the largest believable rate (per second, in counter units).
        wrap_ceiling: the largest believable rate after a 32-bit wrap (e.g. 1.1 x the
            interface speed); a reset 32-bit counter otherwise looks like a huge wrap.
    """
    elapsed = cur.ts - prev.ts
    if elapsed <= 0 or restarted(prev, cur):
        return None
    return per_second(prev.value, cur.value, bits, elapsed, ceiling=ceiling,
                      wrap_ceiling=wrap_ceiling)


def per_second(prev: int, cur: int, bits: int, elapsed: float, *, ceiling: float,
               wrap_ceiling: float | None = None) -> float | None:
    """``rate`` once the caller has checked the times (elapsed > 0, no restart).

    The store checks those once per interface for its six counters.
    """
    found = counter_delta(prev, cur, bits)
    if found is None:
        return None
    delta, wrapped = found
    value = delta / elapsed
    limit = ceiling
    if wrapped and wrap_ceiling is not None:
        limit = min(limit, wrap_ceiling)
    if value < 0 or value > limit:
        return None
    return value


def octet_rate_bps(prev: Reading, cur: Reading, bits: int, *, speed_bps: int | None,
                   max_rate_bps: float) -> float | None:
    """Return bits/s from two octet-counter readings (None when untrustworthy)."""
    wrap_ceiling = speed_bps * 1.1 / 8 if speed_bps else None
    octets = rate(prev, cur, bits, ceiling=max_rate_bps / 8, wrap_ceiling=wrap_ceiling)
    return None if octets is None else octets * 8


def event_rate(prev: Reading, cur: Reading, bits: int, *, max_rate_bps: float) -> float | None:
    """Return errors or discards per second (bounded by minimum-size frames at max rate)."""
    return rate(prev, cur, bits, ceiling=max_rate_bps / (64 * 8))
