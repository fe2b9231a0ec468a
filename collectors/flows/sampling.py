"""Packet sampling: the 1-in-N rate each exporter announces, and scaling records by it.

A router that samples 1 packet in N reports only the sampled packets, so its flow
records carry about 1/N of the real bytes and packets. Like nfdump, pmacct and ntopng,
the collector multiplies bytes and packets by N at decode time (the flow count stays
the number of records received), so that top talkers and OPD bandwidth show the real
traffic.

Where N comes from, per exporter address and observation domain (v9 source ID, IPFIX
observation domain ID):

* NetFlow v5: the header's ``sampling_interval`` (2 bits mode, 14 bits interval);
* NetFlow v9 / IPFIX options data: ``samplingInterval`` (34) for the whole domain, or a
  sampler table — ``samplerRandomInterval`` (50), or PSAMP ``samplingPacketInterval``
  (305) / ``samplingPacketSpace`` (306), or ``samplingSize`` (309) /
  ``samplingPopulation`` (310) — keyed by ``samplerId`` (48) or ``selectorId`` (302),
  which data records name in the same fields;
* ``SIMPUL_FLOW_SAMPLING`` for exporters that sample without announcing it (used when
  nothing is announced; ``N!`` forces N whatever the exporter says).

Records that arrive before their exporter's options data are counted at the configured
rate (1 when none): the same choice nfdump makes, since the collector cannot know yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

SAMPLING_INTERVAL = 34
FLOW_SAMPLER_ID = 48
FLOW_SAMPLER_RANDOM_INTERVAL = 50
SELECTOR_ID = 302
SAMPLING_PACKET_INTERVAL = 305
SAMPLING_PACKET_SPACE = 306
SAMPLING_SIZE = 309
SAMPLING_POPULATION = 310
RATE_FIELDS = frozenset({SAMPLING_INTERVAL, FLOW_SAMPLER_RANDOM_INTERVAL,
                         SAMPLING_PACKET_INTERVAL, SAMPLING_SIZE})

MAX_RATE = 1_000_000  # anything beyond is a broken or hostile exporter: ignored
MAX_SAMPLERS_PER_DOMAIN = 256

FROM_HEADER = "header"        # NetFlow v5 header
FROM_OPTIONS = "announced"    # v9 / IPFIX options data
FROM_SETTINGS = "configured"  # SIMPUL_FLOW_SAMPLING

Rate = int | float


def as_int(value: Any) -> int:
    """Return an unsigned integer field as ``int`` (odd lengths are decoded as bytes)."""
    return int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)


def normal_rate(value: float) -> Rate | None:
    """Return *value* as a usable rate (an ``int`` when whole), ``None`` if implausible.

    0 and 1 both mean "every packet": an exporter announcing 0 is not sampling.
    """
    if value != value or value > MAX_RATE:  # NaN or absurd
        return None
    if value <= 1:
        return 1
    whole = round(value)
    return whole if abs(value - whole) < 1e-9 else value


def v5_rate(field_value: int) -> Rate | None:
    """Return the rate of a v5 header's ``sampling_interval``, ``None`` when not set.

    The top 2 bits are the mode (1 deterministic, 2 random), the low 14 bits N; like
    pmacct, any N > 0 is taken, whatever the mode says.
    """
    interval = field_value & 0x3FFF
    return interval if interval > 0 else None


@dataclass
class DomainSampling:
    """What one exporter's observation domain announced."""

    default: Rate | None = None
    samplers: dict[int, Rate] = field(default_factory=dict)

    def fallback(self) -> Rate | None:
        """Return the rate for records that name no (known) sampler."""
        if self.default is not None:
            return self.default
        if len(self.samplers) == 1:
            # One sampler announced, records that do not name it: it is the only one.
            return next(iter(self.samplers.values()))
        return None


class OptionsReader:
    """Reads sampling rates out of the data records of one options template.

    Args:
        fields: ``(element id or None, length)`` of every field, scope fields first
            (v9 scope types are passed as ``None``: they are not information elements).
    """

    def __init__(self, fields: list[tuple[int | None, int]]) -> None:
        ix: dict[int, int] = {}
        for pos, (ie, _n) in enumerate(fields):
            if ie is not None and ie not in ix:
                ix[ie] = pos
        self.usable = bool(RATE_FIELDS & ix.keys())
        self.id_pos = ix.get(FLOW_SAMPLER_ID, ix.get(SELECTOR_ID))
        self.interval = ix.get(SAMPLING_PACKET_INTERVAL)
        self.space = ix.get(SAMPLING_PACKET_SPACE)
        self.size, self.population = ix.get(SAMPLING_SIZE), ix.get(SAMPLING_POPULATION)
        self.random = ix.get(FLOW_SAMPLER_RANDOM_INTERVAL)
        self.plain = ix.get(SAMPLING_INTERVAL)

    def rate_of(self, row: tuple[Any, ...]) -> Rate | None:
        """Return the rate one options record announces (``None``: none it can tell)."""
        if self.interval is not None:  # PSAMP systematic count-based: take 1, skip space
            taken = as_int(row[self.interval])
            skipped = as_int(row[self.space]) if self.space is not None else 0
            if taken:
                return normal_rate((taken + skipped) / taken)
        if self.random is not None:
            return normal_rate(as_int(row[self.random]))
        if self.plain is not None:
            return normal_rate(as_int(row[self.plain]))
        if self.size is not None and self.population is not None:  # random n-out-of-N
            size = as_int(row[self.size])
            if size:
                return normal_rate(as_int(row[self.population]) / size)
        return None

    def announcements(self, rows: Iterable[tuple[Any, ...]]
                      ) -> Iterator[tuple[int | None, Rate]]:
        """Yield ``(sampler id or None for the whole domain, rate)`` per record."""
        for row in rows:
            rate = self.rate_of(row)
            if rate is not None:
                yield (as_int(row[self.id_pos]) if self.id_pos is not None else None), rate


def learn(state: DomainSampling, announced: Iterable[tuple[int | None, Rate]]) -> None:
    """Record announced rates in *state* (newest wins; bounded number of samplers)."""
    for sampler, rate in announced:
        if sampler is None:
            state.default = rate
        elif sampler in state.samplers or len(state.samplers) < MAX_SAMPLERS_PER_DOMAIN:
            state.samplers[sampler] = rate


def scale(records: list[Any], rate: Rate) -> list[Any]:
    """Return *records* with bytes and packets multiplied by *rate*."""
    if isinstance(rate, int):
        return [(s, d, p, sp, dp, b * rate, n * rate, t0, t1)
                for s, d, p, sp, dp, b, n, t0, t1 in records]
    return [(s, d, p, sp, dp, round(b * rate), round(n * rate), t0, t1)
            for s, d, p, sp, dp, b, n, t0, t1 in records]


def scale_each(records: list[Any], rates: list[Rate]) -> list[Any]:
    """Return *records* scaled each by its own rate (records naming their sampler)."""
    return [(s, d, p, sp, dp, round(b * r), round(n * r), t0, t1) if r != 1 else
            (s, d, p, sp, dp, b, n, t0, t1)
            for (s, d, p, sp, dp, b, n, t0, t1), r in zip(records, rates, strict=True)]


def rate_text(rate: float) -> str:
    """Return how operators write a rate: ``1:100`` (``unsampled`` for 1)."""
    if rate <= 1:
        return "unsampled"
    return f"1:{rate:g}" if isinstance(rate, float) else f"1:{rate}"
