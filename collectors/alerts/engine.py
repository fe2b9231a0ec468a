"""The evaluation loop: rules -> evaluators -> lifecycle -> alerts, notifications, SIEM.

One ``evaluate()`` is one transaction: every rule's observations are applied to the
stored per-key state (``alert_signals``) and open alerts, then committed; only after the
commit are notifications sent and the changes handed to the SIEM. A rule whose
evaluator fails is logged and skipped; the others still run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.alerts.evaluators import EVALUATORS, EvalContext, Observation
from collectors.alerts.lifecycle import Decision, SignalState, step
from collectors.alerts.models import Alert, AlertSignal, MaintenanceWindow
from collectors.alerts.notify import Notice, Notifier, to_siem
from collectors.alerts.rules import Rule, RuleSet
from collectors.alerts.service import in_maintenance, list_maintenance, notice_of
from collectors.alerts.settings import AlertSettings
from collectors.alerts.sources import MetricSource
from simpul.db import Database
from simpul.models import Opd, utcnow


@dataclass
class EvalReport:
    """What one evaluation did."""

    observed: int = 0
    fired: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    refreshed: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    siem_events: int = 0


def _state_of(row: AlertSignal | None) -> SignalState:
    if row is None:
        return SignalState()
    changes = [datetime.fromisoformat(t) for t in (row.changes or [])]
    pending = row.pending_since
    if pending is not None and pending.tzinfo is None:  # SQLite hands back naive UTC
        pending = pending.replace(tzinfo=UTC)
    return SignalState(breached=row.breached, pending_since=pending, changes=changes,
                       flapping=row.flapping, hold_until_clear=row.hold_until_clear)


def _store_state(row: AlertSignal, state: SignalState, now: datetime) -> None:
    row.breached = state.breached
    row.pending_since = state.pending_since
    row.changes = [t.isoformat() for t in state.changes]
    row.flapping = state.flapping
    row.hold_until_clear = state.hold_until_clear
    row.updated_at = now


class AlertEngine:
    """Evaluates a rule set against a metric source; also a ``simpul up`` service."""

    name = "alerts"

    def __init__(self, db: Database, ruleset: RuleSet, source: MetricSource,
                 settings: AlertSettings, *, notifier: Notifier | None = None,
                 tz: tzinfo = UTC) -> None:
        self.db = db
        self.ruleset = ruleset
        self.source = source
        self.settings = settings
        self.notifier = notifier or Notifier(settings, ruleset.channels)
        self.tz = tz
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_run: dict[str, datetime] = {}
        self.last_report: EvalReport | None = None

    # --- one evaluation -------------------------------------------------------------------

    def evaluate(self, now: datetime | None = None) -> EvalReport:
        """Run every enabled rule once, commit, then notify and hand over to the SIEM."""
        now = now or utcnow()
        report = EvalReport()
        changed: list[Notice] = []
        with self.db.session() as session:
            windows = list(list_maintenance(session, active_at=now))
            opd_ids = {o.code.upper(): o.id for o in session.scalars(select(Opd))}
            ctx = EvalContext(session, now, self.source, self.tz)
            for rule in self.ruleset.rules:
                if not rule.enabled:
                    continue
                last = self._last_run.get(rule.name)
                if rule.every_s and last is not None and \
                        (now - last).total_seconds() < rule.every_s:
                    continue  # an expensive rule, evaluated less often
                self._last_run[rule.name] = now
                evaluate = EVALUATORS.get(rule.kind)
                if evaluate is None:
                    report.errors[rule.name] = f"no evaluator for kind {rule.kind!r}"
                    continue
                try:
                    with session.begin_nested():
                        observations = evaluate(ctx, rule)
                except Exception as exc:
                    logger.exception("alert rule {} failed", rule.name)
                    report.errors[rule.name] = f"{type(exc).__name__}: {exc}"
                    continue
                report.observed += len(observations)
                self._apply(session, rule, observations, now, windows, opd_ids, report, changed)
            session.flush()
        self._publish(report, changed)
        self.last_report = report
        return report

    def _apply(self, session: Session, rule: Rule, observations: list[Observation],
               now: datetime, windows: list[MaintenanceWindow], opd_ids: dict[str, int],
               report: EvalReport, changed: list[Notice]) -> None:
        signals = {s.dedup_key: s for s in session.scalars(
            select(AlertSignal).where(AlertSignal.rule == rule.name))}
        open_alerts = {a.dedup_key: a for a in session.scalars(
            select(Alert).where(Alert.rule == rule.name, Alert.state != "resolved")).unique()}
        seen: set[str] = set()
        for obs in observations:
            key = f"{rule.name}|{obs.entity}"
            if key in seen:
                continue
            seen.add(key)
            row = signals.get(key)
            state = _state_of(row)
            alert = open_alerts.get(key)
            state.open_alert = alert is not None
            was_breached = state.breached
            result = step(state, obs.breached, now, rule.timing)
            if row is None:
                row = AlertSignal(dedup_key=key, rule=rule.name)
                session.add(row)
            _store_state(row, state, now)
            quiet = in_maintenance(windows, obs.where) is not None
            if result.decision is Decision.FIRE:
                alert = Alert(rule=rule.name, kind=rule.kind, dedup_key=key, entity=obs.entity,
                              severity=rule.severity, state="firing", title=obs.title[:500],
                              details=obs.details, value=obs.value, device=obs.where.device,
                              site=obs.where.site, service=obs.where.service,
                              opd_id=opd_ids.get(obs.where.opd.upper()) if obs.where.opd
                              else None, flapping=result.flapping, suppressed=quiet,
                              notified=not quiet, fired_at=now, last_seen_at=now)
                session.add(alert)
                session.flush()
                report.fired.append(alert.id)
                notice = notice_of(alert, "firing")
                changed.append(notice)
                if not quiet:
                    report.notices.append(notice)
            elif alert is not None and result.decision is Decision.REFRESH:
                alert.last_seen_at = now
                alert.value = obs.value
                alert.title = obs.title[:500]
                alert.details = obs.details
                alert.flapping = result.flapping
                if not was_breached:
                    alert.occurrences += 1
                report.refreshed += 1
            elif alert is not None and result.decision is Decision.RESOLVE:
                alert.state = "resolved"
                alert.resolved_at = now
                alert.resolved_by = "auto"
                alert.flapping = False
                alert.last_seen_at = now
                report.resolved.append(alert.id)
                notice = notice_of(alert, "resolved")
                changed.append(notice)
                if alert.notified and not quiet:
                    report.notices.append(notice)
            elif alert is not None:
                alert.flapping = result.flapping  # held open while flapping

    def _publish(self, report: EvalReport, changed: list[Notice]) -> None:
        try:
            self.notifier.send(report.notices)
        except Exception as exc:  # never let a channel stop the loop
            logger.error("sending alert notifications failed: {}", exc)
        if self.settings.siem and changed:
            report.siem_events = to_siem(self.db, changed)

    # --- background service ---------------------------------------------------------------

    def start(self) -> None:
        """Evaluate every ``SIMPUL_ALERT_INTERVAL`` seconds in a thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current evaluation."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.interval_s):
            try:
                self.evaluate()
            except Exception as exc:  # the next round retries
                logger.error("alert evaluation failed: {}", exc)
