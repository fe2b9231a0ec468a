"""``simpul siem``: run the listeners, import files, show counters."""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType

import click

from siem.settings import load_siem_settings
from siem.spool import spool_status
from simpul.context import AppContext
from simpul.runtime import prepare_database

siem = click.Group("siem", help="SIEM: syslog listeners, log import, event counters.")


@siem.command("run")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Upgrade the database schema before starting.")
@click.pass_context
def run_cmd(click_ctx: click.Context, migrate: bool) -> None:
    """Run the syslog listeners and the event writer in the foreground (Ctrl-C stops)."""
    from siem.service import SiemService

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=migrate)
    service = SiemService(app)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.start()
        click.echo(f"siem running: {', '.join(f'{k} {v}' for k, v in service.ports.items())}"
                   f" on {service.siem.syslog_host} (Ctrl-C stops)", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        app.db.dispose()


@siem.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--rules/--no-rules", default=None,
              help="Run the detection rules on the imported lines "
                   "[default: SIMPUL_SIEM_DETECT, on].")
@click.pass_context
def ingest_cmd(click_ctx: click.Context, files: tuple[str, ...], rules: bool | None) -> None:
    """Import existing log FILES (plain or .gz) once; re-importing adds nothing twice.

    The lines go through the same parsing, enrichment and rules as received syslog,
    so incidents in old logs are raised too.
    """
    from siem.ingest import ingest_files

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=True)
    ingest_files(app, list(files), detect=rules,
                 on_report=lambda report: click.echo(report.summary()))


@siem.command("stats")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats_cmd(click_ctx: click.Context, as_json: bool) -> None:
    """Show per-source counters (flushed by the service every few seconds) and the spool."""
    from siem import store

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=False)
    siem_settings = load_siem_settings(app.settings)
    with app.db.session(write=False) as session:
        total = store.count_events(session)
        rows = [{"source": s.key, "transport": s.transport, "received": s.received,
                 "parsed": s.parsed, "unparsed": s.unparsed, "dropped": s.dropped,
                 "truncated": s.truncated, "bytes": s.bytes,
                 "last_seen": s.last_seen.isoformat(timespec="seconds") if s.last_seen else ""}
                for s in store.list_sources(session)]
    spool = spool_status(siem_settings.spool_dir) if siem_settings.spool_dir.is_dir() else {}
    if as_json:
        click.echo(json.dumps({"events": total, "spool": spool, "sources": rows}, indent=2))
        return
    click.echo(f"events stored: {total}")
    if spool:
        click.echo(f"spool: {spool['segments']} segment(s), {spool['bytes_on_disk']} bytes, "
                   f"backlog {spool['backlog_bytes']} bytes")
    if not rows:
        click.echo("(no sources yet)")
        return
    columns = ("source", "transport", "received", "parsed", "unparsed", "dropped",
               "truncated", "bytes", "last_seen")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


@siem.command("rules")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rules_cmd(click_ctx: click.Context, as_json: bool) -> None:
    """List the detection rules (shipped and SIMPUL_SIEM_RULES_DIR), hits, and load problems."""
    from siem.rules_admin import list_rules

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=False)
    siem_settings = load_siem_settings(app.settings)
    with app.db.session(write=False) as session:
        data = list_rules(session, siem_settings.rules_dirs)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for rule in data["rules"]:
        state = "on " if rule["enabled"] else "off"
        click.echo(f"{state} {rule['hits']:>7}  {rule['severity']:<8} "
                   f"{rule['technique'] or '-':<10} {rule['rule_id']}  {rule['title']}")
    for problem in data["problems"]:
        click.echo(f"NOT LOADED {problem['path']} {problem['rule']}: {problem['reason']}",
                   err=True)


@siem.command("maintenance")
@click.option("--days", type=click.IntRange(1, 90), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def maintenance_cmd(click_ctx: click.Context, days: int, as_json: bool) -> None:
    """Preventive maintenance: recurring warnings per device, ranked, with an action."""
    from siem.maintenance import maintenance_report

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=False)
    with app.db.session(write=False) as session:
        report = maintenance_report(session, days=days)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"recurring warnings since {report['since']} "
               f"({report['events_scanned']} events read)")
    if not report["items"]:
        click.echo("(nothing recurring)")
    for rank, item in enumerate(report["items"], 1):
        click.echo(f"{rank:>3}. {item['device']} {item['problem']} x{item['count']} "
                   f"(criticality {item['criticality']}, last {item['last_seen']})")
        click.echo(f"     -> {item['action']}")
