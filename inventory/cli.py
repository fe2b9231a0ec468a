"""``simpul inventory …`` and ``simpul ipam …``: the inventory from the shell.

Thin commands: parse, call one service inside one transaction, print. Errors are
SimpulErrors, which ``simpul.cli.main`` prints as one line with exit status 1.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.addressing import parse_network
from inventory.errors import InventoryNotFoundError
from inventory.models import Prefix, Site, Vrf
from inventory.service import invalid
from simpul.audit import Actor
from simpul.context import AppContext


def _vrf_id(session: Session, name: str | None) -> int | None:
    if not name:
        return None
    vrf = session.scalar(select(Vrf).where(Vrf.name == name))
    if vrf is None:
        raise InventoryNotFoundError(f"VRF {name!r} does not exist", errors={"vrf": ["unknown"]})
    return vrf.id


def find_prefix(session: Session, text: str, vrf: str | None = None) -> Prefix:
    """Return the stored prefix written as *text* in VRF *vrf* (None: global).

    Raises:
        InventoryValidationError: *text* is not a prefix.
        InventoryNotFoundError: no such prefix.
    """
    try:
        net = parse_network(text)
    except ValueError as exc:
        raise invalid("prefix", str(exc)) from None
    vrf_id = _vrf_id(session, vrf)
    prefix = session.scalar(select(Prefix).where(Prefix.vrf_key == (vrf_id or 0),
                                                 Prefix.prefix == str(net)))
    if prefix is None:
        raise InventoryNotFoundError(f"prefix {net} does not exist in VRF {vrf or 'global'}",
                                     errors={"prefix": ["does not exist"]})
    return prefix


_RELATIVE = re.compile(r"^(\d+)\s*([mhd])$")


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """Return an expiry from ``2026-12-01T18:00`` (UTC unless given) or ``30m``/``12h``/``3d``."""
    if not text:
        return None
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return now + timedelta(**{unit: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise invalid("expires", f"{text!r} is neither a time (2026-12-01T18:00) nor a "
                                 "duration (30m, 12h, 3d)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


# --- inventory --------------------------------------------------------------------------------

@click.group()
def inventory() -> None:
    """Source of truth: import and export files, find rack space."""


@inventory.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and count; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_cmd(click_ctx: click.Context, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import FILE: simpul YAML or a containerlab topology (*.clab.yml), all or nothing."""
    from inventory.importer import import_file
    from simpul import migrate

    app = AppContext.of_command(click_ctx)
    migrate.upgrade(app.db)
    with app.db.session() as session:
        report = import_file(session, Actor.cli(), file, dry_run=dry_run)
    if as_json:
        _echo_json(report.as_dict())
        return
    for line in report.summary():
        click.echo(line)


@inventory.command("export")
@click.option("--ansible", "fmt", flag_value="ansible", help="Ansible YAML inventory.")
@click.option("--yaml", "fmt", flag_value="yaml", help="simpul's own YAML (re-importable).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.pass_context
def export_cmd(click_ctx: click.Context, fmt: str | None, output: Path | None) -> None:
    """Export the inventory (--ansible or --yaml)."""
    from inventory.export import ansible_yaml, export_yaml
    from simpul.errors import SimpulError

    if fmt is None:
        raise SimpulError("choose a format: --ansible or --yaml")
    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        text = ansible_yaml(session) if fmt == "ansible" else export_yaml(session)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as exc:
        raise SimpulError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}")


@inventory.command("rack-space")
@click.option("--u", "u_height", type=int, required=True, help="Height in U.")
@click.option("--site", default=None, help="Site slug.")
@click.option("--power", "power_w", type=int, default=0, show_default=True,
              help="Typical draw in W that must still fit the rack's budget.")
@click.option("--face", type=click.Choice(["front", "rear"]), default="front",
              show_default=True)
