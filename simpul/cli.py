"""The ``simpul`` command line: one entry for every role of the system.

Commands are thin: they parse arguments, call one service function inside one
transaction, and print the result. Every SimpulError becomes one line on stderr and
exit status 1 — a user mistake never shows a traceback.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from loguru import logger

from simpul import __version__
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.errors import SimpulError
from simpul.logging import setup_logging
from simpul.settings import load_settings

# Command groups of other packages, loaded only if the package provides them.
PLUGIN_GROUPS = (
    ("labs.cli", "lab"),
    ("inventory.cli", "inventory"),
    ("playbooks.cli", "run"),
    ("collectors.cli", "collectors"),
    ("siem.cli", "siem"),
    ("nac.cli", "nac"),
)


def _ctx(click_ctx: click.Context) -> AppContext:
    """Return the process's AppContext, creating it on first use."""
    obj = click_ctx.ensure_object(dict)
    if "app" not in obj:
        obj["app"] = AppContext.create()
    return obj["app"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", envvar="SIMPUL_LOG_LEVEL", default="INFO", show_default=True,
              help="Console log level.")
@click.pass_context
def cli(click_ctx: click.Context, log_level: str) -> None:
    """simpul — network and data-center infrastructure management for a Diskominfo."""
    click_ctx.ensure_object(dict)
    setup_logging(log_level, json_file=None)


@cli.command()
def version() -> None:
    """Print the simpul version."""
    click.echo(f"simpul {__version__}")


# --- database -------------------------------------------------------------------------

@cli.group()
def db() -> None:
    """Database schema: upgrade, check, current revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(click_ctx: click.Context, revision: str) -> None:
    """Migrate the database to the newest schema (creating it when empty)."""
    from simpul import migrate

    app = _ctx(click_ctx)
    reached = migrate.upgrade(app.db, revision)
    click.echo(f"database {app.settings.database_backend} at revision {reached}")


@db.command("check")
@click.pass_context
def db_check(click_ctx: click.Context) -> None:
    """Compare the models with the database; exit 1 when they drift."""
    from simpul import migrate

    diffs = migrate.check(_ctx(click_ctx).db)
    if diffs:
        for line in diffs:
            click.echo(line, err=True)
        raise SimpulError("database schema differs from the models (see above)")
    click.echo("no schema drift")


@db.command("current")
@click.pass_context
def db_current(click_ctx: click.Context) -> None:
    """Print the database's revision and the code's head revision."""
    from simpul import migrate

    app = _ctx(click_ctx)
    click.echo(f"current {migrate.current_revision(app.db)} head {migrate.head_revision(app.db)}")


# --- OPD tenants and users ---------------------------------------------------------------

@cli.group()
def opd() -> None:
    """OPD tenants (government offices) and the operator, Diskominfo."""


@opd.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--operator", is_flag=True, help="This OPD is Diskominfo, the operator.")
@click.pass_context
def opd_add(click_ctx: click.Context, code: str, name: str, operator: bool) -> None:
    """Create an OPD with a short CODE and a NAME."""
    from simpul.tenancy import create_opd

    with _ctx(click_ctx).db.session() as session:
        created = create_opd(session, Actor.cli(), code, name, is_operator=operator)
        click.echo(f"created OPD {created.code}")


@opd.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def opd_list(click_ctx: click.Context, as_json: bool) -> None:
    """List OPDs."""
    from simpul.tenancy import list_opds

    with _ctx(click_ctx).db.session() as session:
        rows = [{"code": o.code, "name": o.name, "operator": o.is_operator}
                for o in list_opds(session)]
    _print_rows(rows, as_json, ("code", "name", "operator"))


@cli.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="requester, helpdesk, it_support, infrastructure, "
              "datacenter, leadership, noc, security or admin.")
@click.option("--opd", "opd_code", default=None,
              help="OPD code (default: the operator, Diskominfo).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--full-name", default="")
@click.option("--email", default="")
@click.pass_context
def user_add(click_ctx: click.Context, name: str, role: str, opd_code: str | None,
             password_stdin: bool, full_name: str, email: str) -> None:
    """Create user NAME with a role in an OPD."""
    from simpul.tenancy import get_operator
    from simpul.users import create_user

    password = _read_password_stdin() if password_stdin else None
    with _ctx(click_ctx).db.session() as session:
        if opd_code is None:
            operator = get_operator(session)
            if operator is None:
                raise SimpulError("no operator OPD exists yet: run `simpul opd add DISKOMINFO "
                                  "'Dinas Komunikasi dan Informatika' --operator` or pass --opd")
            opd_code = operator.code
        created = create_user(session, Actor.cli(), name, role=role, opd_code=opd_code,
                              password=password, full_name=full_name, email=email)
        note = "" if password else " (no password yet: it cannot sign in)"
        click.echo(f"created user {created.username} ({created.role}, {created.opd.code}){note}")


@user.command("set-password")
@click.argument("name")
@click.pass_context
def user_set_password(click_ctx: click.Context, name: str) -> None:
    """Set NAME's password, read from standard input."""
    from simpul.users import set_password

    password = _read_password_stdin()
    with _ctx(click_ctx).db.session() as session:
        set_password(session, Actor.cli(), name, password)
    click.echo(f"password of {name} changed")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(click_ctx: click.Context, as_json: bool) -> None:
    """List users."""
    from simpul.users import list_users

    with _ctx(click_ctx).db.session() as session:
        rows = [{"username": u.username, "role": u.role, "opd": u.opd.code,
                 "active": u.is_active} for u in list_users(session)]
    _print_rows(rows, as_json, ("username", "role", "opd", "active"))


