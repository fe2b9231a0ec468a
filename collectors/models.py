"""The collectors' tables, one module per part, gathered for the model registry.

Each part (SNMP time series, flows and traps, probes and alerts) keeps its own tables
next to its code; the registry imports only this module.
"""

from __future__ import annotations

from simpul.plugins import optional_import

PART_MODEL_MODULES = (
    "collectors.snmp.models",
    "collectors.flows.models",
    "collectors.probes.models",
    "collectors.alerts.models",
)

for _name in PART_MODEL_MODULES:
    optional_import(_name)
