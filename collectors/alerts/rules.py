"""Alert rules and notification channels, read from a TOML file (defaults built in).

The file is meant to be read and edited by the NOC: see ``default_rules.toml``. Keys a
rule does not know as common settings are the kind's parameters (``threshold_pct`` ...).
Errors name the file, the rule and the key, and nothing of a broken file is used.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.alerts.lifecycle import Timing
from collectors.alerts.models import SEVERITIES
from simpul.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")
_COMMON = {"name", "kind", "severity", "for_s", "flap_window_s", "flap_threshold", "enabled",
           "description", "every_s"}
CHANNEL_KINDS = ("email", "webhook")


@dataclass(frozen=True)
class Rule:
    """One rule: which evaluator, how severe, its timing and parameters."""

    name: str
    kind: str
    severity: str = "medium"
    timing: Timing = field(default_factory=Timing)
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    description: str = ""
    every_s: float = 0.0  # evaluate at most this often (expensive kinds such as anomaly)

    def param(self, key: str, default: Any) -> Any:
        """A parameter of the rule, else *default*."""
        return self.params.get(key, default)


@dataclass(frozen=True)
class Channel:
    """Where notifications go: e-mail recipients or a webhook URL."""

    kind: str
    to: tuple[str, ...] = ()
    url: str = ""
    min_severity: str = "info"

    def wants(self, severity: str) -> bool:
        """True when *severity* is at least this channel's minimum."""
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return rank.get(severity, 99) <= rank.get(self.min_severity, 99)


@dataclass(frozen=True)
class RuleSet:
    """Everything a rules file defines."""

    rules: tuple[Rule, ...]
    channels: tuple[Channel, ...] = ()
    source: str = ""

    def get(self, name: str) -> Rule | None:
        """The rule called *name*, or None."""
        return next((r for r in self.rules if r.name == name), None)


def _number(where: str, key: str, value: Any, minimum: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"{where}: {key} must be a number >= {minimum:g}")
    return float(value)


def parse_rules(data: dict[str, Any], source: str = "<rules>",
                known_kinds: frozenset[str] | None = None) -> RuleSet:
    """Build a RuleSet from parsed TOML *data*.

    Raises:
        ConfigError: an unknown kind, a duplicate name, a bad value (naming where).
    """
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{source}: [defaults] must be a table")
    rules: list[Rule] = []
    for index, raw in enumerate(data.get("rules", []), 1):
        where = f"{source}: rule {raw.get('name') or index}"
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("kind"):
            raise ConfigError(f"{where}: needs a name and a kind")
        if known_kinds is not None and raw["kind"] not in known_kinds:
            raise ConfigError(f"{where}: unknown kind {raw['kind']!r} "
                              f"(known: {', '.join(sorted(known_kinds))})")
        severity = str(raw.get("severity", "medium"))
        if severity not in SEVERITIES:
            raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if any(r.name == raw["name"] for r in rules):
            raise ConfigError(f"{where}: the name is used twice")
        merged = {**defaults, **raw}
        timing = Timing(for_s=_number(where, "for_s", merged.get("for_s", 0)),
                        flap_window_s=_number(where, "flap_window_s",
                                              merged.get("flap_window_s", 900), 1),
                        flap_threshold=int(_number(where, "flap_threshold",
                                                   merged.get("flap_threshold", 5))))
        params = {k: v for k, v in raw.items() if k not in _COMMON}
        rules.append(Rule(str(raw["name"]), str(raw["kind"]), severity, timing, params,
                          bool(raw.get("enabled", True)), str(raw.get("description", "")),
                          _number(where, "every_s", raw.get("every_s", 0))))
    channels = []
    for index, raw in enumerate(data.get("notify", []), 1):
        where = f"{source}: notify {index}"
        kind = raw.get("kind")
        if kind not in CHANNEL_KINDS:
            raise ConfigError(f"{where}: kind must be email or webhook")
        if kind == "email" and not raw.get("to"):
            raise ConfigError(f"{where}: an email channel needs to = [addresses]")
        if kind == "webhook" and not str(raw.get("url", "")).startswith(("http://", "https://")):
            raise ConfigError(f"{where}: a webhook needs an http(s) url")
        severity = str(raw.get("min_severity", "info"))
        if severity not in SEVERITIES:
            raise ConfigError(f"{where}: min_severity must be one of {', '.join(SEVERITIES)}")
        to = raw.get("to", ())
        channels.append(Channel(kind, tuple([to] if isinstance(to, str) else to),
                                str(raw.get("url", "")), severity))
    return RuleSet(tuple(rules), tuple(channels), source)


def load_rules(path: str | Path | None = None, known_kinds: frozenset[str] | None = None
               ) -> RuleSet:
    """Read the rules file at *path* (default: the built-in defaults)."""
    path = Path(path).expanduser() if path else DEFAULT_RULES
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"alert rules file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"alert rules file {path} is not valid TOML: {exc}") from None
    return parse_rules(data, str(path), known_kinds)
