"""Run records: the one service behind ``simpul run``, the web UI and the API.

``create_run`` checks and stores what is asked (playbook, filters, dry-run, work order);
``execute_run`` runs it, appending every progress line to the record while it runs and
storing the per-host results at the end. The CLI calls both in the foreground; the web
app calls ``create_run`` in the request and ``execute_run`` in a background thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from loguru import logger
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from playbooks import registry
from playbooks.base import PlaybookError
from playbooks.models import PlaybookRun, PlaybookRunHost
from playbooks.runner import DEFAULT_VERIFY_TIMEOUT, RunResult, run_playbook
from simpul.audit import Actor, record
from simpul.db import Database
from simpul.errors import NotFoundError
from simpul.logging import redact
from simpul.models.base import utcnow
from simpul.settings import Settings

FILTER_KEYS = ("hosts", "roles", "sites", "opds")
ANSIBLE_PREFIX = "ansible:"  # "ansible:NAME" runs playbooks/ansible/NAME.yml (ansible-runner)
_output_lock = threading.Lock()


def _clean_filters(filters: dict[str, Any] | None) -> dict[str, list[str]]:
    cleaned: dict[str, list[str]] = {}
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise PlaybookError(f"unknown filter {key!r}", errors={key: ["unknown filter"]})
        values = value.split(",") if isinstance(value, str) else list(value or [])
        values = [str(v).strip() for v in values if str(v).strip()]
        if values:
            cleaned[key] = values
    return cleaned


def check_playbook(playbook: str) -> None:
    """Raise PlaybookError unless *playbook* (or ``ansible:NAME``) exists."""
    if not playbook.startswith(ANSIBLE_PREFIX):
        registry.get(playbook)
        return
    from playbooks.ansible_runner import ansible_names

    name = playbook.removeprefix(ANSIBLE_PREFIX)
    if name not in ansible_names():
        raise PlaybookError(f"unknown Ansible playbook {name!r}; known: "
                            f"{', '.join(ansible_names()) or 'none'}",
                            errors={"playbook": ["unknown Ansible playbook"]})


def work_order_status(session: Session, work_order_id: int) -> tuple[bool, str]:
    """Return (approved, state) of a helpdesk work order.

    Approved means Pimpinan (or the approving role) fired "approve" on it and it is not
    closed, rejected or declined. The helpdesk lives in the web package: it is imported
    here, at call time, so the domain code has no import-time dependency on webui.

    Raises:
        NotFoundError: no such work order.
    """
    from webui.helpdesk.models import WorkOrder, WorkOrderEvent

    order = session.get(WorkOrder, work_order_id)
    if order is None:
        raise NotFoundError(f"work order {work_order_id} does not exist",
                            errors={"work_order": ["not found"]})
    approved = session.scalar(select(func.count()).select_from(WorkOrderEvent).where(
        WorkOrderEvent.work_order_id == work_order_id, WorkOrderEvent.action == "approve"))
    final = order.state in ("closed", "rejected", "declined")
    return bool(approved) and not final, order.state


def create_run(session: Session, actor: Actor, playbook: str, *,
               filters: dict[str, Any] | None = None, dry_run: bool = True,
               work_order: int | None = None, confirmed: bool = False) -> PlaybookRun:
    """Record a run to be executed (state ``queued``).

    An apply (not dry-run) needs *confirmed* or a linked approved work order; a linked
    work order that is not approved refuses an apply.

    Raises:
        PlaybookError: unknown playbook or filter, no confirmation.
        NotFoundError: the work order does not exist.
    """
    check_playbook(playbook)
    cleaned = _clean_filters(filters)
    if work_order is not None:
        approved, state = work_order_status(session, work_order)
        if not dry_run and not approved:
            raise PlaybookError(
                f"work order {work_order} is not approved (state {state}); "
                "only an approved work order can authorise a change",
                errors={"work_order": ["not approved"]})
        confirmed = confirmed or approved
    if not dry_run and not confirmed:
        raise PlaybookError("applying a playbook needs explicit confirmation or an approved "
                            "work order", errors={"confirm": ["required"]})
    run = PlaybookRun(playbook=playbook, state="queued", dry_run=dry_run,
                      started_by=actor.name, channel=actor.channel, user_id=actor.user_id,
                      filters=cleaned, work_order_id=work_order, output="", error="")
    session.add(run)
    session.flush()
    record(session, actor, "playbook.run", run,
           after={"playbook": playbook, "dry_run": dry_run, "filters": cleaned,
                  "work_order": work_order})
    return run


def append_output(db: Database, run_id: int, line: str) -> None:
    """Append one progress line (redacted) to the run's output, in its own transaction."""
    text = redact(line.rstrip("\n")) + "\n"
    with _output_lock, db.session() as session:
        session.execute(update(PlaybookRun).where(PlaybookRun.id == run_id)
                        .values(output=PlaybookRun.output + text))


