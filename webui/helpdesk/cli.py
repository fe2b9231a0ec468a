"""``simpul helpdesk``: escalate overdue work orders now, and print the state machines."""

from __future__ import annotations

import click

from simpul.context import AppContext
from webui.helpdesk.jobs import EscalationService
from webui.helpdesk.machines import WORKFLOWS

helpdesk = click.Group("helpdesk", help="Helpdesk: SLA escalation, work-order machines.")


@helpdesk.command("escalate")
@click.pass_context
def escalate_cmd(click_ctx: click.Context) -> None:
    """Escalate every overdue work order once (what `simpul up` does every 5 minutes)."""
    raised = EscalationService(AppContext.of_command(click_ctx)).run_once()
    click.echo(f"escalated {raised} work order(s)")


@helpdesk.command("types")
@click.argument("type_", metavar="TYPE", required=False)
def types_cmd(type_: str | None) -> None:
    """Print each type's transitions: from, action, to, roles, required fields."""
    for wf in WORKFLOWS.values():
        if type_ and wf.type != type_:
            continue
        click.echo(f"{wf.type}:")
        for t in wf.transitions:
            needs = f"  needs {', '.join(t.requires)}" if t.requires else ""
            guards = f"  if {', '.join(t.guards)}" if t.guards else ""
            click.echo(f"  {t.source:18} --{t.action}--> {t.target:18} "
                       f"[{', '.join(sorted(t.roles))}]{needs}{guards}")
