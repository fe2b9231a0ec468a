"""``simpul up``: the probe scheduler (``SIMPUL_PROBES_ENABLED=no`` turns it off)."""

from __future__ import annotations

import os
from typing import Any

from collectors.probes.scheduler import ProbeScheduler
from simpul.context import AppContext

_OFF = ("0", "off", "no", "false", "disabled")


def background_services(app: AppContext) -> list[Any]:
    """The probe scheduler, unless disabled."""
    if os.environ.get("SIMPUL_PROBES_ENABLED", "yes").strip().lower() in _OFF:
        return []
    return [ProbeScheduler(app.db)]
