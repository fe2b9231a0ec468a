"""``simpul nac``: the register, the policy tables and FreeRADIUS from the shell.

Every command calls the same service functions as the API, in one transaction, and
prints SimpulErrors as one line (exit 1) through the main CLI.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import replace
from pathlib import Path
from types import FrameType

import click

from nac.accounting import list_sessions
from nac.cache import write_cache
from nac.csvimport import import_devices
from nac.radiusconf import cache_path, write_radius_config
from nac.register import (
    approve_device,
    block_device,
    create_device,
    delete_device,
    devices_query,
    expire_device,
    get_device,
    parse_mac,
    snapshot,
)
from nac.rules import set_site_policy, set_vlan
from nac.settings import load_nac_settings
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import SimpulError
from simpul.tenancy import require_opd


@click.group()
def nac() -> None:
    """Network access control: device register, RADIUS policy, FreeRADIUS."""


@nac.command("radius-config")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to write (default: <data dir>/nac/raddb).")
@click.pass_context
def radius_config(click_ctx: click.Context, output: Path | None) -> None:
    """Write the FreeRADIUS configuration (secrets stay in the environment)."""
    app = AppContext.of_command(click_ctx)
    with app.db.session() as session:
        config = write_radius_config(session, load_nac_settings(app.settings), output)
    click.echo(f"FreeRADIUS configuration written to {config.raddb}")
    for name, ip, var in config.clients:
        click.echo(f"  client {name} {ip} (secret from ${var})")
    click.echo(f"run: SIMPUL_RADIUS_SECRET=… SIMPUL_NAC_API_SECRET=… freeradius -f -d "
               f"{config.raddb} -l stdout")


@nac.command("radius")
@click.pass_context
def radius_run(click_ctx: click.Context) -> None:
    """Run FreeRADIUS with its policy server and cache export in the foreground.

    The same NacService as ``simpul up``: the dedicated policy process answers rlm_rest
    (unless SIMPUL_RADIUS_API_URL names another), so this needs no running web app.
    Ctrl-C or SIGTERM stops all of it.
    """
    from nac.services import NacService

    app = AppContext.of_command(click_ctx)
    service = NacService(app, replace(load_nac_settings(app.settings), enabled=True))
    stopping: list[int] = []

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.start()
        if service.radius is None:
            raise click.ClickException("FreeRADIUS did not start (see the log above)")
        service.radius.wait_ready()
        nac = service.nac
        click.echo(f"FreeRADIUS ready on {nac.host}:{nac.auth_port}/{nac.acct_port}, "
                   f"policy {nac.api_url}; log {service.radius.output} (Ctrl-C stops)")
        while not stopping and service.radius is not None and service.radius.running:
            time.sleep(0.5)
        if not stopping:
            raise click.ClickException(f"FreeRADIUS exited; its log is in "
                                       f"{nac.nac_dir / 'radius'}")
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@nac.command("export-cache")
@click.pass_context
def export_cache(click_ctx: click.Context) -> None:
    """Rewrite the fail-over cache of active MAB devices now."""
    app = AppContext.of_command(click_ctx)
    settings = load_nac_settings(app.settings)
    with app.db.session() as session:
        changed = write_cache(session, cache_path(settings.raddb),
                              horizon_seconds=2 * settings.cache_interval)
    click.echo("cache updated" if changed else "cache unchanged")


@nac.group()
def device() -> None:
    """The device register."""


@device.command("add")
@click.argument("mac")
@click.option("--opd", required=True)
@click.option("--owner", default="")
@click.option("--type", "device_type", default="pc", show_default=True)
@click.option("--purpose", default="")
@click.option("--role", default=None, help="NAC role (VLAN map key); default from the type.")
@click.option("--expires", default=None, help="ISO 8601 date or date-time.")
@click.option("--method", default="mab", show_default=True, help="mab or dot1x")
@click.option("--pending", is_flag=True, help="Register as pending instead of active.")
@click.pass_context
def device_add(click_ctx: click.Context, mac: str, opd: str, owner: str, device_type: str,
               purpose: str, role: str | None, expires: str | None, method: str,
               pending: bool) -> None:
    """Register a MAC (active unless --pending)."""
    with AppContext.of_command(click_ctx).db.session() as session:
        row = create_device(session, Actor.cli(), mac, opd=opd, owner=owner,
                            device_type=device_type, purpose=purpose, role=role,
                            expires_at=expires, auth_method=method,
                            status="pending" if pending else "active")
        click.echo(f"registered {row.mac} ({row.status})")


@device.command("list")
@click.option("--status", default=None)
@click.option("--opd", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_list(click_ctx: click.Context, status: str | None, opd: str | None,
                as_json: bool) -> None:
    """List register entries."""
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        opd_id = require_opd(session, opd).id if opd else None
        rows = [snapshot(d) for d in session.scalars(devices_query(status=status,
                                                                   opd_id=opd_id))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['mac']}  {row['status']:<8} {row['opd']:<12} {row['device_type']:<8} "
                   f"{row['role']:<10} {row['owner']}")
    if not rows:
        click.echo("(none)")


def _status_command(name: str, action: object, help_text: str) -> None:
    @device.command(name, help=help_text)
    @click.argument("mac")
    @click.pass_context
    def _cmd(click_ctx: click.Context, mac: str) -> None:
        with AppContext.of_command(click_ctx).db.session() as session:
            row = get_device(session, mac)
            if row is None:
                raise SimpulError(f"MAC {mac} is not registered")
            if action is delete_device:
                delete_device(session, Actor.cli(), row)
                click.echo(f"deleted {row.mac}")
                return
            action(session, Actor.cli(), row)  # type: ignore[operator]
            click.echo(f"{row.mac}: {row.status}")


_status_command("approve", approve_device, "Make a registration active.")
_status_command("block", block_device, "Block a MAC (rejected at its next request).")
_status_command("expire", expire_device, "Mark a registration expired.")
_status_command("delete", delete_device, "Remove a registration.")


@device.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--partial", is_flag=True,
              help="Keep the valid rows when some fail (default: all-or-nothing).")
@click.pass_context
def device_import(click_ctx: click.Context, csv_file: click.File, partial: bool) -> None:
    """Register devices from CSV (columns: mac, owner, opd, device_type, purpose, role,
    expires_at, auth_method, description); print a per-row report."""
    with AppContext.of_command(click_ctx).db.session() as session:
        report = import_devices(session, Actor.cli(), csv_file.read(),  # type: ignore[attr-defined]
                                all_or_nothing=not partial)
    for line in report.lines():
        click.echo(line)
    if report.errors:
        raise SimpulError(f"{len(report.errors)} row(s) refused")


@nac.group()
def policy() -> None:
    """Site treatment of unknown devices and the OPD+role VLAN map."""


@policy.command("site")
@click.argument("action", type=click.Choice(["reject", "quarantine"]))
@click.option("--site", default=None, help="Site slug (default: every other site).")
@click.option("--vid", type=int, default=None, help="Quarantine VLAN id.")
@click.pass_context
def policy_site(click_ctx: click.Context, action: str, site: str | None, vid: int | None
                ) -> None:
    """Set what a site does with unknown or pending MACs."""
    with AppContext.of_command(click_ctx).db.session() as session:
        set_site_policy(session, Actor.cli(), site, action, vid)
    click.echo(f"{site or 'default'}: unknown devices -> {action}"
               + (f" (VLAN {vid})" if vid else ""))


@policy.command("vlan")
@click.argument("role")
@click.argument("vid", type=int)
@click.option("--opd", default=None, help="OPD code (default: any OPD).")
@click.pass_context
def policy_vlan(click_ctx: click.Context, role: str, vid: int, opd: str | None) -> None:
    """Map an OPD and NAC role to a VLAN (used when the inventory has no such VLAN)."""
    with AppContext.of_command(click_ctx).db.session() as session:
        set_vlan(session, Actor.cli(), opd, role, vid)
    click.echo(f"{opd or '*'} / {role} -> VLAN {vid}")


@nac.command("sessions")
@click.option("--mac", default=None)
@click.option("--nas", "nas_ip", default=None)
@click.option("--port", "nas_port", default=None)
@click.option("--open", "open_only", is_flag=True)
@click.pass_context
def sessions_cmd(click_ctx: click.Context, mac: str | None, nas_ip: str | None,
                 nas_port: str | None, open_only: bool) -> None:
    """Accounting sessions per device or per switch port."""
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        rows = list_sessions(session, mac=parse_mac(mac) if mac else None, nas_ip=nas_ip,
                             nas_port=nas_port, open_only=open_only)
        for r in rows:
            click.echo(f"{r.mac}  {r.nas_ip}:{r.nas_port}  vlan {r.vid or '-'}  since "
                       f"{r.started_at:%Y-%m-%d %H:%M}  "
                       f"{'stopped ' + f'{r.stopped_at:%H:%M}' if r.stopped_at else 'open'}")
    if not rows:
        click.echo("(none)")
