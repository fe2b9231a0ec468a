"""``simpul collectors``: one sub-group per collector part, and ``simpul worker``."""

from __future__ import annotations

import click

from simpul.plugins import optional_import

PART_CLI_MODULES = (
    ("collectors.snmp.cli", "snmp"),
    ("collectors.flows.cli", "flows"),
    ("collectors.flows.cli", "traps"),
    ("collectors.probes.cli", "probes"),
    ("collectors.alerts.cli", "alerts"),
)

collectors = click.Group("collectors", help="SNMP polling, traps, flows, probes and alerts.")

for _module, _attr in PART_CLI_MODULES:
    _command = getattr(optional_import(_module), _attr, None)
    if isinstance(_command, click.Command):
        collectors.add_command(_command)

_worker_module = optional_import("collectors.snmp.worker_cli")
worker = getattr(_worker_module, "worker", None)
