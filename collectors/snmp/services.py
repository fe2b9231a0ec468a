"""Background services for ``simpul up``: the SNMP poller (or Celery dispatcher) and writer."""

from __future__ import annotations

from collectors.snmp.service import SnmpService
from collectors.snmp.settings import load_snmp_settings
from simpul.context import AppContext


def background_services(app: AppContext) -> list[SnmpService]:
    """Return the SNMP service unless ``SIMPUL_SNMP_ENABLED=false``."""
    settings = load_snmp_settings()
    return [SnmpService(app, settings)] if settings.enabled else []
