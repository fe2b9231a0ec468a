"""``simpul collectors snmp``: poll once, run the poller, dispatch to Celery, roll up, status."""

from __future__ import annotations

import json
import time

import click

from simpul.context import AppContext
from simpul.errors import NotFoundError, SimpulError
from simpul.runtime import prepare_database, run_until_signal

snmp = click.Group("snmp", help="SNMP poller: interfaces, host resources, LLDP; roll-ups.")


def _device_ids(app: AppContext, names: tuple[str, ...]) -> list[int] | None:
    if not names:
        return None
    from sqlalchemy import select

    from inventory.models import Device

    with app.db.session(write=False) as session:
        found = {name: did for name, did in session.execute(
            select(Device.name, Device.id).where(Device.name.in_(names)))}
    missing = sorted(set(names) - set(found))
    if missing:
        raise NotFoundError(f"no device named {', '.join(missing)} in the inventory")
    return list(found.values())


@snmp.command("poll")
@click.option("--device", "devices", multiple=True, help="Poll only this device (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def poll_cmd(click_ctx: click.Context, devices: tuple[str, ...], as_json: bool) -> None:
    """Poll the inventory's devices once and store the results."""
    from collectors.snmp.service import poll_once

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=False)
    report = poll_once(app, device_ids=_device_ids(app, devices))
    summary = {"devices": report.devices, "ok": report.ok, "failed": report.failed,
               "interfaces": report.interfaces, "seconds": round(report.seconds, 3),
               "errors": {r.target.name: r.error for r in report.results if not r.ok}}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"polled {report.ok}/{report.devices} devices, {report.interfaces} interfaces "
               f"in {report.seconds:.2f} s")
    for name, error in summary["errors"].items():
        click.echo(f"  {name}: {error}")


@snmp.command("run")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Upgrade the database schema before starting.")
@click.pass_context
def run_cmd(click_ctx: click.Context, migrate: bool) -> None:
    """Run the poller (or, with SIMPUL_SNMP_MODE=celery, the dispatcher) until Ctrl-C."""
    from collectors.snmp.service import SnmpService

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=migrate)
    service = SnmpService(app)
    try:
        run_until_signal(
            [service], lambda: f"snmp poller running every {service.settings.interval_s:g} s "
                               f"({service.settings.mode} mode)",
            lambda text: click.echo(text, err=True))
    finally:
        app.db.dispose()


@snmp.command("dispatch")
@click.option("--wait", "wait_s", type=float, default=None,
              help="Wait up to this many seconds for the workers' results and print them.")
def dispatch_cmd(wait_s: float | None) -> None:
    """Send one poll round to the Celery workers (one task per share)."""
    from celery.exceptions import TimeoutError as CeleryTimeout
    from kombu.exceptions import OperationalError as KombuError

    from collectors.snmp.celery_app import dispatch_round
    from collectors.snmp.settings import load_snmp_settings

    settings = load_snmp_settings()
    try:
        out = dispatch_round(settings, wait=wait_s)
    except KombuError as exc:
        raise SimpulError(f"cannot reach the Redis broker: {exc}") from None
    except CeleryTimeout:
        raise SimpulError(f"the workers did not answer within {wait_s:g} s") from None
    if wait_s is None:
        click.echo(f"sent {len(out)} share(s)")
    else:
        click.echo(json.dumps(out, indent=2))


@snmp.command("rollup")
@click.pass_context
def rollup_cmd(click_ctx: click.Context) -> None:
    """Roll up complete buckets and apply retention now."""
    from collectors.snmp.settings import load_snmp_settings
    from collectors.snmp.writer import MetricWriter

    app = AppContext.of_command(click_ctx)
    prepare_database(app, migrate_schema=False)
    started = time.perf_counter()
    MetricWriter(app.db, load_snmp_settings()).run_maintenance()
    click.echo(f"roll-up and retention done in {time.perf_counter() - started:.2f} s")


@snmp.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def status_cmd(click_ctx: click.Context, as_json: bool) -> None:
    """Show every polled device: reachable, failures, last poll, poll time."""
    from collectors.snmp.queries import list_device_reachability

    app = AppContext.of_command(click_ctx)
    with app.db.session(write=False) as session:
        items = list_device_reachability(session)
    if as_json:
        click.echo(json.dumps([{
            "device": d.device_name, "address": d.address, "reachable": d.reachable,
            "consecutive_failures": d.consecutive_failures,
            "last_poll": d.last_poll.isoformat() if d.last_poll else None,
            "last_error": d.last_error, "poll_seconds": d.poll_seconds,
            "polled_by": d.polled_by} for d in items], indent=2))
        return
    for d in items:
        state = "up" if d.reachable else f"DOWN x{d.consecutive_failures} ({d.last_error})"
        took = f"{d.poll_seconds:.2f}s" if d.poll_seconds is not None else "-"
        click.echo(f"{d.device_name:20} {d.address:16} {state} {took}")


@snmp.command("interfaces")
@click.argument("device")
@click.pass_context
def interfaces_cmd(click_ctx: click.Context, device: str) -> None:
    """Show DEVICE's interfaces: status and current rates."""
    from collectors.snmp.queries import list_interface_status

    app = AppContext.of_command(click_ctx)
    (device_id,) = _device_ids(app, (device,)) or [0]
    with app.db.session(write=False) as session:
        rows = list_interface_status(session, device_id)

    def mbps(v: float | None) -> str:
        return "-" if v is None else f"{v / 1e6:.2f}"

    for r in rows:
        click.echo(f"{r.if_index:4} {r.name:16} {r.admin_status:5}/{r.oper_status:15} "
                   f"in {mbps(r.in_bps):>10} Mb/s  out {mbps(r.out_bps):>10} Mb/s")
