"""Hour-of-week baseline with median/MAD: weekly shape learnt, outliers resisted, text clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.alerts.anomaly import assess, bucket_label, fit, hour_of_week, human

JKT = ZoneInfo("Asia/Jakarta")
# Monday 2026-11-23 10:00 WIB = 03:00 UTC
MONDAY_10 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def office_traffic(at: datetime) -> float:
    """Busy on weekday office hours (120 Mbps), quiet otherwise (8 Mbps), in Jakarta time."""
    local = at.astimezone(JKT)
    busy = local.weekday() < 5 and 8 <= local.hour < 16
    return 120e6 if busy else 8e6


def history(weeks: int = 4, jitter: float = 0.05, step_min: int = 5
            ) -> list[tuple[datetime, float]]:
    points = []
    start = MONDAY_10 - timedelta(weeks=weeks)
    t = start
    n = 0
    while t < MONDAY_10 - timedelta(minutes=10):
        wobble = 1 + jitter * ((n * 7919) % 11 - 5) / 5
        points.append((t, office_traffic(t) * wobble))
        t += timedelta(minutes=step_min)
        n += 1
    return points


def test_hour_of_week_uses_local_time() -> None:
    assert hour_of_week(MONDAY_10, JKT) == 10
    assert hour_of_week(MONDAY_10, UTC) == 3
    assert bucket_label(10) == "Mon 10:00-11:00"
    assert bucket_label(167) == "Sun 23:00-00:00"


def test_normal_monday_morning_is_not_anomalous_but_sunday_level_is() -> None:
    past = history()
    normal = assess(past, 118e6, MONDAY_10, JKT)
    assert normal is not None and not normal.anomalous
    assert abs(normal.expected - 120e6) < 3e6 and normal.samples == 4
    quiet = assess(past, 8e6, MONDAY_10, JKT)
    assert quiet is not None and quiet.anomalous and quiet.score < -5


def test_same_value_at_night_is_an_anomaly() -> None:
    past = history()
    night = MONDAY_10 + timedelta(hours=12)  # Monday 22:00 WIB
    verdict = assess(past, 120e6, night, JKT)
    assert verdict is not None and verdict.anomalous and verdict.score > 5


def test_text_says_what_was_expected_and_seen() -> None:
    verdict = assess(history(), 950e6, MONDAY_10, JKT)
    assert verdict is not None
    text = verdict.describe("DINKES bandwidth (SNMP)", "bps")
    assert text.startswith("DINKES bandwidth (SNMP), Mon 10:00-11:00: seen 950 Mbps, "
                           "expected about 120 Mbps (normal ")
    assert "above" in text and "over 4 weeks" in text


def test_one_outage_week_does_not_move_the_baseline() -> None:
    past = history()
    # an outage during the second week's Monday 10:00 hour: zero traffic
    outage_start = MONDAY_10 - timedelta(weeks=2)
    past = [(t, 0.0 if outage_start <= t < outage_start + timedelta(hours=1) else v)
            for t, v in past]
    verdict = assess(past, 120e6, MONDAY_10, JKT)
    assert verdict is not None and not verdict.anomalous
    assert abs(verdict.expected - 120e6) < 6e6


def test_too_little_history_gives_no_verdict() -> None:
    assert assess(history(weeks=2), 1e9, MONDAY_10, JKT, min_samples=3) is None
    assert assess([], 1.0, MONDAY_10, JKT) is None


def test_buckets_count_weeks_not_polls() -> None:
    past = history(weeks=3, step_min=1)
    assert fit(past, JKT)[10].samples == 3


def test_human_units() -> None:
    assert human(950e6, "bps") == "950 Mbps"
    assert human(1.5e9, "bps") == "1.5 Gbps"
    assert human(800, "bps") == "800 bps"
    assert human(12.5, "%") == "12.5 %"


@settings(max_examples=100, deadline=None)
@given(level=st.floats(1e3, 1e10), factor=st.floats(0.9, 1.1))
def test_steady_series_within_ten_percent_is_never_anomalous(level: float, factor: float
                                                             ) -> None:
    past = [(MONDAY_10 - timedelta(weeks=w), level) for w in range(1, 6)]
    verdict = assess(past, level * factor, MONDAY_10, JKT)
    assert verdict is not None and not verdict.anomalous
