"""``simpul run PLAYBOOK``: run a playbook on the inventory from the shell.

Progress lines appear as hosts advance (threaded); the diffs and a result table follow;
the exit status is 1 when any host failed, was rolled back or was locked. Applying
asks for confirmation unless ``--yes`` is given or the run carries out an approved work
order (``--work-order N``).
"""

from __future__ import annotations

import sys
from datetime import datetime

import click

from playbooks.base import FAILED_STATUSES
from simpul.audit import Actor
from simpul.context import AppContext


def result_table(rows: list[dict[str, object]]) -> str:
    """Return the end-of-run table (host, status, changed, diff lines, verification)."""
    header = ("host", "status", "changed", "diff", "verification")
    lines = [header]
    for row in rows:
        verified = row.get("verified")
        verification = ("ok" if verified else "; ".join(row.get("verification") or [])
                        or "failed") if verified is not None else "-"
        if row.get("error"):
            verification = f"{verification} | {row['error']}" if verified is not None \
                else str(row["error"])
        lines.append((str(row["host"]), str(row["status"]), "yes" if row["changed"] else "no",
                      str(row["diff_lines"]), verification))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = []
    for line in lines:
        cells = [line[i].ljust(widths[i]) for i in range(4)]
        out.append("  ".join([*cells, line[4]]).rstrip())
    return "\n".join(out)


@click.command("run")
@click.argument("playbook")
@click.option("--ansible", is_flag=True,
              help="PLAYBOOK is an Ansible playbook of playbooks/ansible/ (ansible-runner; "
                   "--dry-run is check mode).")
@click.option("--hosts", default=None, help="Only these devices (comma-separated names).")
@click.option("--role", "roles", default=None, help="Only devices of these roles.")
@click.option("--site", "sites", default=None, help="Only devices at these sites (slugs).")
@click.option("--opd", "opds", default=None, help="Only devices of these OPDs (codes).")
@click.option("--dry-run", is_flag=True, help="Show each device's diff; change nothing.")
@click.option("--yes", is_flag=True, help="Apply without asking.")
@click.option("--work-order", type=int, default=None,
              help="The helpdesk work order this change carries out (approved: no prompt).")
@click.option("--verify-timeout", type=float, default=90.0, show_default=True,
              help="Seconds verification may wait for the network to converge.")
@click.pass_context
def run(click_ctx: click.Context, playbook: str, ansible: bool, hosts: str | None,
        roles: str | None, sites: str | None, opds: str | None, dry_run: bool, yes: bool,
        work_order: int | None, verify_timeout: float) -> None:
    """Run PLAYBOOK (backbone, vpn, nac, baseline, bandwidth) on the matching devices."""
    from playbooks.records import (
        ANSIBLE_PREFIX,
        check_playbook,
        create_run,
        execute_run,
        get_run,
        work_order_status,
    )

    app = AppContext.of_command(click_ctx)
    if ansible:
        playbook = ANSIBLE_PREFIX + playbook
    check_playbook(playbook)
    filters = {"hosts": hosts, "roles": roles, "sites": sites, "opds": opds}
    confirmed = yes
    if not dry_run and not yes:
        approved = False
        if work_order is not None:
            with app.db.session(write=False) as session:
                approved, _state = work_order_status(session, work_order)
        if not approved:
            scope = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "all devices"
            confirmed = click.confirm(f"Apply playbook {playbook} to {scope}?", default=False,
                                      abort=True)
    with app.db.session() as session:
        run_id = create_run(session, Actor.cli(), playbook, filters=filters, dry_run=dry_run,
                            work_order=work_order, confirmed=confirmed).id

    def echo(line: str) -> None:
        click.echo(f"{datetime.now():%H:%M:%S} {line}")

    click.echo(f"run {run_id}: {playbook}{' (dry-run)' if dry_run else ''}")
    execute_run(app.db, app.settings, run_id, on_line=echo, verify_timeout=verify_timeout)
    with app.db.session(write=False) as session:
        record = get_run(session, run_id)
        rows = [{"host": h.host, "status": h.status, "changed": h.changed,
                 "diff_lines": h.diff_lines, "verified": h.verified,
                 "verification": h.verification, "error": h.error} for h in record.hosts]
        diffs = [(h.host, h.diff) for h in record.hosts if h.diff]
        state = record.state
    for host, diff in diffs:
        click.echo(f"\n--- {host}{' (not applied)' if dry_run else ''}")
        click.echo(diff.rstrip())
    click.echo("")
    click.echo(result_table(rows))
    failed = [r["host"] for r in rows if r["status"] in FAILED_STATUSES]
    click.echo(f"\nrun {run_id}: {state}"
               + (f" ({len(failed)} host(s) failed: {', '.join(failed)})" if failed else ""))
    if failed or state != "ok":
        sys.exit(1)
