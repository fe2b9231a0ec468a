"""Sigma rules: parsed by pySigma, evaluated in Python on normalised events.

pySigma turns a rule into condition trees whose leaves are ``field = typed value``
(modifiers already applied: ``contains`` became wildcards, ``re`` a regular expression,
``cidr`` a network, ``lt`` a comparison). We compile those trees once into closures and
run them per event. Sigma's field names (``User``, ``SourceIp``, web server
``c-ip``/``cs-uri-query``…) are mapped to our ECS-style fields by ``FIELD_MAP``; a
field already written in ECS form (``source.ip``) is used as is.

What cannot be evaluated faithfully is refused *at load time* with a reason
(``LoadProblem``), never silently ignored: encoding modifiers (``base64``, ``wide``,
``utf16``, ``windash``), placeholders (``expand``), field references, timestamp parts,
Sigma correlation rules, and log sources we receive nothing from (Windows, cloud...).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma import modifiers as sm
from sigma.collection import SigmaCollection
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

Event = dict[str, Any]
Predicate = Callable[[Event], bool]

# Sigma taxonomy (and common log-source field names) -> our fields.
FIELD_MAP: dict[str, str] = {
    "User": "user.name", "TargetUserName": "user.name", "SubjectUserName": "user.name",
    "user": "user.name", "username": "user.name", "pam_user": "user.name",
    "SourceIp": "source.ip", "src_ip": "source.ip", "SourceAddress": "source.ip",
    "IpAddress": "source.ip", "c-ip": "source.ip", "pam_rhost": "source.ip",
    "DestinationIp": "destination.ip", "dst_ip": "destination.ip",
    "SourcePort": "source.port", "src_port": "source.port",
    "DestinationPort": "destination.port", "dst_port": "destination.port",
    "Hostname": "host.name", "Computer": "host.name", "hostname": "host.name",
    "Message": "message", "message": "message", "msg": "message",
    "Image": "process.name", "ProcessName": "process.name", "Application": "process.name",
    "EventID": "event.code", "Action": "event.action", "action": "event.action",
    "Outcome": "event.outcome", "Severity": "event.severity", "Protocol": "network.transport",
    "Interface": "observer.ingress.interface.name",
    "cs-method": "http.request.method", "cs-uri-query": "url.query",
    "cs-uri-stem": "url.path", "cs-uri": "url.original", "c-uri": "url.original",
    "c-uri-query": "url.query", "sc-status": "http.response.status_code",
    "cs-user-agent": "user_agent.original", "c-useragent": "user_agent.original",
    "cs-referrer": "http.request.referrer", "cs-host": "url.domain",
    "Mnemonic": "cisco.ios.mnemonic", "Facility": "cisco.ios.facility",
}

# Log sources we understand: (category, product, service) -> event.module values
# (None = any module). A key part None matches any value of that part in the rule.
LOGSOURCES: list[tuple[tuple[str | None, str | None, str | None], frozenset[str] | None]] = [
    ((None, None, "sshd"), frozenset({"openssh"})),
    ((None, None, "sudo"), frozenset({"sudo"})),
    ((None, None, "auth"), frozenset({"openssh", "sudo", "pam"})),
    ((None, None, "syslog"), None),
    ((None, "linux", None), None),
    ((None, "cisco", None), frozenset({"cisco"})),
    ((None, None, "ios"), frozenset({"cisco"})),
    ((None, None, "aaa"), frozenset({"cisco"})),
    ((None, None, "nginx"), frozenset({"nginx", "apache", "http"})),
    ((None, None, "apache"), frozenset({"nginx", "apache", "http"})),
    (("webserver", None, None), frozenset({"nginx", "apache", "http"})),
    ((None, None, "freeradius"), frozenset({"freeradius"})),
    ((None, "freeradius", None), frozenset({"freeradius"})),
    ((None, None, "strongswan"), frozenset({"strongswan"})),
    ((None, "strongswan", None), frozenset({"strongswan"})),
    ((None, None, "nftables"), frozenset({"netfilter"})),
    ((None, None, "iptables"), frozenset({"netfilter"})),
    (("firewall", None, None), frozenset({"netfilter", "fortinet", "cisco", "mikrotik"})),
    ((None, None, "snmpd"), frozenset({"snmpd"})),
    ((None, "frr", None), frozenset({"frr"})),
    ((None, "fortinet", None), frozenset({"fortinet"})),
    ((None, "mikrotik", None), frozenset({"mikrotik"})),
    ((None, "simpul", None), frozenset({"simpul"})),
]

_UNSUPPORTED_MODIFIERS: dict[type, str] = {
    sm.SigmaBase64Modifier: "base64", sm.SigmaBase64OffsetModifier: "base64offset",
    sm.SigmaWideModifier: "wide", sm.SigmaUTF16Modifier: "utf16",
    sm.SigmaUTF16BEModifier: "utf16be", sm.SigmaWindowsDashModifier: "windash",
    sm.SigmaExpandModifier: "expand", sm.SigmaFieldReferenceModifier: "fieldref",
    sm.SigmaTimestampModifier: "timestamp part",
}
_LEVELS = ("informational", "low", "medium", "high", "critical")
_SEVERITY = {"informational": "info", "low": "low", "medium": "medium", "high": "high",
             "critical": "critical"}


class Unsupported(Exception):
    """A rule construct the evaluator cannot run faithfully."""


@dataclass(frozen=True)
class LoadProblem:
    """A rule file (or one rule in it) that was not loaded, and why."""

    path: str
    rule: str
    reason: str


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.yml``/``*.yaml`` file named in *paths* or under them (missing ones skipped),
    in a stable order: the Sigma and the correlation loaders read the same folders."""
    files: list[Path] = []
    for base in paths:
        if base.is_file():
            files.append(base)
        elif base.exists():
            files += sorted(p for p in base.rglob("*") if p.suffix in (".yml", ".yaml"))
    return files


