"""One small evaluator per rule kind: read values, say per entity whether the rule holds.

An evaluator returns an Observation for every entity it could judge — breached or not —
so the engine can resolve alerts whose condition cleared. Entities it cannot judge (no
data) are left out and their alerts stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.alerts.anomaly import assess, human
from collectors.alerts.rules import Rule
from collectors.alerts.sources import MetricSource, Where


@dataclass(frozen=True)
class Observation:
    """Whether a rule's condition holds for one entity, and the words for the alert."""

    entity: str
    breached: bool
    title: str
    value: float | None = None
    where: Where = field(default_factory=Where)
    details: str = ""


@dataclass(frozen=True)
class EvalContext:
    """What every evaluator gets: the database session, the time, the metric source."""

    session: Session
    now: datetime
    source: MetricSource
    tz: tzinfo


Evaluator = Callable[[EvalContext, Rule], list[Observation]]
EVALUATORS: dict[str, Evaluator] = {}


def evaluator(kind: str) -> Callable[[Evaluator], Evaluator]:
    """Register the decorated function as the evaluator of *kind*."""

    def register(func: Evaluator) -> Evaluator:
        EVALUATORS[kind] = func
        return func

    return register


def _when(at: datetime | None, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "never"


@evaluator("device_unreachable")
def device_unreachable(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """A polled device does not answer."""
    return [Observation(d.device, not d.reachable,
                        f"{d.device} is unreachable (last answer {_when(d.last_seen, ctx.tz)})",
                        where=d.where, details=d.address)
            for d in ctx.source.devices(ctx.session, ctx.now)]


@evaluator("interface_down")
def interface_down(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """An administratively enabled interface is operationally down (admin-down is intended)."""
    out = []
    for i in ctx.source.interfaces(ctx.session, ctx.now):
        if not i.admin_up:
            continue
        alias = f" ({i.alias})" if i.alias else ""
        out.append(Observation(f"{i.device}:{i.interface}", not i.oper_up,
                               f"{i.device} {i.interface}{alias} is down", where=i.where))
    return out


@evaluator("utilisation")
def utilisation(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """An interface carries more than ``threshold_pct`` of its speed in either direction."""
    limit = float(rule.param("threshold_pct", 80))
    out = []
    for r in ctx.source.interface_rates(ctx.session, ctx.now):
        if not r.speed_bps:
            continue
        pct = 100.0 * max(r.in_bps, r.out_bps) / r.speed_bps
        out.append(Observation(
            f"{r.device}:{r.interface}", pct >= limit,
            f"{r.device} {r.interface} at {pct:.0f}% of {human(r.speed_bps, 'bps')} "
            f"(in {human(r.in_bps, 'bps')}, out {human(r.out_bps, 'bps')}; limit {limit:g}%)",
            value=round(pct, 2), where=r.where))
    return out


@evaluator("interface_errors")
def interface_errors(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """Errors plus discards per second above ``max_per_s``."""
    limit = float(rule.param("max_per_s", 1.0))
    out = []
    for r in ctx.source.interface_rates(ctx.session, ctx.now):
        total = r.in_errors_ps + r.out_errors_ps + r.in_discards_ps + r.out_discards_ps
        out.append(Observation(
            f"{r.device}:{r.interface}", total >= limit,
            f"{r.device} {r.interface}: {total:.2f} errors+discards/s (errors in "
            f"{r.in_errors_ps:.2f} out {r.out_errors_ps:.2f}, discards in "
            f"{r.in_discards_ps:.2f} out {r.out_discards_ps:.2f}; limit {limit:g}/s)",
            value=round(total, 3), where=r.where))
    return out


def _resource(ctx: EvalContext, rule: Rule, what: str) -> list[Observation]:
    limit = float(rule.param("threshold_pct", 90))
    out = []
    for h in ctx.source.host_resources(ctx.session, ctx.now):
        if what == "disk":
            for mount, pct in sorted(h.disks.items()):
                out.append(Observation(f"{h.device}:{mount}", pct >= limit,
                                       f"{h.device} disk {mount} {pct:.0f}% full "
                                       f"(limit {limit:g}%)", value=pct, where=h.where))
            continue
        pct = h.cpu_pct if what == "cpu" else h.mem_pct
        if pct is None:
            continue
        name = "CPU" if what == "cpu" else "memory"
        out.append(Observation(h.device, pct >= limit,
                               f"{h.device} {name} at {pct:.0f}% (limit {limit:g}%)",
                               value=pct, where=h.where))
    return out


@evaluator("cpu")
def cpu(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """Processor load above ``threshold_pct``."""
    return _resource(ctx, rule, "cpu")


@evaluator("memory")
def memory(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """Memory use above ``threshold_pct``."""
    return _resource(ctx, rule, "memory")


@evaluator("disk")
def disk(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """A file system fuller than ``threshold_pct``."""
    return _resource(ctx, rule, "disk")


@evaluator("probe_failure")
def probe_failure(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """A service probe failed ``failures`` times in a row."""
    from collectors.probes.models import Probe
    from collectors.probes.service import recent_failures

    needed = int(rule.param("failures", 2))
    out = []
    for p in ctx.session.scalars(select(Probe).where(Probe.enabled.is_(True))).unique():
        streak, newest = recent_failures(ctx.session, p.id, needed)
        if newest is None:
            continue
        where = Where(p.device, p.site, p.opd.code if p.opd else "", p.service)
        out.append(Observation(
            f"probe:{p.name}", streak >= needed,
            f"{p.service} probe {p.name} ({p.kind} {p.target}) failing: {newest.detail}"
            if streak >= needed else f"{p.service} probe {p.name} ok",
            value=float(streak), where=where,
            details=f"{streak} consecutive failures; last check "
                    f"{_when(newest.at, ctx.tz)}: {newest.detail}"))
    return out


@evaluator("opd_bandwidth")
def opd_bandwidth(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """An OPD's traffic above its committed bandwidth allocation (inventory)."""
    from inventory.ipam.utilisation import list_bandwidth_allocations
    from simpul.models import Opd

    tolerance = float(rule.param("tolerance_pct", 0))
    committed: dict[int, int] = {}
    for alloc in list_bandwidth_allocations(ctx.session):
        committed[alloc.opd_id] = committed.get(alloc.opd_id, 0) + alloc.committed_mbps
    codes = {o.id: o.code for o in ctx.session.scalars(select(Opd))}
    by_code = {codes[i]: mbps for i, mbps in committed.items() if i in codes}
    out = []
    for rate in ctx.source.opd_rates(ctx.session, ctx.now):
        mbps = by_code.get(rate.opd.upper())
        if not mbps:
            continue
        limit = mbps * 1e6 * (1 + tolerance / 100)
        pct = 100.0 * rate.bps / (mbps * 1e6)
        out.append(Observation(
            f"opd:{rate.opd.upper()}", rate.bps > limit,
            f"{rate.opd.upper()} uses {human(rate.bps, 'bps')} of its {mbps} Mbps "
            f"allocation ({pct:.0f}%)", value=round(pct, 1), where=Where(opd=rate.opd.upper()),
            details=f"measured from {rate.source or 'collectors'}"))
    return out


@evaluator("anomaly")
def anomaly(ctx: EvalContext, rule: Rule) -> list[Observation]:
    """A series far from its hour-of-week baseline (robust score, see anomaly.py)."""
    threshold = float(rule.param("score", 5.0))
    history_days = float(rule.param("history_days", 28))
    recent = timedelta(minutes=float(rule.param("recent_minutes", 10)))
    min_samples = int(rule.param("min_samples", 3))
    out = []
    for ref in ctx.source.anomaly_series(ctx.session, ctx.now):
        latest = ctx.source.series(ctx.session, ref.key, ctx.now - recent, ctx.now)
        if not latest:
            continue
        history = ctx.source.series(ctx.session, ref.key,
                                    ctx.now - timedelta(days=history_days), ctx.now - recent)
        value = sum(v for _, v in latest) / len(latest)
        verdict = assess(history, value, ctx.now, ctx.tz, threshold=threshold,
                         min_samples=min_samples, abs_floor=float(rule.param("abs_floor", 0)))
        if verdict is None:
            continue
        text = verdict.describe(ref.label, ref.unit)
        out.append(Observation(f"series:{ref.key}", verdict.anomalous,
                               f"Unusual traffic: {text}", value=round(verdict.score, 2),
                               where=ref.where, details=text))
    return out
