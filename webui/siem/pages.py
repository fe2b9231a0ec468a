"""SIEM pages: the console (query, time range, saved searches, live stream), incidents,
rules and the preventive-maintenance report — the same services as the API."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inventory.reports.common import paginate
from siem.incidents import STATUSES, incident_alerts, incidents_query, require_incident
from siem.incidents import update_incident as update_incident_service
from siem.maintenance import maintenance_report
from siem.query import QueryError
from siem.rules_admin import list_rules, set_rule_enabled
from siem.search import (
    TIME_RANGES,
    delete_search,
    events_query,
    list_saved,
    require_event,
    save_search,
)
from simpul.errors import SimpulError
from simpul.tenancy import list_opds
from webui.extensions import commit, db_session
from webui.siem import bp
from webui.siem.access import require_operator, require_siem_user, scope_opd, siem_settings

CONSOLE_ROWS = 100
PER_PAGE = 50
SEVERITIES = ("info", "low", "medium", "high", "critical")


def _opds() -> list[Any]:
    return list(list_opds(db_session())) if current_user.is_operator_staff else []


@bp.route("/siem/")
@login_required
def console() -> Any:
    """Search events; the newest stream in live (siem.js polls the API)."""
    require_siem_user()
    q = request.args.get("q", "").strip()
    rng = request.args.get("range", "24h")
    if rng not in TIME_RANGES:
        rng = "24h"
    opd = request.args.get("opd", "").strip() if current_user.is_operator_staff else ""
    error, rows, status = None, [], 200
    try:
        stmt = events_query(q, since=rng, opd=opd or None, scope_opd=scope_opd())
        rows = list(db_session().scalars(stmt.limit(CONSOLE_ROWS)))
    except QueryError as exc:
        error, status = exc.message, 400
    newest = max((r.id for r in rows), default=0)
    return render_template("siem/console.html", q=q, rng=rng, ranges=TIME_RANGES, opd=opd,
                           opds=_opds(), rows=rows, error=error, newest=newest,
                           saved=list_saved(db_session(), current_user.username),
                           limit=CONSOLE_ROWS), status


@bp.route("/siem/searches", methods=["POST"])
@login_required
def save_search_page() -> Any:
    """Save the console's current query under a name."""
    require_siem_user()
    q = request.form.get("q", "")
    rng = request.form.get("range", "24h")
    try:
        save_search(db_session(), current_user.username, request.form.get("name", ""), q, rng)
        commit()
    except SimpulError as exc:
        db_session().rollback()
        return render_template("error.html", status=exc.http_status, detail=exc.message), \
            exc.http_status
    return redirect(url_for("siem.console", q=q, range=rng))


@bp.route("/siem/searches/<int:search_id>/delete", methods=["POST"])
@login_required
def delete_search_page(search_id: int) -> Any:
    """Forget a saved search."""
    require_siem_user()
    delete_search(db_session(), current_user.username, search_id)
    commit()
    return redirect(url_for("siem.console"))


@bp.route("/siem/events/<event_id>")
@login_required
def event(event_id: str) -> Any:
    """One event: every field, and the raw line as received."""
    require_siem_user()
    row = require_event(db_session(), event_id, scope_opd=scope_opd())
    return render_template("siem/event.html", row=row,
                           fields=sorted((row.doc or {}).items()))


@bp.route("/siem/incidents")
@login_required
def incidents() -> Any:
    """Incidents, open ones first by default."""
    require_siem_user()
    status = request.args.get("status", "open")
    if status not in (*STATUSES, "open", ""):
        status = "open"
    severity = request.args.get("severity", "")
    if severity not in SEVERITIES:
        severity = ""
    opd = request.args.get("opd", "").strip() if current_user.is_operator_staff else ""
    q = request.args.get("q", "").strip()
    stmt = incidents_query(status=status or None, severity=severity or None, opd=opd or None,
                           q=q or None, scope_opd=scope_opd())
    page = paginate(db_session(), stmt, max(1, request.args.get("page", 1, type=int) or 1),
                    PER_PAGE)
    return render_template("siem/incidents.html", page=page, status=status,
                           severity=severity, severities=SEVERITIES, opd=opd, opds=_opds(),
                           q=q, statuses=STATUSES)


@bp.route("/siem/incidents/<int:incident_id>", methods=["GET", "POST"])
@login_required
def incident(incident_id: int) -> Any:
    """One incident: its alerts, links to their events, status, assignee and notes."""
    require_siem_user()
    session = db_session()
    found = require_incident(session, incident_id, scope_opd=scope_opd())
    error, code = None, 200
    if request.method == "POST":
        form = request.form
        status = form.get("status") or None
        assignee = form.get("assignee")
        note = form.get("note", "").strip() or None
        damage = form.get("damage_class")
        try:
            update_incident_service(
                session, found, actor=current_user.username,
                status=status if status != found.status else None,
                assignee=assignee if assignee is not None and assignee.strip()
                != found.assignee else None,
                note=note, damage_class=damage if damage is not None
                and damage != found.damage_class else None)
            commit()
            return redirect(url_for("siem.incident", incident_id=found.id))
        except SimpulError as exc:
            session.rollback()
            found = require_incident(session, incident_id, scope_opd=scope_opd())
            error, code = exc.message, exc.http_status
    return render_template("siem/incident.html", incident=found,
                           alerts=incident_alerts(session, found), statuses=STATUSES,
                           error=error), code


@bp.route("/siem/rules", methods=["GET", "POST"])
@login_required
def rules() -> Any:
    """Rules with hit counts; Diskominfo staff switch them on and off."""
    require_siem_user()
    dirs = siem_settings().rules_dirs
    if request.method == "POST":
        require_operator()
        set_rule_enabled(db_session(), request.form.get("rule_id", ""),
                         request.form.get("enabled") == "1", dirs)
        commit()
        return redirect(url_for("siem.rules"))
    data = list_rules(db_session(), dirs)
    return render_template("siem/rules.html", rules=data["rules"], problems=data["problems"],
                           can_switch=current_user.is_operator_staff)


@bp.route("/siem/maintenance")
@login_required
def maintenance() -> Any:
    """The preventive-maintenance report (``?days=``, default 1)."""
    require_siem_user()
    days = request.args.get("days", 1, type=int) or 1
    days = min(max(days, 1), 90)
    report = maintenance_report(db_session(), days=days, scope_opd=scope_opd())
    return render_template("siem/maintenance.html", report=report, days=days,
                           title=_("Preventive maintenance"))