@dataclass
class CompiledSigmaRule:
    """One Sigma rule ready to run."""

    rule_id: str
    title: str
    severity: str
    technique: str
    tactics: list[str]
    modules: frozenset[str] | None
    predicate: Predicate
    path: str
    description: str = ""
    entity_fields: tuple[str, ...] = ("source.ip", "user.name", "host.name")
    kind: str = "security"
    references: list[str] = field(default_factory=list)
    # (field, lower-cased values): the event's value of that field, lower-cased, must be
    # one of these for the rule to match at all (see gate_of); None: no such field.
    gate: tuple[str, frozenset[str]] | None = None


def _resolve_logsource(rule: SigmaRule) -> frozenset[str] | None:
    """Return the event modules a rule applies to (None: any), or raise Unsupported."""
    ls = rule.logsource
    sets: list[frozenset[str] | None] = []
    for pos, value in enumerate((ls.category, ls.product, ls.service)):
        if value is None:
            continue
        matches = [mods for key, mods in LOGSOURCES if key[pos] == value]
        if not matches:
            raise Unsupported(f"log source category={ls.category} product={ls.product} "
                              f"service={ls.service} is not one simpul receives")
        sets.append(matches[0])
    if not sets:
        raise Unsupported("logsource is empty")
    specific = [s for s in sets if s is not None]
    if not specific:
        return None
    result = specific[0]
    for other in specific[1:]:
        result = result & other
    if not result:
        raise Unsupported("log source parts contradict each other")
    return result


def _map_field(name: str | None) -> str:
    if name is None:
        return "message"
    return FIELD_MAP.get(name, name)


def _string_matcher(value: SigmaString) -> Callable[[str], bool]:
    cased = isinstance(value, SigmaCasedString)
    parts = value.s
    if not value.contains_special():
        plain = value.to_plain()
        if cased:
            return lambda v: v == plain
        low = plain.lower()
        return lambda v: v.lower() == low
    # Fast paths for *x*, x*, *x (the common contains/startswith/endswith).
    if all(isinstance(p, str) or p is SpecialChars.WILDCARD_MULTI for p in parts):
        inner = [p for p in parts if isinstance(p, str)]
        if len(inner) == 1:
            text = inner[0] if cased else inner[0].lower()
            lead = parts[0] is SpecialChars.WILDCARD_MULTI
            trail = parts[-1] is SpecialChars.WILDCARD_MULTI
            norm: Callable[[str], str] = (lambda v: v) if cased else str.lower
            if lead and trail:
                return lambda v: text in norm(v)
            if trail:
                return lambda v: norm(v).startswith(text)
            if lead:
                return lambda v: norm(v).endswith(text)
    rx = re.compile(value.to_regex().regexp.to_plain() if hasattr(value, "to_regex")
                    else re.escape(str(value)), 0 if cased else re.IGNORECASE | re.DOTALL)
    return lambda v: rx.fullmatch(v) is not None


