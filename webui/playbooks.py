"""Playbook runs over HTTP: the pages to start and watch runs, and ``/api/playbooks/runs/``.

Admins and Infrastruktur only. A run is recorded in the request (``playbooks.records.
create_run``: an apply needs an explicit confirmation or an approved work order) and
executed in a background thread of the web process (``execute_run``), which appends each
progress line to the record; the run page polls the run's JSON for the live output.
Device credentials come from the web process's environment, as for the CLI.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import login_required
from loguru import logger
from sqlalchemy import select

from simpul.context import AppContext
from simpul.errors import SimpulError, ValidationError
from simpul.models import Role
from webui.api import guard_writes
from webui.apiutil import json_body, paginate
from webui.auth import current_actor, roles_required
from webui.extensions import app_context, commit, csrf, db_session
from webui.nav import NavItem
from webui.openapi import PAGE_PARAMETERS, paginated, spec

bp = Blueprint("playbooks", __name__)
csrf.exempt(bp)  # guard_writes applies CSRF to cookie-session writes (forms and API)
bp.before_request(guard_writes)
NAV = [NavItem("playbooks.runs", lazy_gettext("Playbooks"),
               roles=frozenset({Role.INFRASTRUCTURE.value}), order=450)]
ALLOWED = (Role.INFRASTRUCTURE,)
FILTERS = ("hosts", "roles", "sites", "opds")

_threads: dict[int, threading.Thread] = {}


def start_in_background(app: AppContext, run_id: int) -> threading.Thread:
    """Execute a queued run in a daemon thread of this process."""
    from playbooks.records import execute_run

    def target() -> None:
        try:
            execute_run(app.db, app.settings, run_id)
        except SimpulError as exc:
            logger.bind(task="playbook").info("run {} stopped: {}", run_id, exc)
        except Exception:  # stored in the record; the thread must not die noisily
            logger.bind(task="playbook").exception("run {} crashed", run_id)

    thread = threading.Thread(target=target, name=f"playbook-run-{run_id}", daemon=True)
    _threads[run_id] = thread
    thread.start()
    return thread


def wait_for(run_id: int, timeout: float) -> bool:
    """Wait for a run started here to finish (tests, shutdown); True when it did."""
    thread = _threads.get(run_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def _start(body: dict[str, Any]) -> Any:
    from playbooks.records import create_run

    def flag(name: str) -> bool:
        value = body.get(name, False)
        return value is True or str(value).lower() in ("1", "true", "yes", "on")

    work_order = body.get("work_order")
    if work_order in ("", None):
        work_order = None
    else:
        try:
            work_order = int(str(work_order).removeprefix("WO-"))
        except ValueError:
            raise ValidationError("work_order must be a number",
                                  errors={"work_order": ["a number"]}) from None
    run = create_run(db_session(), current_actor(), str(body.get("playbook") or ""),
                     filters={k: body.get(k) for k in FILTERS if body.get(k)},
                     dry_run=flag("dry_run"), work_order=work_order, confirmed=flag("confirm"))
    commit()
    start_in_background(app_context(), run.id)
    return run


# --- pages -------------------------------------------------------------------------------


@bp.route("/playbooks/")
@roles_required(*ALLOWED)
def runs() -> Any:
    """The newest runs and the form to start one."""
    from playbooks import registry
    from playbooks.records import list_runs

    return render_template("playbooks/runs.html", runs=list_runs(db_session(), limit=100),
                           playbooks=registry.describe(), form={}, error=None)


@bp.route("/playbooks/runs", methods=["POST"])
@roles_required(*ALLOWED)
def start() -> Any:
    """Start a run from the form (apply needs the confirmation box or an approved WO)."""
    from playbooks import registry
    from playbooks.records import list_runs

    form = {k: request.form.get(k, "").strip() for k in
            ("playbook", *FILTERS, "dry_run", "confirm", "work_order")}
    try:
        run = _start(form)
    except SimpulError as exc:
        db_session().rollback()
        return render_template("playbooks/runs.html", runs=list_runs(db_session(), limit=100),
                               playbooks=registry.describe(), form=form,
                               error=exc.message), exc.http_status
    return redirect(url_for("playbooks.run_page", run_id=run.id))


@bp.route("/playbooks/runs/<int:run_id>")
@roles_required(*ALLOWED)
def run_page(run_id: int) -> Any:
    """One run: its settings, live output (polled by playbooks.js) and host results."""
    from playbooks.records import get_run

    return render_template("playbooks/run.html", run=get_run(db_session(), run_id))


# --- API ---------------------------------------------------------------------------------

RUN_SCHEMA = spec.schema("PlaybookRun", {"type": "object", "properties": {
    "id": {"type": "integer"}, "playbook": {"type": "string"},
    "state": {"type": "string", "enum": ["queued", "running", "ok", "failed", "error"]},
    "dry_run": {"type": "boolean"}, "started_by": {"type": "string"},
    "channel": {"type": "string"}, "filters": {"type": "object"},
    "work_order": {"type": ["integer", "null"]}, "created_at": {"type": ["string", "null"]},
    "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]},
    "finished": {"type": "boolean"}, "error": {"type": "string"},
    "output": {"type": "string", "description": "progress lines so far (detail only)"},
    "hosts": {"type": "array", "description": "per-host results (detail only)", "items": {
        "type": "object", "properties": {
            "host": {"type": "string"},
            "status": {"type": "string", "enum": ["ok", "changed", "failed", "rolled-back",
                                                  "skipped", "locked"]},
            "changed": {"type": "boolean"}, "diff": {"type": "string"},
            "diff_lines": {"type": "integer"}, "verified": {"type": ["boolean", "null"]},
            "verification": {"type": "array", "items": {"type": "string"}},
            "error": {"type": "string"}, "seconds": {"type": "number"}}}}}})
RUN_REF = {"$ref": f"#/components/schemas/{RUN_SCHEMA}"}
CREATE_FIELDS = {
    "playbook": {"type": "string", "examples": ["backbone"]},
    "hosts": {"type": "string", "description": "comma-separated device names"},
    "roles": {"type": "string"}, "sites": {"type": "string"}, "opds": {"type": "string"},
    "dry_run": {"type": "boolean", "default": False},
    "confirm": {"type": "boolean", "description": "required to apply without an approved "
                                                  "work order"},
    "work_order": {"type": ["integer", "null"]}}


@bp.route("/api/playbooks/runs/")
@login_required
@roles_required(*ALLOWED)
@spec.operation("/api/playbooks/runs/", "GET", tag="playbooks", response=paginated(RUN_SCHEMA),
                summary="Playbook runs, newest first (admin, Infrastruktur)",
                parameters=PAGE_PARAMETERS)
def api_runs() -> Any:
    """List runs without their output."""
    from playbooks.models import PlaybookRun
    from playbooks.records import run_as_dict

    stmt = select(PlaybookRun).order_by(PlaybookRun.id.desc())
    return jsonify(paginate(db_session(), stmt, lambda r: run_as_dict(r, with_output=False)))


@bp.route("/api/playbooks/runs/", methods=["POST"])
@login_required
@roles_required(*ALLOWED)
@spec.operation("/api/playbooks/runs/", "POST", tag="playbooks", status=202, response=RUN_REF,
                summary="Start a run in the background (apply: `confirm` or an approved "
                        "work order); poll the detail for output",
                request={"type": "object", "required": ["playbook"],
                         "properties": CREATE_FIELDS})
def api_create_run() -> Any:
    """Record the run and start it; 202 with the queued run."""
    from playbooks.records import run_as_dict

    body = json_body(required=("playbook",), allowed=tuple(CREATE_FIELDS))
    run = _start(body)
    return jsonify(run_as_dict(run, with_output=False)), 202


@bp.route("/api/playbooks/runs/<int:run_id>/")
@login_required
@roles_required(*ALLOWED)
@spec.operation("/api/playbooks/runs/{id}/", "GET", tag="playbooks", response=RUN_REF,
                summary="One run with its output so far and per-host results",
                parameters=[{"name": "id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])
def api_run(run_id: int) -> Any:
    """The run as the live page polls it."""
    from playbooks.records import get_run, run_as_dict

    return jsonify(run_as_dict(get_run(db_session(), run_id)))
