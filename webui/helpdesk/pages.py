"""Helpdesk pages: the work-order list, intake form, and a detail page with its actions.

Plain server-rendered forms (CSRF-protected; one small script only hides the intake
fields of the types not chosen), calling the same services as the API. Form values
arrive as text; ``_typed`` turns them into the kinds the service expects, so a bad value
is refused by the service with the same message as in the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import current_user, login_required

from simpul.errors import ConflictError, SimpulError
from simpul.models import utcnow
from webui.auth import current_actor
from webui.extensions import commit, db_session
from webui.helpdesk import services as svc
from webui.helpdesk.api import config
from webui.helpdesk.fields import FIELD_KINDS, INTAKE, INTAKE_OPTIONAL, PRIORITIES, optional_fields
from webui.helpdesk.labels import (
    ACTION_LABELS,
    FIELD_LABELS,
    PRIORITY_LABELS,
    ROLE_LABELS,
    STATE_LABELS,
    TYPE_LABELS,
    label,
)
from webui.helpdesk.machines import WORKFLOWS
from webui.helpdesk.pse_form import PSE_LAYOUT, pse_form_from
from webui.helpdesk.sla import sla_status
from webui.helpdesk.workflows import MAX_REMINDERS, Transition
from webui.nav import NavItem

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk")
NAV = [NavItem("helpdesk.index", lazy_gettext("Work orders"), order=20)]
PAGE = 50


def _intake_fields(type_: str) -> list[tuple[str, Any, bool]]:
    """Return (name, kind, required) of what *type_* asks at intake (PSE's form aside)."""
    wanted, optional = INTAKE.get(type_, {}), INTAKE_OPTIONAL.get(type_, {})
    return ([(n, k, True) for n, k in wanted.items() if k != "form"]
            + [(n, k, False) for n, k in optional.items()])


# Each type's intake inputs are named d_<type>_<field>, so two types asking for the same
# field (location) never collide, and only the chosen type's inputs are read.
TYPE_FIELDS = {t: _intake_fields(t) for t in WORKFLOWS}


def _kind(name: str) -> Any:
    for table in (*INTAKE.values(), *INTAKE_OPTIONAL.values()):
        if name in table:
            return table[name]
    return FIELD_KINDS.get(name, "text")


def _typed(name: str, raw: str | None, kind: Any = None) -> Any:
    """Return the form text *raw* as the kind the services check (None when empty)."""
    kind = kind if kind is not None else _kind(name)
    if kind == "bool":
        return raw == "y"
    if raw is None or not raw.strip():
        return None
    if isinstance(kind, tuple) and kind[0] == "int":
        try:
            return int(raw)
        except ValueError:
            return raw  # refused by the service as "must be a whole number"
    if kind == "datetime":
        return _local_iso(raw.strip())
    return raw.strip()


def _local_iso(raw: str) -> str:
    """A browser's datetime-local value has no zone: it is the office's local time."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return raw  # refused by the service as "not an ISO 8601 date-time"
    if parsed.tzinfo is None:
        zone = ZoneInfo(current_app.extensions["simpul"].settings.timezone)
        parsed = parsed.replace(tzinfo=zone)
    return parsed.isoformat()


def _intake_details(form: Any, type_: str) -> dict[str, Any]:
    """Return the chosen type's details from the form; PSE's Lampiran II built as an object."""
    details = {n: v for n, kind, _ in TYPE_FIELDS.get(type_, [])
               if (v := _typed(n, form.get(f"d_{type_}_{n}"), kind)) is not None}
    if type_ == "pse":
        details["form"] = pse_form_from(form)
    return details


def _field_names(t: Transition) -> list[str]:
    """Return the fields of *action*: required first, then optional, each once."""
    return list(dict.fromkeys((*t.requires, *optional_fields(t.action, t.optional))))


def _labels() -> dict[str, Any]:
    return {"type_label": lambda k: label(TYPE_LABELS, k),
            "state_label": lambda k: label(STATE_LABELS, k),
            "action_label": lambda k: label(ACTION_LABELS, k),
            "priority_label": lambda k: label(PRIORITY_LABELS, k),
            "role_label": lambda k: label(ROLE_LABELS, k),
            "field_label": lambda k: label(FIELD_LABELS, k)}


@bp.route("/")
@login_required
def index() -> Any:
    """The caller's visible work orders, newest first, overdue ones marked."""
    try:
        offset = max(int(request.args.get("offset", "0")), 0)
    except ValueError:
        offset = 0
    wanted = {k: request.args.get(k) or None for k in ("type", "state", "assigned")}
    stmt = svc.list_work_orders(db_session(), current_user, **wanted)
    rows = db_session().scalars(stmt.limit(PAGE + 1).offset(offset)).unique().all()
    now = utcnow()
    return render_template("helpdesk/list.html", rows=rows[:PAGE], more=len(rows) > PAGE,
                           offset=offset, page=PAGE, wanted=wanted, types=list(WORKFLOWS),
                           status={wo.id: sla_status(wo, now) for wo in rows}, **_labels())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """File a work order (requesters for their OPD, Help Desk on someone's behalf)."""
    error, errors, status = None, {}, 200
    if request.method == "POST":
        form = request.form
        details = _intake_details(form, form.get("type", ""))
        try:
            wo = svc.create_work_order(
                db_session(), current_user, type=form.get("type", ""),
                title=form.get("title", ""), description=form.get("description", ""),
                priority=form.get("priority", "normal"), details=details,
                letter_ref=form.get("letter_ref", ""), opd_code=form.get("opd") or None,
                channel=form.get("channel") or None, via=current_actor().channel,
                config=config())
            commit()
            return redirect(url_for("helpdesk.detail", wo_id=wo.id))
        except SimpulError as exc:
            db_session().rollback()
            error, errors, status = exc.message, exc.errors, exc.http_status
    return render_template("helpdesk/new.html", types=list(WORKFLOWS), priorities=PRIORITIES,
                           type_fields=TYPE_FIELDS, pse=PSE_LAYOUT, error=error, errors=errors,
                           form=request.form, staff=svc.is_staff(current_user),
                           **_labels()), status


def _render_detail(wo_id: int, error: str | None = None, status: int = 200) -> Any:
    wo = svc.get_work_order(db_session(), current_user, wo_id)
    now = utcnow()
    actions = [(t, [(n, _kind(n), n in t.requires) for n in _field_names(t)
                    if n != "comment"])
               for t in svc.allowed_actions(wo, current_user, now)]
    return render_template("helpdesk/detail.html", wo=wo, sla=sla_status(wo, now),
                           actions=actions, error=error, **_labels()), status


@bp.route("/<int:wo_id>")
@login_required
def detail(wo_id: int) -> Any:
    """One work order: facts, SLA, timeline, and a form per action the caller may fire."""
    return _render_detail(wo_id)


@bp.route("/<int:wo_id>/action", methods=["POST"])
@login_required
def act(wo_id: int) -> Any:
    """Fire one action from the detail page; a refusal re-renders it with the message."""
    action = request.form.get("action", "")
    try:
        wo = svc.get_work_order(db_session(), current_user, wo_id)
        t = WORKFLOWS[wo.type].find(wo.state, action)
        names = _field_names(t) if t else []
        fields = {n: v for n in {*names, "comment"}
                  if (v := _typed(n, request.form.get(n))) is not None}
        svc.transition(db_session(), current_user, wo_id, action, fields,
                       via=current_actor().channel, config=config())
        commit()
    except SimpulError as exc:
        db_session().rollback()
        if exc.http_status == 404:
            raise
        return _render_detail(wo_id, exc.message, exc.http_status)
    return redirect(url_for("helpdesk.detail", wo_id=wo_id))


@bp.route("/<int:wo_id>/comment", methods=["POST"])
@login_required
def comment(wo_id: int) -> Any:
    """Add a comment to the timeline."""
    try:
        svc.add_comment(db_session(), current_user, wo_id, request.form.get("comment", ""),
                        via=current_actor().channel)
        commit()
    except SimpulError as exc:
        db_session().rollback()
        if exc.http_status == 404:
            raise
        return _render_detail(wo_id, exc.message, exc.http_status)
    return redirect(url_for("helpdesk.detail", wo_id=wo_id))


@bp.route("/<int:wo_id>/letter")
@login_required
def letter(wo_id: int) -> Any:
    """The printable notification letter once a colocation's 3 set-up reminders ran out."""
    wo = svc.get_work_order(db_session(), current_user, wo_id)
    sent = int((wo.details or {}).get("reminders_sent", 0))
    if wo.type != "penitipan_server" or wo.state != "setup" or sent < MAX_REMINDERS:
        raise ConflictError(f"{wo.number} needs no notification letter (only a colocation "
                            f"in set-up after {MAX_REMINDERS} reminders)")
    return render_template("helpdesk/letter.html", wo=wo, sent=sent, now=utcnow(),
                           **_labels())