def _value_matcher(value: Any) -> Callable[[Any], bool]:
    if isinstance(value, SigmaString):
        match = _string_matcher(value)
        return lambda v: match(v if isinstance(v, str) else str(v))
    if isinstance(value, SigmaRegularExpression):
        flags = 0
        for flag in value.flags:
            flags |= {SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
                      SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
                      SigmaRegularExpressionFlag.DOTALL: re.DOTALL}[flag]
        rx = re.compile(str(value.regexp), flags)
        return lambda v: rx.search(str(v)) is not None
    if isinstance(value, SigmaCIDRExpression):
        net = value.network

        def in_net(v: Any) -> bool:
            try:
                return ipaddress.ip_address(str(v)) in net
            except ValueError:
                return False
        return in_net
    if isinstance(value, SigmaNumber):
        num = value.number
        return lambda v: _as_number(v) == num
    if isinstance(value, SigmaCompareExpression):
        num = value.number.number
        op = value.op.name
        cmp = {"LT": lambda a: a < num, "LTE": lambda a: a <= num, "GT": lambda a: a > num,
               "GTE": lambda a: a >= num, "NEQ": lambda a: a != num}.get(op)
        if cmp is None:
            raise Unsupported(f"comparison {op}")

        def compare(v: Any) -> bool:
            n = _as_number(v)
            return n is not None and cmp(n)
        return compare
    if isinstance(value, SigmaBool):
        want = value.boolean
        return lambda v: v is want or str(v).lower() == str(want).lower()
    raise Unsupported(f"value type {type(value).__name__}")


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _leaf(node: ConditionFieldEqualsValueExpression | ConditionValueExpression) -> Predicate:
    value = node.value
    fname = _map_field(getattr(node, "field", None))
    if isinstance(value, SigmaNull):
        return lambda e: e.get(fname) in (None, "")
    if isinstance(value, SigmaExists):
        want = value.exists
        return lambda e: (e.get(fname) not in (None, "")) is want
    match = _value_matcher(value)

    def pred(e: Event) -> bool:
        v = e.get(fname)
        if v is None:
            return False
        if isinstance(v, list | tuple):
            return any(match(x) for x in v)
        return match(v)
    return pred


