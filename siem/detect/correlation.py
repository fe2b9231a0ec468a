"""Stateful correlation rules in a readable YAML format.

One file holds one rule (a mapping) or several (``rules: [...]``)::

    id: ssh-brute-force
    title: SSH brute force from one source
    type: threshold            # threshold | sequence | spread | absence | change_window
    match: event.module:openssh AND event.outcome:failure   # the console's query syntax
    group_by: [source.ip]
    count: 5
    window: 2m
    severity: high             # info | low | medium | high | critical
    technique: T1110.001       # MITRE ATT&CK, where one fits
    kind: security             # security | infrastructure (carries a DRP damage class)

``sequence`` has ``first: {match, count}`` and ``then: {match}``; ``spread`` has
``distinct: destination.port``; ``absence`` watches the inventory's devices (or every
host seen, when the inventory lists none) and fires when one is silent for ``window``;
``change_window`` fires on matching events unless a maintenance window (``windows``) or
an approved helpdesk work order (``work_orders: true``) covers the device.

State is bounded: at most ``max_groups`` keys per rule (least recently used dropped)
and per key only what the rule needs (``count`` timestamps). ``dump_state``/``load_state``
turn it into JSON, which the engine saves so windows survive a restart.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from siem.detect.alerts import SEVERITIES, Alert, opd_of
from siem.detect.sigma_rules import LoadProblem, rule_files
from siem.query import Gate, QueryError, compile_python, gate_of, gates_of, parse_query

Event = dict[str, Any]
TYPES = ("threshold", "sequence", "spread", "absence", "change_window")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_MAX_GROUPS = 10_000

# (host name or address, event time) -> True when an approved change covers it
ChangeLookup = Callable[[str, datetime], bool]


class RuleFileError(ValueError):
    """A correlation rule that cannot be loaded (reported, not raised to the service)."""


def parse_duration(text: Any, name: str) -> float:
    """``30s``, ``5m``, ``2h``, ``1d`` (or a number of seconds) -> seconds."""
    if isinstance(text, int | float) and text > 0:
        return float(text)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = str(text).strip()
    if raw and raw[-1] in units:
        try:
            value = float(raw[:-1]) * units[raw[-1]]
            if value > 0:
                return value
        except ValueError:
            pass
    raise RuleFileError(f"{name}: {text!r} is not a duration like 30s, 5m, 2h, 1d")


def _ts(event: Event) -> float:
    stamp = event.get("@timestamp")
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    created = event.get("event.created")
    if isinstance(created, datetime):
        return created.timestamp()
    return datetime.now(UTC).timestamp()


@dataclass(frozen=True)
class MaintenanceWindow:
    """Weekly window, e.g. Saturday 22:00–04:00 WIB (may cross midnight)."""

    days: tuple[int, ...]
    start: time
    end: time
    tz: ZoneInfo

    def covers(self, when: datetime) -> bool:
        """True when *when* falls inside this window."""
        local = when.astimezone(self.tz)
        t = local.time()
        if self.start <= self.end:
            return local.weekday() in self.days and self.start <= t < self.end
        if t >= self.start:
            return local.weekday() in self.days
        return (local.weekday() - 1) % 7 in self.days and t < self.end


def _window(spec: Any) -> MaintenanceWindow:
    if not isinstance(spec, dict):
        raise RuleFileError("windows: each entry is {days: [...], start: HH:MM, end: HH:MM}")
    days = spec.get("days", list(_DAYS))
    try:
        idx = tuple(_DAYS.index(str(d).lower()[:3]) for d in days)
        start = time.fromisoformat(str(spec.get("start", "00:00")))
        end = time.fromisoformat(str(spec.get("end", "23:59")))
        tz = ZoneInfo(str(spec.get("tz", "Asia/Jakarta")))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise RuleFileError(f"windows: {exc}") from None
    return MaintenanceWindow(idx, start, end, tz)


@dataclass
class CorrelationRule:
    """One loaded rule and its bounded state."""

    rule_id: str
    title: str
    type: str
    severity: str
    technique: str
    kind: str
    window: float
    count: int
    group_by: tuple[str, ...]
    match: Callable[[Event], bool]
    path: str
    description: str = ""
    then: Callable[[Event], bool] | None = None
    distinct: str = ""
    windows: tuple[MaintenanceWindow, ...] = ()
    work_orders: bool = False
    damage_class: str = ""
    max_groups: int = DEFAULT_MAX_GROUPS
    query: str = ""
    gate: tuple[str, frozenset[str]] | None = None
    # Gates of which every match needs one (query.gates_of); None: no such gates.
    gates: list[Gate] | None = None
    state: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    fired: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------ state helpers
    def _slot(self, key: str, factory: Callable[[], Any]) -> Any:
        slot = self.state.get(key)
        if slot is None:
            slot = factory()
            self.state[key] = slot
            if len(self.state) > self.max_groups:
                self.state.popitem(last=False)
        else:
            self.state.move_to_end(key)
        return slot

    def _key(self, event: Event) -> str | None:
        values = []
        for name in self.group_by:
            value = event.get(name)
            if value in (None, "", []):
                return None
            values.append(str(value))
        return "|".join(values)

    def _entity(self, key: str) -> str:
        return ",".join(f"{n}={v}" for n, v in zip(self.group_by, key.split("|"), strict=False))

    def _alert(self, key: str, when: float, ids: list[str], summary: str, event: Event,
               **context: Any) -> Alert:
        return Alert(rule_id=self.rule_id, title=self.title, severity=self.severity,
                     entity=self._entity(key) if self.group_by else key,
                     when=datetime.fromtimestamp(when, UTC), technique=self.technique,
                     kind=self.kind, summary=summary, event_ids=ids[-50:], opd=opd_of(event),
                     damage_class=self.damage_class, context=context)

    # ---------------------------------------------------------------- process
    def process(self, event: Event, changes: ChangeLookup | None) -> Alert | None:
        """Feed one event; return an alert when the rule fires."""
        if self.type == "absence":
            return None
        if self.type == "sequence":
            return self._sequence(event)
        if not self.match(event):
            return None
        key = self._key(event)
        if key is None:
            return None
        ts = _ts(event)
        eid = str(event.get("event.id", ""))
        if self.type == "threshold":
            slot: deque[tuple[float, str]] = self._slot(key, lambda: deque(maxlen=self.count))
            slot.append((ts, eid))
            if len(slot) >= self.count and ts - slot[0][0] <= self.window:
                ids = [i for _, i in slot]
                slot.clear()
                return self._alert(key, ts, ids, f"{self.count} matching events within "
                                   f"{int(self.window)}s", event)
            return None
        if self.type == "spread":
            value = event.get(self.distinct)
            if value in (None, ""):
                return None
            seen: dict[str, tuple[float, str]] = self._slot(key, dict)
            seen[str(value)] = (ts, eid)
            for old in [v for v, (t, _) in seen.items() if ts - t > self.window]:
                del seen[old]
            if len(seen) > self.count * 2:  # bounded even when the window is huge
                for old in sorted(seen, key=lambda v: seen[v][0])[: len(seen) - self.count]:
                    del seen[old]
            if len(seen) >= self.count:
                values = sorted(seen)
                ids = [i for _, i in seen.values()]
                seen.clear()
                return self._alert(key, ts, ids, f"{len(values)} distinct {self.distinct} "
                                   f"within {int(self.window)}s", event,
                                   values=values[:50])
            return None
        if self.type == "change_window":
            # One command is logged by every FRR daemon that received it: report it once.
            what = f"{key}|{event.get('frr.command') or event.get('message') or ''}"
            last = self.fired.get(what)
            if last is not None and abs(ts - last) < 5:
                return None
            self.fired[what] = ts
            if len(self.fired) > self.max_groups:
                for old in sorted(self.fired, key=self.fired.__getitem__)[:len(self.fired) // 2]:
                    del self.fired[old]
            when = datetime.fromtimestamp(ts, UTC)
            if any(w.covers(when) for w in self.windows):
                return None
            device = str(event.get("host.name") or event.get("host.ip") or "")
            if self.work_orders and changes is not None and device and changes(device, when):
                return None
            who = event.get("user.name") or "unknown user"
            return self._alert(key, ts, [eid], f"configuration changed by {who} outside "
                               "an approved work order or maintenance window", event)
        return None

    def _sequence(self, event: Event) -> Alert | None:
        first = self.match(event)
        then = self.then(event) if self.then is not None else False
        if not first and not then:
            return None
        key = self._key(event)
        if key is None:
            return None
        ts, eid = _ts(event), str(event.get("event.id", ""))
        if first:
            slot: deque[tuple[float, str]] = self._slot(key, lambda: deque(maxlen=self.count))
            slot.append((ts, eid))
            return None
        slot = self.state.get(key)
        if not slot:
            return None
        recent = [(t, i) for t, i in slot if ts - t <= self.window]
        del self.state[key]
        if len(recent) >= self.count:
            return self._alert(key, ts, [i for _, i in recent] + [eid],
                               f"{len(recent)} failures then a success within "
                               f"{int(self.window)}s", event)
        return None

    # --------------------------------------------------------------- absence
    def seen(self, event: Event) -> None:
        """Absence rules: remember when each host last sent something."""
        host = event.get("host.ip") or event.get("host.name")
        if not host:
            return
        self._slot(str(host), lambda: [0.0, str(event.get("host.name") or host)])[0] = _ts(
            event)
        self.fired.pop(str(host), None)

    def silent(self, now: float, expected: Iterable[str] | None) -> list[Alert]:
        """Absence rules: alerts for expected hosts silent longer than ``window``."""
        alerts: list[Alert] = []
        keys = list(expected) if expected is not None else list(self.state)
        for host in keys:
            slot = self.state.get(host)
            if slot is None or host in self.fired:
                continue  # never heard from it (nothing to compare) or already reported
            last, name = slot
            if now - last > self.window:
                self.fired[host] = now
                alerts.append(Alert(
                    rule_id=self.rule_id, title=self.title, severity=self.severity,
                    entity=f"host.name={name}", when=datetime.fromtimestamp(now, UTC),
                    technique=self.technique, kind=self.kind,
                    summary=f"no log from {name} ({host}) for {int(now - last)}s",
                    damage_class=self.damage_class))
        return alerts

    # ---------------------------------------------------------- persistence
    def dump_state(self) -> dict[str, Any]:
        """JSON-able state (lists of [time, id] or {value: [time, id]})."""
        out: dict[str, Any] = {}
        for key, slot in self.state.items():
            if isinstance(slot, deque):
                out[key] = [list(x) for x in slot]
            elif isinstance(slot, dict):
                out[key] = {v: list(x) for v, x in slot.items()}
            else:
                out[key] = list(slot)
        return {"groups": out, "fired": dict(self.fired)}

    def load_state(self, data: dict[str, Any], now: float) -> None:
        """Restore state saved by ``dump_state``, dropping what left the window."""
        self.state.clear()
        groups = data.get("groups", {}) if isinstance(data, dict) else {}
        for key, slot in list(groups.items())[-self.max_groups:]:
            try:
                if self.type in ("threshold", "sequence"):
                    items = [(float(t), str(i)) for t, i in slot if now - float(t) <= self.window]
                    if items:
                        self.state[key] = deque(items[-self.count:], maxlen=self.count)
                elif self.type == "spread":
                    kept = {v: (float(t), str(i)) for v, (t, i) in slot.items()
                            if now - float(t) <= self.window}
                    if kept:
                        self.state[key] = kept
                elif self.type == "absence":
                    self.state[key] = [float(slot[0]), str(slot[1])]
            except (TypeError, ValueError):
                continue
        self.fired = {k: float(v) for k, v in (data.get("fired") or {}).items()
                      if isinstance(v, int | float)} if isinstance(data, dict) else {}


def _query(spec: Any, name: str) -> tuple[Callable[[Event], bool], str]:
    text = spec.get("match") if isinstance(spec, dict) else spec
    if not isinstance(text, str) or not text.strip():
        raise RuleFileError(f"{name}: 'match' must be a query string")
    try:
        node = parse_query(text)
    except QueryError as exc:
        raise RuleFileError(f"{name}: {exc}") from None
    predicate = compile_python(node)
    predicate.gate = gate_of(node)  # type: ignore[attr-defined]
    predicate.gates = gates_of(node)  # type: ignore[attr-defined]
    return predicate, text


def build_rule(spec: dict[str, Any], path: str) -> CorrelationRule:
    """Validate one rule mapping and build it.

    Raises:
        RuleFileError: a missing or invalid key, with the rule id and key named.
    """
    rid = str(spec.get("id") or "").strip()
    if not rid:
        raise RuleFileError("rule without 'id'")
    kind_ = str(spec.get("type", ""))
    if kind_ not in TYPES:
        raise RuleFileError(f"{rid}: type must be one of {', '.join(TYPES)}")
    severity = str(spec.get("severity", "medium"))
    if severity not in SEVERITIES:
        raise RuleFileError(f"{rid}: severity must be one of {', '.join(SEVERITIES)}")
    group_by = spec.get("group_by", [])
    if isinstance(group_by, str):
        group_by = [group_by]
    if kind_ != "absence" and not group_by:
        raise RuleFileError(f"{rid}: group_by is required")
    window = parse_duration(spec.get("window", "5m"), f"{rid}: window")
    try:
        count = int(spec.get("count", 1))
    except (TypeError, ValueError):
        raise RuleFileError(f"{rid}: count must be a whole number") from None
    if not 1 <= count <= 10_000:
        raise RuleFileError(f"{rid}: count must be between 1 and 10000")
    kind = str(spec.get("kind", "security"))
    if kind not in ("security", "infrastructure"):
        raise RuleFileError(f"{rid}: kind must be security or infrastructure")
    rule_kw: dict[str, Any] = {}
    query = ""
    gate = None
    gates: list[Gate] | None = None
    if kind_ == "sequence":
        first, then = spec.get("first"), spec.get("then")
        if not isinstance(first, dict) or not isinstance(then, dict):
            raise RuleFileError(f"{rid}: sequence needs 'first' and 'then' mappings")
        match, query = _query(first, f"{rid}: first")
        count = int(first.get("count", count))
        rule_kw["then"], then_q = _query(then, f"{rid}: then")
        query = f"({query}) then ({then_q})"
        g1, g2 = getattr(match, "gate", None), getattr(rule_kw["then"], "gate", None)
        if g1 is not None and g2 is not None and g1[0] == g2[0]:
            gate = (g1[0], g1[1] | g2[1])
        l1, l2 = getattr(match, "gates", None), getattr(rule_kw["then"], "gates", None)
        if l1 is not None and l2 is not None:
            merged: dict[str, frozenset[str]] = {}
            for field_name, values in (*l1, *l2):
                merged[field_name] = merged.get(field_name, frozenset()) | values
            gates = list(merged.items())
    elif kind_ == "absence":
        match, query = (lambda _e: True), ""
    else:
        match, query = _query(spec, rid)
        gate = getattr(match, "gate", None)
        gates = getattr(match, "gates", None)
    if kind_ == "spread":
        distinct = spec.get("distinct")
        if not isinstance(distinct, str) or not distinct:
            raise RuleFileError(f"{rid}: spread needs 'distinct' (a field name)")
        rule_kw["distinct"] = distinct
    if kind_ == "change_window":
        rule_kw["windows"] = tuple(_window(w) for w in spec.get("windows") or [])
        rule_kw["work_orders"] = bool(spec.get("work_orders", True))
    damage = str(spec.get("damage_class", "interruption" if kind == "infrastructure" else ""))
    return CorrelationRule(
        rule_id=f"corr:{rid}", title=str(spec.get("title") or rid), type=kind_,
        severity=severity, technique=str(spec.get("technique") or "").upper(), kind=kind,
        window=window, count=count, group_by=tuple(group_by), match=match, path=path,
        description=str(spec.get("description") or "").strip(), damage_class=damage,
        max_groups=int(spec.get("max_groups", DEFAULT_MAX_GROUPS)), query=query, gate=gate,
        gates=gates, **rule_kw)


def load_correlation_dir(paths: Iterable[Path]
                         ) -> tuple[list[CorrelationRule], list[LoadProblem]]:
    """Load every ``*.yml``/``*.yaml`` under *paths*; return rules and what was refused."""
    rules: list[CorrelationRule] = []
    problems: list[LoadProblem] = []
    seen: set[str] = set()
    for path in rule_files(paths):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(LoadProblem(str(path), "", f"cannot parse: {exc}"))
            continue
        specs = data.get("rules") if isinstance(data, dict) and "rules" in data else [data]
        for spec in specs or []:
            if not isinstance(spec, dict):
                problems.append(LoadProblem(str(path), "", "a rule must be a mapping"))
                continue
            try:
                rule = build_rule(spec, str(path))
            except RuleFileError as exc:
                problems.append(LoadProblem(str(path), str(spec.get("id", "")), str(exc)))
                continue
            if rule.rule_id in seen:
                problems.append(LoadProblem(str(path), rule.rule_id, "duplicate rule id"))
                continue
            seen.add(rule.rule_id)
            rules.append(rule)
    return rules, problems


def utc_now() -> float:
    """Wall clock in epoch seconds (absence checks)."""
    return datetime.now(UTC).timestamp()


ONE_DAY = timedelta(days=1)
