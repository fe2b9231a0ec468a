"""Background services for ``simpul up``: the flow collector and the trap receiver."""

from __future__ import annotations

from typing import Any

from collectors.flows.collector import FlowCollector
from collectors.flows.settings import load_flow_settings, load_trap_settings
from collectors.flows.traps import TrapReceiver
from simpul.context import AppContext


def background_services(app: AppContext) -> list[Any]:
    """Return the collector (``SIMPUL_FLOW_*``) and the receiver (``SIMPUL_TRAP_*``)."""
    return [FlowCollector(app.db, load_flow_settings()),
            TrapReceiver(app.db, load_trap_settings())]
