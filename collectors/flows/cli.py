"""``simpul collectors flows`` and ``simpul collectors traps``: run, query, maintain."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy import select

from collectors.flows import queries
from collectors.flows.sampling import rate_text
from collectors.flows.settings import load_flow_settings, load_trap_settings
from simpul.context import AppContext
from simpul.errors import NotFoundError
from simpul.models.tenancy import Opd
from simpul.runtime import prepare_database, run_until_signal

flows = click.Group("flows", help="NetFlow v5/v9/IPFIX collector and top talkers.")
traps = click.Group("traps", help="SNMP trap receiver (v2c, v3) and trap events.")


def _err(text: str) -> None:
    click.echo(text, err=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return queries.utc(value).isoformat()  # SQLite hands back naive UTC
    return str(value)


@flows.command("run")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Upgrade the database schema before starting.")
@click.pass_context
def flows_run(click_ctx: click.Context, migrate: bool) -> None:
    """Run the flow collector in the foreground (SIMPUL_FLOW_* settings)."""
    from collectors.flows.collector import FlowCollector

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=migrate)
    collector = FlowCollector(app.db, load_flow_settings())
    collector.bind()
    where = ", ".join(f"{h}:{p}" for h, p in collector.addresses) or "nowhere (port off)"
    try:
        run_until_signal([collector], lambda: f"flow collector on {where}", _err)
    finally:
        s = collector.stats
        click.echo(f"{s.packets} datagrams, {s.records} records, {s.malformed} malformed, "
                   f"{s.no_template} without template, {s.dropped} dropped (queue full), "
                   f"{s.stored_rows} rows stored", err=True)
        app.db.dispose()


@flows.command("top")
@click.option("--by", "by", type=click.Choice(queries.DIMENSIONS), default="source",
              show_default=True)
@click.option("--minutes", type=click.IntRange(1, 60 * 24 * 90), default=15, show_default=True)
@click.option("--limit", type=click.IntRange(1, queries.MAX_LIMIT), default=10,
              show_default=True)
@click.option("--opd", "opd_code", default=None, help="Only traffic from or to this OPD.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def flows_top(click_ctx: click.Context, by: str, minutes: int, limit: int,
              opd_code: str | None, as_json: bool) -> None:
    """Show the top talkers of the last MINUTES."""
    app = AppContext.of_command(click_ctx)
    until = datetime.now(UTC)
    since = until - timedelta(minutes=minutes)
    with app.db.session(write=False) as session:
        opd_id = None
        if opd_code:
            opd_id = session.scalar(select(Opd.id).where(Opd.code == opd_code.upper()))
            if opd_id is None:
                raise NotFoundError(f"OPD {opd_code} does not exist")
        rows = queries.top_talkers(session, by=by, since=since, until=until, limit=limit,
                                   opd_id=opd_id)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"no flows in the last {minutes} min")
    for r in rows:
        owner = f"  [{r.opd_code}]" if r.opd_code and by != "opd" else ""
        click.echo(f"{r.label:<40} {r.bytes:>14,} B {r.bps / 1e6:>10.3f} Mbit/s"
                   f" {r.flows:>7} flows{owner}")


@flows.command("exporters")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def flows_exporters(click_ctx: click.Context, as_json: bool) -> None:
    """List exporters with their counters and packet sampling (sampled 1:N)."""
    app = AppContext.of_command(click_ctx)
    with app.db.session(write=False) as session:
        rows = [{"address": e.address, "version": e.version, "last_seen": e.last_seen,
                 "packets": e.packets, "records": e.records, "malformed": e.malformed,
                 "no_template": e.no_template, "sampling_rate": e.sampling_rate,
                 "sampling_source": e.sampling_source}
                for e in queries.list_exporters(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        return
    for r in rows:
        rate = r["sampling_rate"]
        sampled = (f"sampled {rate_text(rate)} ({r['sampling_source']})" if rate > 1
                   else "unsampled")
        click.echo(f"{r['address']:<40} v{r['version']:<3} {r['packets']:>10} datagrams "
                   f"{r['records']:>12} records {r['malformed']:>6} malformed "
                   f"{r['no_template']:>6} no-template  {sampled:<28} last {r['last_seen']}")


@flows.command("maintain")
@click.pass_context
def flows_maintain(click_ctx: click.Context) -> None:
    """Roll complete hours up and apply retention now (the collector does it every minute)."""
    from collectors.flows import store

    app = AppContext.of_command(click_ctx)
    settings = load_flow_settings()
    with app.db.session() as session:
        hours = store.rollup(session, max_hours=24 * 90)
        deleted = store.apply_retention(session, minute_hours=settings.minute_retention_h,
                                        hour_days=settings.hour_retention_days)
    click.echo(f"{hours} hour(s) rolled up, {deleted} row(s) deleted")


@traps.command("run")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Upgrade the database schema before starting.")
@click.pass_context
def traps_run(click_ctx: click.Context, migrate: bool) -> None:
    """Run the trap receiver in the foreground (SIMPUL_TRAP_* settings)."""
    from collectors.flows.traps import TrapReceiver

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=migrate)
    receiver = TrapReceiver(app.db, load_trap_settings())
    try:
        run_until_signal([receiver], lambda: "trap receiver", _err)
    finally:
        click.echo(f"{receiver.received} datagrams, {receiver.stored} traps stored", err=True)
        app.db.dispose()


@traps.command("list")
@click.option("--limit", type=click.IntRange(1, queries.MAX_LIMIT), default=20,
              show_default=True)
@click.option("--trap", default=None, help="Only this trap (linkDown, linkUp, coldStart, …).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def traps_list(click_ctx: click.Context, limit: int, trap: str | None, as_json: bool) -> None:
    """List the newest trap events."""
    app = AppContext.of_command(click_ctx)
    with app.db.session(write=False) as session:
        rows = [{"id": e.id, "received_at": e.received_at, "source": e.source_addr,
                 "device": e.device_name, "version": e.version, "trap": e.trap,
                 "if_index": e.if_index, "message": e.message}
                for e in queries.list_trap_events(session, limit=limit, trap=trap)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        return
    for r in rows:
        when = queries.utc(r["received_at"])
        click.echo(f"{when:%Y-%m-%d %H:%M:%S}Z  {r['version']:<3} {r['source']:<16} "
                   f"{r['device'] or '-':<12} {r['message']}")
