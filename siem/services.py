"""Background services for ``simpul up``: the syslog listeners and the event writer."""

from __future__ import annotations

from siem.service import SiemService
from simpul.context import AppContext


def background_services(app: AppContext) -> list[SiemService]:
    """Return the SIEM ingest service (configured from ``SIMPUL_SYSLOG_*``/``SIMPUL_SIEM_*``)."""
    return [SiemService(app)]
