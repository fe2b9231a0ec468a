"""Anomaly detection on traffic series: an hour-of-week baseline and a robust score.

Traffic in a government office follows the working week: Monday 09:00 looks like other
Mondays at 09:00, not like Sunday night. So the baseline is, per hour of the week (168
buckets, in the site's time zone), the **median** of past values and their **median
absolute deviation** (MAD). A new value's score is ``(value - median) / (1.4826 * MAD)``
— a z-score that a few past outliers (an outage, a backup night) cannot drag around, as
they would a mean and standard deviation. A perfectly steady history (MAD 0) gets a
floor of 5 % of the median, so a steady link is not "anomalous" at +1 %.

The verdict says what was expected and what was seen, in the units of the series:
"core1 eth1 inbound, Mon 09:00-10:00: seen 950 Mbps, expected about 120 Mbps (normal
80-160 Mbps; score 41.5)".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

MAD_SCALE = 1.4826  # makes the MAD estimate the standard deviation for normal data
REL_FLOOR = 0.05
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hour_of_week(at: datetime, tz: tzinfo) -> int:
    """0 = Monday 00:00-01:00 ... 167 = Sunday 23:00-24:00, in *tz*."""
    local = at.astimezone(tz)
    return local.weekday() * 24 + local.hour


def bucket_label(bucket: int) -> str:
    """``Mon 09:00-10:00``."""
    day, hour = divmod(bucket, 24)
    return f"{DAYS[day]} {hour:02d}:00-{(hour + 1) % 24:02d}:00"


@dataclass(frozen=True)
class BucketStats:
    """Median, MAD and sample count of one hour of the week."""

    median: float
    mad: float
    samples: int


def fit(points: Iterable[tuple[datetime, float]], tz: tzinfo) -> dict[int, BucketStats]:
    """Group past values by hour of week and summarise each bucket robustly.

    Several points within the same hour of the same week are averaged first, so a bucket
    counts weeks, not polls (one busy week polled every minute must not outvote three).
    """
    per_hour: dict[tuple[int, int, int], list[float]] = defaultdict(list)
    for at, value in points:
        local = at.astimezone(tz)
        iso = local.isocalendar()
        per_hour[(iso.year, iso.week, hour_of_week(at, tz))].append(float(value))
    buckets: dict[int, list[float]] = defaultdict(list)
    for (_y, _w, bucket), values in per_hour.items():
        buckets[bucket].append(sum(values) / len(values))
    out = {}
    for bucket, values in buckets.items():
        med = statistics.median(values)
        mad = statistics.median(abs(v - med) for v in values)
        out[bucket] = BucketStats(med, mad, len(values))
    return out


def human(value: float, unit: str) -> str:
    """``950 Mbps`` for 9.5e8 bps; other units plainly."""
    if unit == "bps":
        for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= factor:
                return f"{value / factor:.3g} {prefix}bps"
        return f"{value:.0f} bps"
    return f"{value:.3g} {unit}".strip()


@dataclass(frozen=True)
class Verdict:
    """How one value compares with its hour-of-week baseline."""

    bucket: int
    seen: float
    expected: float
    low: float
    high: float
    score: float
    anomalous: bool
    samples: int

    def describe(self, label: str, unit: str) -> str:
        """What was expected and what was seen, for the alert text."""
        direction = "above" if self.seen > self.expected else "below"
        return (f"{label}, {bucket_label(self.bucket)}: seen {human(self.seen, unit)}, "
                f"expected about {human(self.expected, unit)} (normal "
                f"{human(self.low, unit)} - {human(self.high, unit)}, {direction}; score "
                f"{self.score:.1f} over {self.samples} weeks)")


def assess(history: Iterable[tuple[datetime, float]], value: float, at: datetime,
           tz: tzinfo, *, threshold: float = 5.0, min_samples: int = 3,
           abs_floor: float = 0.0) -> Verdict | None:
    """Score *value* at *at* against *history*; None when the bucket has too few weeks."""
    stats = fit(history, tz).get(hour_of_week(at, tz))
    if stats is None or stats.samples < min_samples:
        return None
    scale = max(MAD_SCALE * stats.mad, REL_FLOOR * abs(stats.median), abs_floor, 1e-9)
    score = (value - stats.median) / scale
    low = max(0.0, stats.median - threshold * scale)
    high = stats.median + threshold * scale
    return Verdict(hour_of_week(at, tz), value, stats.median, low, high, score,
                   abs(score) >= threshold, stats.samples)
