"""What a rule hit produces: an Alert, before it is filed into an incident."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
DAMAGE_CLASSES = ("interruption", "minor", "major", "disaster")


@dataclass
class Alert:
    """One rule hit on one entity, with the events that made it fire."""

    rule_id: str
    title: str
    severity: str
    entity: str
    when: datetime
    technique: str = ""
    kind: str = "security"  # security | infrastructure
    summary: str = ""
    event_ids: list[str] = field(default_factory=list)
    opd: str = ""
    damage_class: str = ""
    context: dict[str, Any] = field(default_factory=dict)


def entity_of(event: dict[str, Any], fields: tuple[str, ...]) -> str:
    """``field=value`` for the first of *fields* the event has (``host.name`` last resort)."""
    for name in (*fields, "host.name", "host.ip"):
        value = event.get(name)
        if value not in (None, "", []):
            return f"{name}={value}"
    return "unknown"


def opd_of(event: dict[str, Any]) -> str:
    """The OPD enrichment found for the event's addresses (source first)."""
    for prefix in ("source", "host", "observer", "destination"):
        value = event.get(f"{prefix}.asset.opd")
        if value:
            return str(value)
    return ""