@click.option("--half-depth", is_flag=True, help="The device fills only one face.")
@click.option("--opd", default=None, help="OPD code (skips racks/units held for others).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rack_space(click_ctx: click.Context, u_height: int, site: str | None, power_w: int,
               face: str, half_depth: bool, opd: str | None, as_json: bool) -> None:
    """List racks with U contiguous free units and power headroom, best fit first."""
    from inventory.dcim.racks import find_rack_space
    from simpul.tenancy import require_opd

    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        site_id = None
        if site:
            found = session.scalar(select(Site).where(Site.slug == site))
            if found is None:
                raise InventoryNotFoundError(f"site {site!r} does not exist")
            site_id = found.id
        opd_id = require_opd(session, opd).id if opd else None
        spaces = find_rack_space(session, u_height=u_height, face=face,
                                 full_depth=not half_depth, power_w=power_w, site_id=site_id,
                                 opd_id=opd_id)
        sites = {s.id: s.slug for s in session.scalars(select(Site))}
        rows = [{"site": sites[s.rack.site_id], "rack": s.rack.name, "position": s.position,
                 "free_run_u": s.run_length, "power_headroom_w": s.power_headroom_w}
                for s in spaces]
    if as_json:
        _echo_json(rows)
    elif not rows:
        click.echo(f"no rack has {u_height} free U" + (f" and {power_w} W" if power_w else ""))
    else:
        for r in rows:
            head = "unlimited" if r["power_headroom_w"] is None else f"{r['power_headroom_w']} W"
            click.echo(f"{r['site']}/{r['rack']}: U{r['position']} (free run "
                       f"{r['free_run_u']}U, power headroom {head})")


# --- ipam ----------------------------------------------------------------------------------

@click.group()
def ipam() -> None:
    """IP address management: next free address/prefix, utilisation, release, IPv6 plan."""


@ipam.command("next-ip")
@click.argument("prefix")
@click.option("--vrf", default=None, help="VRF name (default: the global table).")
@click.option("--count", type=int, default=1, show_default=True)
@click.option("--reserve", is_flag=True, help="Reserve the addresses (status reserved).")
@click.option("--description", default="")
@click.option("--expires", default=None, help="With --reserve: 2026-12-01T18:00, 12h, 3d.")
@click.pass_context
def next_ip(click_ctx: click.Context, prefix: str, vrf: str | None, count: int, reserve: bool,
            description: str, expires: str | None) -> None:
    """Show (or --reserve) the next free addresses of PREFIX."""
    from inventory.errors import PrefixFullError
    from inventory.ipam.allocation import allocate_next_ip, first_available_ips

    expires_at = parse_expiry(expires)
    if count < 1:
        raise invalid("count", "must be at least 1")
    with AppContext.of_command(click_ctx).db.session(write=reserve) as session:
        found = find_prefix(session, prefix, vrf)
        if reserve:
            made = allocate_next_ip(session, Actor.cli(), found.id, count=count,
                                    status="reserved", description=description,
                                    expires_at=expires_at)
            until = f" until {expires_at.isoformat(timespec='seconds')}" if expires_at else ""
            lines = [f"reserved {ip.address}{until}" for ip in made]
        else:
            if found.status == "container":
                raise invalid("prefix", f"{found.prefix} is a container; ask one of its "
                                        "child prefixes")
            free = first_available_ips(session, found, count)
            if len(free) < count:
                raise PrefixFullError(f"{found.prefix} has " + (
                    f"only {len(free)} free addresses, {count} asked" if free
                    else "no free address"))
            lines = [f"{ip}/{found.prefix_length}" for ip in free]
    for line in lines:
        click.echo(line)


