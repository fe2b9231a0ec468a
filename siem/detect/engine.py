"""The detection engine: Sigma and correlation rules over each batch the writer stored.

Runs in the writer thread right after a batch has committed, so detection never
delays acceptance and a rule bug never loses an event. Sigma rules are indexed by the
``event.module`` values their log source maps to, so an event meets only the rules of
its source (plus the few source-agnostic ones) — with 50 rules most events are
checked against three or four.

Switches (enabled/disabled) and hit counts live in ``siem_rules``; correlation state
in ``siem_rule_state``, saved every ``save_every`` seconds and at stop, and reloaded
at start, so a threshold half-way through its window survives a restart.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from siem.detect.alerts import Alert, entity_of, opd_of
from siem.detect.correlation import ChangeLookup, CorrelationRule, load_correlation_dir
from siem.detect.sigma_rules import CompiledSigmaRule, LoadProblem, load_sigma_dir
from siem.models import SiemRule, SiemRuleState

Event = dict[str, Any]
SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
# Repeats of one rule on one entity within this many seconds count as hits but raise no
# new alert: a scanner hitting a web server 10 000 times is one alert, not 10 000.
SUPPRESS_S = 300.0
SUPPRESS_KEYS = 50_000


@dataclass(frozen=True)
class RuleInfo:
    """What the rule list shows."""

    rule_id: str
    title: str
    engine: str  # sigma | correlation
    type: str
    severity: str
    technique: str
    kind: str
    path: str
    description: str
    query: str


def rule_dirs(extra: Iterable[str | Path] = ()) -> tuple[list[Path], list[Path]]:
    """Sigma and correlation folders: the shipped ones, then the user's (``sigma/``,
    ``correlation/`` inside each extra folder, or the folder itself for Sigma)."""
    sigma = [SHIPPED_RULES / "sigma"]
    corr = [SHIPPED_RULES / "correlation"]
    for raw in extra:
        base = Path(raw).expanduser()
        if (base / "sigma").is_dir() or (base / "correlation").is_dir():
            sigma.append(base / "sigma")
            corr.append(base / "correlation")
        else:
            sigma.append(base)
    return sigma, corr


class _SigmaIndex:
    """The Sigma rules of one event module, split by their gate (``gate_of``).

    ``candidates`` returns, in the order of the given positions (alerts and incidents
    come out as if every rule had been tried), the ungated rules plus the gated ones
    whose gate value the event carries; the rest cannot match and are not called.
    """

    __slots__ = ("_all", "_gates", "_pos", "_ungated")

    def __init__(self, rules: list[tuple[int, CompiledSigmaRule]]) -> None:
        rules = sorted(rules, key=lambda item: item[0])
        self._ungated = [r for _, r in rules if r.gate is None]
        self._all = [r for _, r in rules]
        gates: dict[str, dict[str, list[tuple[int, CompiledSigmaRule]]]] = {}
        for pos, rule in rules:
            if rule.gate is not None:
                by_value = gates.setdefault(rule.gate[0], {})
                for value in rule.gate[1]:
                    by_value.setdefault(value, []).append((pos, rule))
        self._gates = list(gates.items())
        self._pos = {id(r): pos for pos, r in rules}

    def candidates(self, event: Event) -> list[CompiledSigmaRule]:
        """The rules that can match *event*, in order."""
        found: list[tuple[int, CompiledSigmaRule]] | None = None
        for field_name, by_value in self._gates:
            value = event.get(field_name)
            if value is None:
                continue
            if value.__class__ is not str:
                if isinstance(value, list | tuple):
                    return self._all  # a list matches if any item does: try them all
                value = str(value)
            hit = by_value.get(value.lower())
            if hit:
                found = hit if found is None else [*found, *hit]
        if found is None:
            return self._ungated
        pos = self._pos
        return [r for _, r in sorted([*((pos[id(r)], r) for r in self._ungated), *found],
                                     key=_first)]


def _first(item: tuple[int, Any]) -> int:
    return item[0]


class Detector:
    """Loaded rules, their switches, and the correlation state."""

    def __init__(self, sigma: list[CompiledSigmaRule], correlation: list[CorrelationRule],
                 problems: list[LoadProblem] | None = None, *,
                 change_lookup: ChangeLookup | None = None,
                 expected_hosts: Callable[[], list[str] | None] | None = None) -> None:
        self.sigma = sigma
        self.correlation = correlation
        self.problems = list(problems or [])
        self.change_lookup = change_lookup
        self.expected_hosts = expected_hosts
        self.disabled: set[str] = set()
        self.hits: dict[str, int] = {}
        self.last_hit: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.suppressed = 0
        self._index()

    @classmethod
    def from_dirs(cls, extra: Iterable[str | Path] = (), **kwargs: Any) -> Detector:
        """Load the shipped rules plus the user's folders; log what was refused."""
        sigma_dirs, corr_dirs = rule_dirs(extra)
        sigma, p1 = load_sigma_dir(sigma_dirs)
        corr, p2 = load_correlation_dir(corr_dirs)
        for problem in (*p1, *p2):
            logger.warning("siem rule not loaded: {} {}: {}", problem.path, problem.rule,
                           problem.reason)
        logger.info("siem: {} Sigma and {} correlation rules loaded", len(sigma), len(corr))
        return cls(sigma, corr, [*p1, *p2], **kwargs)

    def _index(self) -> None:
        by_module: dict[str, list[tuple[int, CompiledSigmaRule]]] = {}
        generic: list[tuple[int, CompiledSigmaRule]] = []
        for pos, rule in enumerate(self.sigma):
            if rule.rule_id in self.disabled:
                continue
            if rule.modules is None:
                generic.append((pos, rule))
            else:
                for module in rule.modules:
                    by_module.setdefault(module, []).append((pos, rule))
        self._generic = _SigmaIndex(generic)
        # a module's own rules first, then the source-agnostic ones (each in load order)
        after = [(len(self.sigma) + pos, rule) for pos, rule in generic]
        self._by_module = {m: _SigmaIndex([*rules, *after]) for m, rules in by_module.items()}
        self._active_corr = [r for r in self.correlation if r.rule_id not in self.disabled]
        self._absence = [r for r in self._active_corr if r.type == "absence"]
        event_corr = [r for r in self._active_corr if r.type != "absence"]
        # Correlation rules indexed by field values of which every match must have one
        # (query.gates_of), so an event meets only rules that can match it. Candidates
        # run in a fixed order (rank): the rules without a single gate (gate_of) in load
        # order, then those with one, by gate field — the order alerts have always come
        # out in, which decides e.g. an incident's title.
        single: dict[str, int] = {}
        for rule in event_corr:
            if rule.gate is not None:
                single.setdefault(rule.gate[0], len(single))
        rank: dict[int, int] = {}
        for pos, rule in enumerate(event_corr):
            rank[id(rule)] = pos if rule.gate is None else (1 + single[rule.gate[0]]) << 20 | pos
        self._corr_rank = rank
        self._ungated = sorted((r for r in event_corr if r.gates is None),
                               key=lambda r: rank[id(r)])
        gates: dict[str, dict[str, list[CorrelationRule]]] = {}
        for rule in event_corr:
            for field_name, values in rule.gates or ():
                by_value = gates.setdefault(field_name, {})
                for value in values:
                    by_value.setdefault(value, []).append(rule)
        self._gates = list(gates.items())

    # ----------------------------------------------------------------- rules
    def rules(self) -> list[RuleInfo]:
        """Every loaded rule, Sigma first."""
        out = [RuleInfo(r.rule_id, r.title, "sigma", "match", r.severity, r.technique, r.kind,
                        r.path, r.description, "") for r in self.sigma]
        out += [RuleInfo(r.rule_id, r.title, "correlation", r.type, r.severity, r.technique,
                         r.kind, r.path, r.description, r.query) for r in self.correlation]
        return out

    def set_disabled(self, disabled: Iterable[str]) -> None:
        """Apply the switches read from the database."""
        with self._lock:
            self.disabled = set(disabled)
            self._index()

    # ----------------------------------------------------------------- events
    def process(self, events: Iterable[Event]) -> list[Alert]:
        """Run every enabled rule on *events*; return the alerts (hit counts kept)."""
        alerts: list[Alert] = []
        by_module, generic = self._by_module, self._generic
        ungated, gates, absence = self._ungated, self._gates, self._absence
        rank = self._corr_rank
        changes = self.change_lookup
        for event in events:
            module = event.get("event.module")
            index = by_module.get(module, generic) if module else generic
            for rule in index.candidates(event):
                try:
                    hit = rule.predicate(event)
                except Exception as exc:  # a rule bug must not stop the others
                    logger.debug("sigma rule {} failed: {}", rule.rule_id, exc)
                    continue
                if hit:
                    alerts.append(Alert(
                        rule_id=rule.rule_id, title=rule.title, severity=rule.severity,
                        entity=entity_of(event, rule.entity_fields),
                        when=event.get("@timestamp") or datetime.now(UTC),
                        technique=rule.technique, kind=rule.kind,
                        summary=str(event.get("message") or "")[:300],
                        event_ids=[str(event.get("event.id", ""))], opd=opd_of(event),
                        damage_class="interruption" if rule.kind == "infrastructure" else ""))
            corr = ungated
            extra: list[CorrelationRule] | None = None
            for gate_field, by_value in gates:
                value = event.get(gate_field)
                if value.__class__ is str:
                    found = by_value.get(value)  # type: ignore[arg-type]
                    if found:
                        extra = found if extra is None else [*extra, *found]
            if extra is not None:
                corr = sorted({id(r): r for r in (*ungated, *extra)}.values(),
                              key=lambda r: rank[id(r)])
            # (sigma_candidates/correlation_candidates say the same, for tests and tools;
            # inlined here because this loop runs for every event)
            for crule in corr:
                try:
                    alert = crule.process(event, changes)
                except Exception as exc:
                    logger.debug("correlation rule {} failed: {}", crule.rule_id, exc)
                    continue
                if alert is not None:
                    alerts.append(alert)
            for arule in absence:
                arule.seen(event)
        self._count(alerts)
        return self._suppress(alerts)

    def sigma_candidates(self, event: Event) -> list[CompiledSigmaRule]:
        """The enabled Sigma rules *event* is tried against, in load order."""
        module = event.get("event.module")
        index = self._by_module.get(module, self._generic) if module else self._generic
        return index.candidates(event)

    def correlation_candidates(self, event: Event) -> list[CorrelationRule]:
        """The enabled event-driven correlation rules *event* is fed to, in order."""
        extra: list[CorrelationRule] = []
        for gate_field, by_value in self._gates:
            value = event.get(gate_field)
            if value.__class__ is str:
                extra.extend(by_value.get(value, ()))
        if not extra:
            return list(self._ungated)
        rank = self._corr_rank
        return sorted({id(r): r for r in (*self._ungated, *extra)}.values(),
                      key=lambda r: rank[id(r)])

    def _suppress(self, alerts: list[Alert]) -> list[Alert]:
        """Drop repeats of (rule, entity) within ``SUPPRESS_S`` (hits are still counted)."""
        if not alerts:
            return alerts
        out: list[Alert] = []
        recent = self._recent
        for alert in alerts:
            key = (alert.rule_id, alert.entity)
            when = alert.when.timestamp() if isinstance(alert.when, datetime) else 0.0
            last = recent.get(key)
            if last is not None and 0 <= when - last < SUPPRESS_S:
                self.suppressed += 1
                continue
            recent[key] = when
            recent.move_to_end(key)
            if len(recent) > SUPPRESS_KEYS:
                recent.popitem(last=False)
            out.append(alert)
        return out

    def tick(self, now: float | None = None) -> list[Alert]:
        """Time-driven rules (absence); call every few seconds."""
        now = now if now is not None else datetime.now(UTC).timestamp()
        expected = None
        if self.expected_hosts is not None and self._absence:
            try:
                expected = self.expected_hosts()
            except Exception as exc:
                logger.warning("absence rules: inventory lookup failed: {}", exc)
        alerts: list[Alert] = []
        for rule in self._absence:
            alerts.extend(rule.silent(now, expected))
        self._count(alerts)
        return alerts

    def _count(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self.hits[alert.rule_id] = self.hits.get(alert.rule_id, 0) + 1
            self.last_hit[alert.rule_id] = alert.when

    # ------------------------------------------------------------ persistence
    def sync(self, session: Session) -> None:
        """Write hit-count deltas, make sure every rule has a row, read the switches."""
        rows = {r.rule_id: r for r in session.scalars(select(SiemRule))}
        hits, self.hits = self.hits, {}
        last, self.last_hit = self.last_hit, {}
        for info in self.rules():
            row = rows.get(info.rule_id)
            if row is None:
                row = SiemRule(rule_id=info.rule_id, enabled=True, hits=0)
                session.add(row)
                rows[info.rule_id] = row
            if hits.get(info.rule_id):
                row.hits = (row.hits or 0) + hits[info.rule_id]
                row.last_hit = last.get(info.rule_id)
        session.flush()
        self.set_disabled(rid for rid, row in rows.items() if not row.enabled)

    def save_state(self, session: Session) -> None:
        """Persist correlation state (one row per rule)."""
        now = datetime.now(UTC)
        existing = {r.rule_id: r for r in session.scalars(select(SiemRuleState))}
        for rule in self.correlation:
            data = rule.dump_state()
            row = existing.get(rule.rule_id)
            if row is None:
                session.add(SiemRuleState(rule_id=rule.rule_id, state=data, saved=now))
            else:
                row.state, row.saved = data, now

    def load_state(self, session: Session) -> None:
        """Restore correlation state saved by a previous run."""
        now = datetime.now(UTC).timestamp()
        saved = {r.rule_id: r.state for r in session.scalars(select(SiemRuleState))}
        for rule in self.correlation:
            if rule.rule_id in saved:
                rule.load_state(saved[rule.rule_id], now)