def _combine(parts: list[Predicate], conjunction: bool) -> Predicate:
    """AND/OR of *parts* as plain calls: no generator per event (rules run on every event)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return (lambda e: a(e) and b(e)) if conjunction else (lambda e: a(e) or b(e))
    if conjunction:
        def every(e: Event) -> bool:
            for p in parts:  # noqa: SIM110 - no generator per event
                if not p(e):
                    return False
            return True
        return every

    def some(e: Event) -> bool:
        for p in parts:  # noqa: SIM110 - no generator per event
            if p(e):
                return True
        return False
    return some


def _compile(node: Any) -> Predicate:
    if isinstance(node, ConditionAND | ConditionOR):
        return _combine([_compile(a) for a in node.args], isinstance(node, ConditionAND))
    if isinstance(node, ConditionNOT):
        inner = _compile(node.args[0])
        return lambda e: not inner(e)
    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        return _leaf(node)
    raise Unsupported(f"condition element {type(node).__name__}")


def gate_of(node: Any) -> tuple[str, frozenset[str]] | None:
    """A field and the values (lower-cased) one of which every match of *node* needs.

    A leaf ``field = plain string`` (no wildcard, any case) gives itself; AND gives the
    gate of one of its parts; OR gives a gate only when all parts gate on one field
    (the union). The engine indexes rules by it, so an event meets only the rules whose
    gate its value opens (plus the ungated ones) — with many rules for one source
    (a Sigma pack for sshd) most are never called for most events.
    """
    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        value = node.value
        if isinstance(value, SigmaString) and not value.contains_special():
            return _map_field(getattr(node, "field", None)), frozenset({value.to_plain().lower()})
        return None
    if isinstance(node, ConditionAND):
        gates = [g for g in (gate_of(a) for a in node.args) if g is not None]
        return min(gates, key=lambda g: len(g[1])) if gates else None
    if isinstance(node, ConditionOR):
        return _union([gate_of(a) for a in node.args])
    return None


def _union(gates: list[tuple[str, frozenset[str]] | None]
           ) -> tuple[str, frozenset[str]] | None:
    if not gates or any(g is None for g in gates):
        return None
    fields = {g[0] for g in gates if g is not None}
    if len(fields) != 1:
        return None
    return fields.pop(), frozenset().union(*(g[1] for g in gates if g is not None))


def _check_modifiers(rule: SigmaRule) -> None:
    def walk(items: Iterable[Any]) -> None:
        for item in items:
            if hasattr(item, "detection_items"):
                walk(item.detection_items)
                continue
            for mod in getattr(item, "modifiers", ()):
                for cls, name in _UNSUPPORTED_MODIFIERS.items():
                    if issubclass(mod, cls):
                        raise Unsupported(f"modifier '{name}' on field {item.field}")
    for det in rule.detection.detections.values():
        walk(det.detection_items)


def compile_rule(rule: SigmaRule, path: str) -> CompiledSigmaRule:
    """Compile one parsed rule, or raise Unsupported with the reason."""
    if rule.errors:
        raise Unsupported("; ".join(str(e) for e in rule.errors))
    modules = _resolve_logsource(rule)
    _check_modifiers(rule)
    trees = [cond.parse() for cond in rule.detection.parsed_condition]
    preds = [_compile(tree) for tree in trees]
    predicate = preds[0] if len(preds) == 1 else (lambda e: any(p(e) for p in preds))
    gate = _union([gate_of(tree) for tree in trees])
    technique, tactics = "", []
    for tag in rule.tags:
        if tag.namespace == "attack":
            if re.fullmatch(r"t\d{4}(\.\d{3})?", tag.name):
                technique = technique or tag.name.upper()
            else:
                tactics.append(tag.name)
    level = rule.level.name.lower() if rule.level else "medium"
    custom = rule.custom_attributes or {}
    entity = custom.get("simpul_entity")
    return CompiledSigmaRule(
        rule_id=f"sigma:{rule.id or rule.title}", title=rule.title,
        severity=_SEVERITY.get(level, "medium"), technique=technique, tactics=tactics,
        modules=modules, predicate=predicate, path=path,
        description=(rule.description or "").strip(),
        entity_fields=tuple(entity) if isinstance(entity, list) else
        ("source.ip", "user.name", "host.name"),
        kind=str(custom.get("simpul_kind", "security")),
        references=list(rule.references or []), gate=gate)


def load_sigma_dir(paths: Iterable[Path]) -> tuple[list[CompiledSigmaRule], list[LoadProblem]]:
    """Load every ``*.yml``/``*.yaml`` under *paths*; return rules and what was refused."""
    rules: list[CompiledSigmaRule] = []
    problems: list[LoadProblem] = []
    seen: set[str] = set()
    for path in rule_files(paths):
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"),
                                                   collect_errors=True)
        except (SigmaError, OSError, ValueError) as exc:
            problems.append(LoadProblem(str(path), "", f"cannot parse: {exc}"))
            continue
        for error in collection.errors:
            problems.append(LoadProblem(str(path), "", str(error)))
        for item in collection.rules:
            if not isinstance(item, SigmaRule):
                problems.append(LoadProblem(str(path), getattr(item, "title", ""),
                                            "Sigma correlation rules are not supported; "
                                            "write a simpul correlation rule instead"))
                continue
            try:
                compiled = compile_rule(item, str(path))
            except (Unsupported, SigmaError) as exc:
                problems.append(LoadProblem(str(path), item.title, str(exc)))
                continue
            if compiled.rule_id in seen:
                problems.append(LoadProblem(str(path), item.title,
                                            f"duplicate rule id {compiled.rule_id}"))
                continue
            seen.add(compiled.rule_id)
            rules.append(compiled)
    return rules, problems


SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
LEVELS = _LEVELS