@ipam.command("next-prefix")
@click.argument("parent")
@click.option("--length", "length", type=int, required=True, help="Prefix length wanted.")
@click.option("--vrf", default=None)
@click.option("--reserve", is_flag=True, help="Reserve it (status reserved).")
@click.option("--description", default="")
@click.option("--expires", default=None, help="With --reserve: 2026-12-01T18:00, 12h, 3d.")
@click.pass_context
def next_prefix(click_ctx: click.Context, parent: str, length: int, vrf: str | None,
                reserve: bool, description: str, expires: str | None) -> None:
    """Show (or --reserve) the next free child prefix of PARENT of the given length."""
    from inventory.errors import NoPrefixSpaceError
    from inventory.ipam.allocation import (
        first_available_prefix,
        get_available_prefixes,
        reserve_prefix,
    )

    expires_at = parse_expiry(expires)
    with AppContext.of_command(click_ctx).db.session(write=reserve) as session:
        found = find_prefix(session, parent, vrf)
        if reserve:
            made = reserve_prefix(session, Actor.cli(), found.id, length,
                                  description=description, expires_at=expires_at)
            click.echo(f"reserved {made.prefix}")
            return
        if found.status != "container":
            raise invalid("parent", f"{found.prefix} is {found.status}; only a container "
                                    "can hold child prefixes")
        top = 32 if found.family == 4 else 128
        if not found.prefix_length < length <= top:
            raise invalid("length", f"must be between {found.prefix_length + 1} and {top}")
        child = first_available_prefix(get_available_prefixes(session, found), length)
        if child is None:
            raise NoPrefixSpaceError(f"{found.prefix} has no free /{length}")
        click.echo(str(child))


@ipam.command("utilisation")
@click.argument("prefix")
@click.option("--vrf", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def utilisation(click_ctx: click.Context, prefix: str, vrf: str | None, as_json: bool) -> None:
    """Show how much of PREFIX is used."""
    from inventory.ipam.utilisation import prefix_utilisation

    with AppContext.of_command(click_ctx).db.session(write=False) as session:
        found = find_prefix(session, prefix, vrf)
        used = prefix_utilisation(session, found)
        row = {"prefix": found.prefix, "status": found.status, "used": used.used,
               "total": used.total, "percent": used.percent}
    if as_json:
        _echo_json(row)
    else:
        click.echo(f"{row['prefix']} ({row['status']}): {row['used']} of {row['total']} "
                   f"used ({row['percent']}%)")


@ipam.command("release")
@click.argument("address")
@click.option("--vrf", default=None)
@click.pass_context
def release(click_ctx: click.Context, address: str, vrf: str | None) -> None:
    """Give ADDRESS back to its prefix (delete it)."""
    from inventory.ipam.addresses import find_ip_address
    from inventory.ipam.allocation import release_ip

    with AppContext.of_command(click_ctx).db.session() as session:
        try:
            ip = find_ip_address(session, address, _vrf_id(session, vrf))
        except ValueError as exc:
            raise invalid("address", str(exc)) from None
        if ip is None:
            raise InventoryNotFoundError(f"address {address} does not exist in VRF "
                                         f"{vrf or 'global'}")
        text = ip.address
        release_ip(session, Actor.cli(), ip.id)
    click.echo(f"released {text}")


@ipam.command("ipv6-report")
@click.option("--block", default=None, help="IPv6 block (default $SIMPUL_IPV6_BLOCK or the "
              "widest IPv6 container prefix).")
@click.option("--reserve", is_flag=True, help="Reserve the planned /64 of every IPv4-only "
              "prefix in IPAM.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ipv6_report_cmd(click_ctx: click.Context, block: str | None, reserve: bool,
                    as_json: bool) -> None:
    """Dual-stack plan per IPv4 prefix and the devices still without IPv6."""
    from inventory.ipv6 import ipv6_report, reserve_plan

    with AppContext.of_command(click_ctx).db.session(write=reserve) as session:
        report = ipv6_report(session, block=block)
        if reserve:
            reserve_plan(session, Actor.cli(), report)
            report = ipv6_report(session, block=block)
    if as_json:
        _echo_json(report.as_dict())
        return
    click.echo(f"IPv6 block: {report.block or '(none: set SIMPUL_IPV6_BLOCK)'}")
    for plan in report.prefixes:
        click.echo(f"{plan.ipv4:<20} {plan.stage:<11} {plan.ipv6 or '-':<28} "
                   f"{plan.role or '-'} {plan.site or ''}".rstrip())
    counts = report.stage_counts()
    click.echo("stages: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"devices without IPv6: {len(report.devices_without_ipv6)} of "
               f"{report.devices_total}" + (": " + ", ".join(report.devices_without_ipv6)
                                            if report.devices_without_ipv6 else ""))
