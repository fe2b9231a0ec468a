"""Table-driven parsing: a parser is a list of (regex, static fields) rules.

Named groups carry the target field with ``__`` for each dot (``source__ip`` fills
``source.ip``), so a rule reads as the event it produces. Patterns are compiled once at
import; the first matching rule wins.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from siem.parsers.syslog import SyslogMessage

Fields = dict[str, Any]
ParserFunc = Callable[[SyslogMessage], "Fields | None"]

INT_FIELDS = frozenset({
    "source.port", "destination.port", "process.pid", "http.response.status_code",
    "http.response.body.bytes", "source.bytes", "destination.bytes", "event.severity",
    "network.bytes", "network.packets", "radius.nas_port", "rule.id",
})

# Cisco severity digits, FortiGate levels and syslog keywords on the syslog 0-7 scale.
LEVELS = {"emergency": 0, "emerg": 0, "alert": 1, "critical": 2, "crit": 2, "error": 3,
          "err": 3, "warning": 4, "warn": 4, "notice": 5, "information": 6,
          "informational": 6, "info": 6, "debug": 7}


@dataclass(frozen=True, slots=True)
class Rule:
    """One line shape: a compiled pattern and the fields every match gets."""

    pattern: re.Pattern[str]
    fields: Fields
    # (group index, field, is an integer field) for each named group, worked out once.
    groups: tuple[tuple[int, str, bool], ...] = ()

    def apply(self, text: str) -> Fields | None:
        """Return the fields for *text*, or None when the pattern does not match."""
        m = self.pattern.search(text)
        if m is None:
            return None
        out = dict(self.fields)
        values = m.groups()
        for index, key, is_int in self.groups:
            value = values[index]
            if not value:
                continue
            if is_int:
                try:
                    out[key] = int(value)
                except ValueError:
                    continue
            else:
                out[key] = value
        return out


def rule(pattern: str, **fields: Any) -> Rule:
    """Build a Rule; keyword names use ``__`` for dots like the groups (``event__action``)."""
    compiled = re.compile(pattern)
    groups = []
    for name, number in sorted(compiled.groupindex.items(), key=lambda item: item[1]):
        key = name.replace("__", ".")
        groups.append((number - 1, key, key in INT_FIELDS))
    return Rule(compiled, {k.replace("__", "."): v for k, v in fields.items()}, tuple(groups))


def first_match(rules: Iterable[Rule], text: str) -> Fields | None:
    """Return the fields of the first rule matching *text*."""
    for r in rules:
        found = r.apply(text)
        if found is not None:
            return found
    return None


def is_ip(value: str | None) -> bool:
    """True for a literal IPv4 or IPv6 address."""
    if not value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def norm_mac(value: str | None) -> str | None:
    """Return a MAC in ECS form (``AA-BB-CC-DD-EE-FF``), or None when it is not one."""
    if not value:
        return None
    digits = re.sub(r"[^0-9A-Fa-f]", "", value)
    if len(digits) != 12:
        return None
    return "-".join(digits[i:i + 2] for i in range(0, 12, 2)).upper()


KV = re.compile(r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def key_values(text: str) -> dict[str, str]:
    """Parse ``key=value key2="quoted value"`` pairs (FortiGate, iptables, PAM)."""
    out: dict[str, str] = {}
    for key, value in KV.findall(text):
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"')
        out[key] = value
    return out
