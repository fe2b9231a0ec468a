"""``simpul collectors probes``: manage service probes, run them, print the SLA report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from collectors.probes.seed import seed_lab_probes
from collectors.probes.service import (
    create_probe,
    delete_probe,
    latest_results,
    list_probes,
    list_results,
    require_probe,
    run_probes,
    update_probe,
)
from collectors.probes.sla import parse_month, report_csv, report_html, sla_report
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import ValidationError


def _expect(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationError(f"--expect is not JSON: {text}") from None
    if not isinstance(value, dict):
        raise ValidationError("--expect must be a JSON object")
    return value


@click.group()
def probes() -> None:
    """Service probes (ICMP, TCP, HTTP(S), DNS, SMTP) and the monthly SLA report."""


@probes.command("list")
@click.pass_context
def list_cmd(click_ctx: click.Context) -> None:
    """List probes with their latest result."""
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        found = list_probes(session)
        latest = latest_results(session, [p.id for p in found])
        for p in found:
            last = latest.get(p.id)
            state = "never run" if last is None else ("UP" if last.ok else "DOWN")
            rtt = f" {last.rtt_ms:.1f} ms" if last is not None and last.rtt_ms is not None else ""
            click.echo(f"{p.name:24} {p.service:10} {p.kind:5} {p.target:32} "
                       f"{'' if p.enabled else '(disabled) '}{state}{rtt}")


_COMMON = [
    click.option("--service", help="Service name (web, mail, proxy, dns, ...)."),
    click.option("--kind", type=click.Choice(["icmp", "tcp", "http", "dns", "smtp"])),
    click.option("--target", help="Host, address or URL (http)."),
    click.option("--port", type=int),
    click.option("--opd", help="OPD code owning the service."),
    click.option("--expect", help='JSON, e.g. \'{"status": 200, "contains": "ok"}\'.'),
    click.option("--interval", "interval_s", type=int),
    click.option("--timeout", "timeout_s", type=float),
    click.option("--device", help="Inventory device name (for maintenance windows)."),
    click.option("--site", help="Inventory site name (for maintenance windows)."),
]


def _common(func: Any) -> Any:
    for option in reversed(_COMMON):
        func = option(func)
    return func


def _fields(options: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in options.items() if v is not None}
    if "expect" in fields:
        fields["expect"] = _expect(fields["expect"])
    return fields


@probes.command("add")
@click.argument("name")
@_common
@click.pass_context
def add_cmd(click_ctx: click.Context, name: str, **options: Any) -> None:
    """Add a probe NAME."""
    with AppContext.of_command(click_ctx).db.session() as session:
        probe = create_probe(session, Actor.cli(), name=name, **_fields(options))
        click.echo(f"probe {probe.name} added ({probe.kind} {probe.target})")


@probes.command("set")
@click.argument("name")
@_common
@click.option("--enabled/--disabled", default=None)
@click.pass_context
def set_cmd(click_ctx: click.Context, name: str, **options: Any) -> None:
    """Change probe NAME."""
    with AppContext.of_command(click_ctx).db.session() as session:
        probe = require_probe(session, name)
        update_probe(session, Actor.cli(), probe, _fields(options))
        click.echo(f"probe {probe.name} updated")


@probes.command("remove")
@click.argument("name")
@click.pass_context
def remove_cmd(click_ctx: click.Context, name: str) -> None:
    """Delete probe NAME and its results."""
    with AppContext.of_command(click_ctx).db.session() as session:
        delete_probe(session, Actor.cli(), require_probe(session, name))
    click.echo(f"probe {name} removed")


@probes.command("run")
@click.argument("names", nargs=-1)
@click.pass_context
def run_cmd(click_ctx: click.Context, names: tuple[str, ...]) -> None:
    """Run probes NAMES (default: all enabled) once, store and print the results."""
    failed = 0
    for probe, result in run_probes(AppContext.of_command(click_ctx).db, list(names)):
        rtt = f"{result.rtt_ms:.1f} ms" if result.rtt_ms is not None else "-"
        click.echo(f"{probe.name:24} {'UP' if result.ok else 'DOWN':4} {rtt:>10}  {result.detail}")
        failed += not result.ok
    if failed:
        raise click.exceptions.Exit(2)


@probes.command("results")
@click.argument("name")
@click.option("--limit", type=int, default=20, show_default=True)
@click.pass_context
def results_cmd(click_ctx: click.Context, name: str, limit: int) -> None:
    """Show the latest results of probe NAME."""
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        for r in list_results(session, require_probe(session, name), limit=limit):
            rtt = f"{r.rtt_ms:.1f} ms" if r.rtt_ms is not None else "-"
            click.echo(f"{r.at:%Y-%m-%d %H:%M:%S} {'UP' if r.ok else 'DOWN':4} {rtt:>10}  "
                       f"{r.detail}")


@probes.command("sla")
@click.option("--month", default=None, help="YYYY-MM (default: this month).")
@click.option("--opd", default=None, help="Only this OPD's services.")
@click.option("--format", "fmt", type=click.Choice(["csv", "html"]), default="csv",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def sla_cmd(click_ctx: click.Context, month: str | None, opd: str | None, fmt: str,
            output: Path | None) -> None:
    """Write the monthly SLA report per OPD and service."""
    app = AppContext.of_command(click_ctx)
    first = parse_month(month) if month else date.today().replace(day=1)
    with app.db.session(write=False) as session:
        report = sla_report(session, first, tz=app.settings.timezone, opd=opd)
    text = report_csv(report) if fmt == "csv" else report_html(report)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"SLA report {first:%Y-%m} ({len(report.rows)} probes) written to {output}")


@probes.command("seed-lab")
@click.option("--interval", type=int, default=30, show_default=True)
@click.pass_context
def seed_lab_cmd(click_ctx: click.Context, interval: int) -> None:
    """Add probes for the lab's web, mail and proxy servers (idempotent)."""
    with AppContext.of_command(click_ctx).db.session() as session:
        created = seed_lab_probes(session, Actor.cli(), interval_s=interval)
        click.echo(f"{len(created)} lab probe(s) added")