def _store(db: Database, run_id: int, result: RunResult | None, error: str = "") -> None:
    with db.session() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            return
        run.finished_at = utcnow()
        if result is None:
            run.state = "error"
            run.error = redact(error)
            return
        run.state = "failed" if result.failed else "ok"
        for host in result.hosts.values():
            session.add(PlaybookRunHost(
                run_id=run_id, host=host.host, status=host.status, changed=host.changed,
                diff=redact(host.diff), diff_lines=host.diff_lines, verified=host.verified,
                verification=[redact(m) for m in host.verification],
                error=redact(host.error), seconds=round(host.seconds, 3)))


def execute_run(db: Database, settings: Settings, run_id: int, *,
                on_line: Callable[[str], None] | None = None,
                verify_timeout: float = DEFAULT_VERIFY_TIMEOUT,
                playbook_module: Any = None) -> RunResult | None:
    """Run a queued run, recording its output and results; return the result.

    Errors that stop the whole run (no host matches, inventory unreadable) are stored in
    the record (state ``error``) and raised again for the caller.
    """
    with db.session() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFoundError(f"playbook run {run_id} does not exist")
        if run.state != "queued":
            raise PlaybookError(f"run {run_id} has already been executed ({run.state})")
        run.state, run.started_at = "running", utcnow()
        playbook, filters = run.playbook, dict(run.filters or {})
        dry_run, work_order, who = run.dry_run, run.work_order_id, run.started_by

    def on_event(host: str, message: str) -> None:
        line = message if host == "*" else f"{host}: {message}"
        append_output(db, run_id, line)
        if on_line is not None:
            on_line(line)

    try:
        if playbook.startswith(ANSIBLE_PREFIX) and playbook_module is None:
            from playbooks.ansible_runner import run_ansible

            result = run_ansible(db, playbook.removeprefix(ANSIBLE_PREFIX), check=dry_run,
                                 on_event=on_event, **{k: filters.get(k) for k in FILTER_KEYS})
        else:
            result = run_playbook(
                db, settings, playbook_module or playbook, dry_run=dry_run,
                work_order=work_order, verify_timeout=verify_timeout,
                holder=f"run {run_id} ({playbook}) by {who}", on_event=on_event,
                **{k: filters.get(k) for k in FILTER_KEYS})
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        logger.bind(task="playbook").warning("run {} stopped: {}", run_id, redact(message))
        append_output(db, run_id, f"error: {message}")
        _store(db, run_id, None, message)
        raise
    _store(db, run_id, result)
    return result


def list_runs(session: Session, *, limit: int = 50, offset: int = 0) -> list[PlaybookRun]:
    """Return the newest runs first."""
    return list(session.scalars(select(PlaybookRun).order_by(PlaybookRun.id.desc())
                                .limit(limit).offset(offset)))


def get_run(session: Session, run_id: int) -> PlaybookRun:
    """Return one run with its host results.

    Raises:
        NotFoundError: no such run.
    """
    run = session.scalar(select(PlaybookRun).where(PlaybookRun.id == run_id)
                         .options(selectinload(PlaybookRun.hosts)))
    if run is None:
        raise NotFoundError(f"playbook run {run_id} does not exist")
    return run


def run_as_dict(run: PlaybookRun, *, with_output: bool = True) -> dict[str, Any]:
    """Return the JSON form of a run (API and the live page)."""
    data: dict[str, Any] = {
        "id": run.id, "playbook": run.playbook, "state": run.state, "dry_run": run.dry_run,
        "started_by": run.started_by, "channel": run.channel, "filters": run.filters,
        "work_order": run.work_order_id,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "finished": run.state in ("ok", "failed", "error"),
    }
    if with_output:
        data["output"] = run.output
        data["hosts"] = [{"host": h.host, "status": h.status, "changed": h.changed,
                          "diff": h.diff, "diff_lines": h.diff_lines, "verified": h.verified,
                          "verification": h.verification, "error": h.error,
                          "seconds": h.seconds} for h in run.hosts]
    return data