def _read_password_stdin() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SimpulError("no password on standard input")
    return password


# --- API tokens -----------------------------------------------------------------------------

@cli.group()
def token() -> None:
    """API tokens (used as `Authorization: Token <key>`)."""


@token.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.option("--expires-days", type=click.IntRange(min=1), default=None)
@click.option("--read-only", is_flag=True)
@click.pass_context
def token_create(click_ctx: click.Context, name: str, description: str,
                 expires_days: int | None, read_only: bool) -> None:
    """Create a token for user NAME and print its key (shown only this once)."""
    from simpul.tokens import create_token

    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    with _ctx(click_ctx).db.session() as session:
        issued = create_token(session, Actor.cli(), name, description=description,
                              expires_at=expires, write_enabled=not read_only)
    click.echo(issued.key)


@token.command("list")
@click.option("--user", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def token_list(click_ctx: click.Context, username: str | None, as_json: bool) -> None:
    """List tokens (prefixes only; keys are never stored)."""
    from simpul.tokens import list_tokens

    with _ctx(click_ctx).db.session() as session:
        rows = [{"id": t.id, "user": t.user.username, "prefix": t.key_prefix,
                 "description": t.description, "write": t.write_enabled,
                 "revoked": t.revoked_at is not None} for t in list_tokens(session, username)]
    _print_rows(rows, as_json, ("id", "user", "prefix", "description", "write", "revoked"))


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(click_ctx: click.Context, token_id: int) -> None:
    """Revoke token TOKEN_ID."""
    from simpul.tokens import revoke_token

    with _ctx(click_ctx).db.session() as session:
        revoke_token(session, Actor.cli(), token_id)
    click.echo(f"token {token_id} revoked")


@cli.command("audit")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def audit_cmd(click_ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show the newest audit-log entries."""
    from simpul.audit import list_entries

    with _ctx(click_ctx).db.session() as session:
        rows = [{"at": e.at.isoformat(timespec="seconds"), "actor": e.actor_name,
                 "channel": e.channel, "action": e.action, "object": e.object_repr,
                 "before": e.before, "after": e.after}
                for e in list_entries(session, limit=limit)]
    _print_rows(rows, as_json, ("at", "actor", "channel", "action", "object"))


# --- running ----------------------------------------------------------------------------------

@cli.command()
@click.option("--host", default=None, help="Address for the web UI (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port for the web UI (default 8080).")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Upgrade the database schema before starting.")
@click.pass_context
def up(click_ctx: click.Context, host: str | None, port: int | None, migrate: bool) -> None:
    """Run the web UI and every background service until Ctrl-C."""
    from simpul.runtime import run_all

    settings = load_settings(web_host=host, web_port=port)
    app = AppContext.create(settings)
    click_ctx.obj["app"] = app
    run_all(app, migrate=migrate)


@cli.group()
def demo() -> None:
    """Demo data for a first look."""


@demo.command("load")
@click.option("--admin-password", envvar="SIMPUL_DEMO_ADMIN_PASSWORD", default=None,
              help="Password for the demo admin (default: generated and printed).")
@click.pass_context
def demo_load(click_ctx: click.Context, admin_password: str | None) -> None:
    """Load a Diskominfo, a few OPDs and their users (idempotent)."""
    from simpul import migrate
    from simpul.demo import load_demo

    app = _ctx(click_ctx)
    migrate.upgrade(app.db)
    with app.db.session() as session:
        result = load_demo(session, admin_password=admin_password)
    for line in result.summary():
        click.echo(line)


def _print_rows(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


def _register_plugins() -> None:
    for module_name, attr in PLUGIN_GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, module_name.split(".")[0]):
                continue
            raise
        command = getattr(module, attr, None)
        if isinstance(command, click.Command):
            cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console entry: run the CLI, turning SimpulErrors into one line and exit 1."""
    try:
        _register_plugins()
        cli.main(args=argv, prog_name="simpul", standalone_mode=False)
    except SimpulError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug, not a user mistake: log it fully, print one line
        logger.opt(exception=exc).debug("unexpected error")
        click.echo(f"error: unexpected {type(exc).__name__}: {exc} "
                   "(run with --log-level DEBUG for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
