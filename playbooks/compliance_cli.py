"""``simpul backup``, ``simpul diff`` and ``simpul audit``: config backup and compliance."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from simpul.context import AppContext


def _filters(func):  # type: ignore[no-untyped-def]
    for option in reversed((
        click.option("--hosts", default=None, help="Only these devices (comma-separated)."),
        click.option("--role", "roles", default=None, help="Only devices of these roles."),
        click.option("--site", "sites", default=None, help="Only devices at these sites."),
        click.option("--opd", "opds", default=None, help="Only devices of these OPDs (codes)."),
    )):
        func = option(func)
    return func


@click.command("backup")
@_filters
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.pass_context
def backup(click_ctx: click.Context, hosts: str | None, roles: str | None, sites: str | None,
           opds: str | None, as_json: bool) -> None:
    """Pull every device's running config into the backup git repository (one commit)."""
    from playbooks.backup import run_backup

    app = AppContext.of_command(click_ctx)
    run = run_backup(app, hosts=hosts, roles=roles, sites=sites, opds=opds,
                     progress=None if as_json else lambda line: click.echo(f"  {line}"))
    if as_json:
        click.echo(json.dumps(run.as_dict(), indent=2))
    else:
        click.echo(run.message().rstrip())
        click.echo(f"commit {run.commit}" if run.commit else "no change: nothing committed")
    if run.failed:
        sys.exit(1)


@click.command("diff")
@click.argument("device")
@click.argument("rev", required=False)
@click.option("--log", "show_log", is_flag=True, help="List the device's backups instead.")
@click.pass_context
def diff(click_ctx: click.Context, device: str, rev: str | None, show_log: bool) -> None:
    """Show DEVICE's last config change, or what changed since revision REV."""
    from playbooks.backup import ConfigRepo, diff_device, load_backup_settings

    app = AppContext.of_command(click_ctx)
    if show_log:
        repo = ConfigRepo(load_backup_settings(app.settings).repo_dir)
        for commit, when, subject in repo.history(device):
            click.echo(f"{commit[:12]}  {when}  {subject}")
        return
    text = diff_device(app, device, rev)
    click.echo(text.rstrip() if text else f"{device}: no change"
               + ("" if rev else " (only one backup)"))


@click.command("audit")
@_filters
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Report directory (default: <data dir>/audit/<timestamp>).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def audit(click_ctx: click.Context, hosts: str | None, roles: str | None, sites: str | None,
          opds: str | None, out_dir: Path | None, as_json: bool) -> None:
    """Check every device against the security baseline; write an HTML and JSON report."""
    from playbooks.audit import run_audit

    app = AppContext.of_command(click_ctx)
    report, paths = run_audit(app, hosts=hosts, roles=roles, sites=sites, opds=opds,
                              out_dir=out_dir)
    if as_json:
        click.echo(json.dumps({"summary": report.summary(),
                               "files": {k: str(v) for k, v in paths.items()}}, indent=2))
    else:
        for device in report.devices:
            state = "error" if device.error else ("pass" if device.passed else "FAIL")
            click.echo(f"{device.name:<20} {state:<6} {device.score}")
            for result in device.failures:
                click.echo(f"    - {result.rule_id} {result.title}: {result.detail}")
        click.echo(f"report: {paths['html']} and {paths['json']}")
    if not report.passed:
        sys.exit(1)
