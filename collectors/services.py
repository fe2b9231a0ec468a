"""Background services of every collector part, for ``simpul up``."""

from __future__ import annotations

from typing import Any

from simpul.context import AppContext
from simpul.plugins import optional_import

PART_SERVICE_MODULES = (
    "collectors.snmp.services",
    "collectors.flows.services",
    "collectors.probes.services",
    "collectors.alerts.services",
)


def background_services(app: AppContext) -> list[Any]:
    """Return what each part wants running; a part without services adds nothing."""
    found: list[Any] = []
    for name in PART_SERVICE_MODULES:
        factory = getattr(optional_import(name), "background_services", None)
        if factory is not None:
            found.extend(factory(app))
    return found
