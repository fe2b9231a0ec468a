"""``simpul collectors alerts``: rules, one evaluation, alerts and maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from collectors.alerts.evaluators import EVALUATORS
from collectors.alerts.notify import to_siem
from collectors.alerts.rules import load_rules
from collectors.alerts.service import (
    acknowledge_alert,
    create_maintenance,
    delete_maintenance,
    list_alerts,
    list_maintenance,
    require_alert,
    require_maintenance,
    resolve_alert,
)
from collectors.alerts.services import build_engine
from collectors.alerts.settings import load_alert_settings
from simpul.audit import Actor
from simpul.context import AppContext


@click.group()
def alerts() -> None:
    """Alert rules, alerts (firing / acknowledged / resolved) and maintenance windows."""


@alerts.command("rules")
@click.option("--file", "path", default=None, help="Check this rules file instead.")
def rules_cmd(path: str | None) -> None:
    """Show the rules in effect (SIMPUL_ALERT_RULES or the defaults) and their channels."""
    ruleset = load_rules(path or load_alert_settings().rules_file or None, frozenset(EVALUATORS))
    click.echo(f"rules from {ruleset.source}")
    for r in ruleset.rules:
        params = " ".join(f"{k}={v}" for k, v in r.params.items())
        click.echo(f"  {r.name:24} {r.kind:18} {r.severity:8} for {r.timing.for_s:g}s "
                   f"{'' if r.enabled else '(disabled) '}{params}")
    for c in ruleset.channels:
        click.echo(f"  notify {c.kind} {', '.join(c.to) or c.url} (>= {c.min_severity})")


@alerts.command("evaluate")
@click.pass_context
def evaluate_cmd(click_ctx: click.Context) -> None:
    """Evaluate every rule once now (what `simpul up` does every SIMPUL_ALERT_INTERVAL)."""
    report = build_engine(AppContext.of_command(click_ctx)).evaluate()
    click.echo(f"{report.observed} observations, {len(report.fired)} fired, "
               f"{len(report.resolved)} resolved, {len(report.notices)} notified")
    for rule, error in report.errors.items():
        click.echo(f"  rule {rule} failed: {error}")


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def list_cmd(click_ctx: click.Context, show_all: bool, limit: int) -> None:
    """List open alerts (or all), newest first."""
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        for a in list_alerts(session, open_only=not show_all)[:limit]:
            click.echo(f"{a.id:6} {a.state:12} {a.severity:8} {a.fired_at:%Y-%m-%d %H:%M} "
                       f"{a.rule:20} {a.title}{' [flapping]' if a.flapping else ''}"
                       f"{' [maintenance]' if a.suppressed else ''}")


def _change(click_ctx: click.Context, alert_id: int, note: str, action: str) -> None:
    app = AppContext.of_command(click_ctx)
    func = acknowledge_alert if action == "acknowledge" else resolve_alert
    with app.db.session() as session:
        notice = func(session, Actor.cli(), require_alert(session, alert_id), note=note)
    if load_alert_settings().siem:
        to_siem(app.db, [notice])
    click.echo(f"alert {alert_id} {notice.state}")


@alerts.command("ack")
@click.argument("alert_id", type=int)
@click.option("--note", default="")
@click.pass_context
def ack_cmd(click_ctx: click.Context, alert_id: int, note: str) -> None:
    """Acknowledge alert ALERT_ID."""
    _change(click_ctx, alert_id, note, "acknowledge")


@alerts.command("resolve")
@click.argument("alert_id", type=int)
@click.option("--note", default="")
@click.pass_context
def resolve_cmd(click_ctx: click.Context, alert_id: int, note: str) -> None:
    """Resolve alert ALERT_ID by hand."""
    _change(click_ctx, alert_id, note, "resolve")


@alerts.group("maintenance")
def maintenance() -> None:
    """Maintenance windows: alerts are recorded but not notified."""


@maintenance.command("add")
@click.option("--scope", type=click.Choice(["device", "site", "opd", "service"]), required=True)
@click.option("--target", required=True, help="Device name, site slug, OPD code or service.")
@click.option("--start", default=None, help="ISO date-time with offset (default: now).")
@click.option("--end", default=None, help="ISO date-time with offset.")
@click.option("--hours", type=float, default=None, help="Length instead of --end.")
@click.option("--reason", default="")
@click.pass_context
def maintenance_add(click_ctx: click.Context, scope: str, target: str, start: str | None,
                    end: str | None, hours: float | None, reason: str) -> None:
    """Plan a maintenance window."""
    starts = start or datetime.now(UTC).isoformat()
    ends: str | None = end
    if ends is None and hours is not None:
        ends = (datetime.fromisoformat(starts) + timedelta(hours=hours)).isoformat()
    with AppContext.of_command(click_ctx).db.session() as session:
        window = create_maintenance(session, Actor.cli(), scope=scope, target=target,
                                    starts_at=starts, ends_at=ends, reason=reason)
        click.echo(f"maintenance {window.id}: {scope} {window.target} "
                   f"{window.starts_at:%Y-%m-%d %H:%M} - {window.ends_at:%Y-%m-%d %H:%M} UTC")


@maintenance.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include windows that are over.")
@click.pass_context
def maintenance_list(click_ctx: click.Context, show_all: bool) -> None:
    """List current and planned maintenance windows."""
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        found = list_maintenance(session, upcoming_after=None if show_all else datetime.now(UTC))
        for w in found:
            click.echo(f"{w.id:5} {w.scope:8} {w.target:20} {w.starts_at:%Y-%m-%d %H:%M} - "
                       f"{w.ends_at:%Y-%m-%d %H:%M} UTC {w.reason}")


@maintenance.command("remove")
@click.argument("window_id", type=int)
@click.pass_context
def maintenance_remove(click_ctx: click.Context, window_id: int) -> None:
    """Cancel maintenance window WINDOW_ID."""
    with AppContext.of_command(click_ctx).db.session() as session:
        delete_maintenance(session, Actor.cli(), require_maintenance(session, window_id))
    click.echo(f"maintenance {window_id} removed")
