"""``simpul up``: the alert engine (``SIMPUL_ALERTS_ENABLED=no`` turns it off)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from collectors.alerts.adapters import CollectorSource
from collectors.alerts.engine import AlertEngine
from collectors.alerts.evaluators import EVALUATORS
from collectors.alerts.rules import load_rules
from collectors.alerts.settings import AlertSettings, load_alert_settings
from collectors.alerts.sources import MetricSource
from simpul.context import AppContext


def build_engine(app: AppContext, *, source: MetricSource | None = None,
                 settings: AlertSettings | None = None) -> AlertEngine:
    """The engine with the configured rules file, channels and the collectors' data."""
    settings = settings or load_alert_settings()
    ruleset = load_rules(settings.rules_file or None, frozenset(EVALUATORS))
    return AlertEngine(app.db, ruleset, source or CollectorSource(), settings,
                       tz=ZoneInfo(app.settings.timezone))


def background_services(app: AppContext) -> list[Any]:
    """The alert engine, unless disabled."""
    settings = load_alert_settings()
    if not settings.enabled:
        return []
    return [build_engine(app, settings=settings)]
