"""Alerts, maintenance windows, service probes and SLA: pages and the JSON API.

Pages ``/alerts/…`` and ``/probes/…``; API ``/api/alerts/``, ``/api/alerts/maintenance/``
and ``/api/probes/`` (with results and the SLA report). Every view calls the service
functions of ``collectors.alerts`` and ``collectors.probes`` and their tenancy rules:
Diskominfo staff see everything, an OPD user only their OPD's services and alerts; only
NOC, Infrastruktur, data-centre staff and admins acknowledge, resolve, plan maintenance
or change probes (403 otherwise). Acknowledge/resolve reach the SIEM after the commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from flask import url_for as flask_url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_required

from collectors.alerts.models import ALERT_STATES, MAINTENANCE_SCOPES, SEVERITIES, Alert
from collectors.alerts.notify import Notice, to_siem
from collectors.alerts.service import (
    acknowledge_alert,
    alerts_query,
    can_operate,
    create_maintenance,
    delete_maintenance,
    maintenance_query,
    require_alert,
    require_maintenance,
    resolve_alert,
)
from collectors.alerts.settings import load_alert_settings
from collectors.probes.models import PROBE_KINDS, Probe, ProbeResult
from collectors.probes.service import (
    WRITABLE,
    availability,
    can_edit,
    create_probe,
    delete_probe,
    latest_results,
    list_probes,
    list_results,
    probes_query,
    require_probe,
    update_probe,
)
from collectors.probes.sla import SlaReport, parse_month, report_csv, report_html, sla_report
from inventory.reports.common import paginate as paginate_page
from simpul.errors import SimpulError, ValidationError
from simpul.tenancy import list_opds, require_opd
from webui.api import guard_writes
from webui.apiutil import json_body, paginate
from webui.auth import current_actor
from webui.extensions import app_context, commit, csrf, db_session
from webui.nav import NavItem
from webui.openapi import PAGE_PARAMETERS, paginated, spec

bp = Blueprint("alerts", __name__)
csrf.exempt(bp)  # guard_writes applies CSRF to cookie-session writes (forms and API alike)
bp.before_request(guard_writes)
NAV = [NavItem("alerts.alert_list", lazy_gettext("Alerts"), order=300),
       NavItem("alerts.probe_list", lazy_gettext("Services"), order=310)]
PER_PAGE = 50


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()  # SQLite: naive UTC


def _page() -> int:
    return max(1, request.args.get("page", default=1, type=int) or 1)


def _publish(notices: list[Notice]) -> None:
    """Hand manual changes to the SIEM after the commit (best effort)."""
    if load_alert_settings().siem:
        to_siem(app_context().db, notices)


# --- JSON shapes -----------------------------------------------------------------------

def alert_json(a: Alert) -> dict[str, Any]:
    """An alert as the API shows it."""
    return {"id": a.id, "url": f"/api/alerts/{a.id}/", "rule": a.rule, "kind": a.kind,
            "entity": a.entity, "severity": a.severity, "state": a.state, "title": a.title,
            "details": a.details, "value": a.value, "device": a.device, "site": a.site,
            "service": a.service, "opd": a.opd.code if a.opd else None,
            "flapping": a.flapping, "suppressed": a.suppressed, "occurrences": a.occurrences,
            "fired_at": _iso(a.fired_at), "last_seen_at": _iso(a.last_seen_at),
            "acknowledged_at": _iso(a.acknowledged_at), "acknowledged_by": a.acknowledged_by,
            "resolved_at": _iso(a.resolved_at), "resolved_by": a.resolved_by, "note": a.note}


def window_json(w: Any) -> dict[str, Any]:
    """A maintenance window as the API shows it."""
    return {"id": w.id, "url": f"/api/alerts/maintenance/{w.id}/", "scope": w.scope,
            "target": w.target, "starts_at": _iso(w.starts_at), "ends_at": _iso(w.ends_at),
            "reason": w.reason, "created_by": w.created_by}


def probe_json(p: Probe, last: ProbeResult | None = None) -> dict[str, Any]:
    """A probe as the API shows it, with its latest result when known."""
    return {"id": p.id, "url": f"/api/probes/{p.id}/", "name": p.name, "service": p.service,
            "opd": p.opd.code if p.opd else None, "kind": p.kind, "target": p.target,
            "port": p.port, "expect": p.expect, "interval_s": p.interval_s,
            "timeout_s": p.timeout_s, "device": p.device, "site": p.site,
            "enabled": p.enabled, "description": p.description,
            "last_result": result_json(last) if last is not None else None}


def result_json(r: ProbeResult) -> dict[str, Any]:
    """One probe result."""
    return {"at": _iso(r.at), "ok": r.ok, "rtt_ms": r.rtt_ms, "detail": r.detail,
            "cert_expires_at": _iso(r.cert_expires_at)}


def sla_json(report: SlaReport) -> dict[str, Any]:
    """The SLA report as JSON."""
    return {"month": report.month.strftime("%Y-%m"), "timezone": report.timezone,
            "target_pct": report.target_pct,
            "rows": [row.__dict__ for row in report.rows]}


_S = {"type": "string"}
_NS = {"type": ["string", "null"]}
ALERT_SCHEMA = spec.schema("Alert", {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": _S, "rule": _S, "kind": _S, "entity": _S,
    "severity": {"type": "string", "enum": list(SEVERITIES)},
    "state": {"type": "string", "enum": list(ALERT_STATES)}, "title": _S, "details": _S,
    "value": {"type": ["number", "null"]}, "device": _S, "site": _S, "service": _S,
    "opd": _NS, "flapping": {"type": "boolean"}, "suppressed": {"type": "boolean"},
    "occurrences": {"type": "integer"}, "fired_at": _S, "last_seen_at": _S,
    "acknowledged_at": _NS, "acknowledged_by": _S, "resolved_at": _NS, "resolved_by": _S,
    "note": _S}})
ALERT_REF = {"$ref": f"#/components/schemas/{ALERT_SCHEMA}"}
WINDOW_SCHEMA = spec.schema("MaintenanceWindow", {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": _S, "scope": {"type": "string",
                                                    "enum": list(MAINTENANCE_SCOPES)},
    "target": _S, "starts_at": _S, "ends_at": _S, "reason": _S, "created_by": _S}})
WINDOW_REF = {"$ref": f"#/components/schemas/{WINDOW_SCHEMA}"}
RESULT_SCHEMA = spec.schema("ProbeResult", {"type": "object", "properties": {
    "at": _S, "ok": {"type": "boolean"}, "rtt_ms": {"type": ["number", "null"]},
    "detail": _S, "cert_expires_at": _NS}})
PROBE_FIELDS: dict[str, Any] = {
    "name": _S, "service": _S, "opd": _NS, "kind": {"type": "string", "enum": list(PROBE_KINDS)},
    "target": {"type": "string", "description": "host, address or http(s) URL"},
    "port": {"type": ["integer", "null"]},
    "expect": {"type": "object", "description": "status, contains, verify_tls, ca_file, "
               "cert_min_days, proxy (http); banner_contains (smtp); name, type, address (dns)"},
    "interval_s": {"type": "integer"}, "timeout_s": {"type": "number"}, "device": _S,
    "site": _S, "enabled": {"type": "boolean"}, "description": _S}
PROBE_SCHEMA = spec.schema("Probe", {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": _S, **PROBE_FIELDS,
    "last_result": {"oneOf": [{"$ref": f"#/components/schemas/{RESULT_SCHEMA}"},
                              {"type": "null"}]}}})
PROBE_REF = {"$ref": f"#/components/schemas/{PROBE_SCHEMA}"}
SLA_SCHEMA = spec.schema("SlaReport", {"type": "object", "properties": {
    "month": _S, "timezone": _S, "target_pct": {"type": "number"},
    "rows": {"type": "array", "items": {"type": "object"}}}})
ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
NOTE_BODY = {"type": "object", "properties": {"note": _S}}


def _q(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind}}


# --- alerts API ------------------------------------------------------------------------

def _alert_filters() -> dict[str, Any]:
    args = request.args
    opd = args.get("opd")
    return {"state": args.get("state") or None, "severity": args.get("severity") or None,
            "rule": args.get("rule") or None,
            "open_only": args.get("open", "").lower() in ("1", "true", "yes"),
            "opd_id": require_opd(db_session(), opd).id if opd else None}


@bp.route("/api/alerts/")
@login_required
@spec.operation("/api/alerts/", "GET", tag="alerts", response=paginated(ALERT_SCHEMA),
                summary="Alerts, newest first (OPD users: their OPD's)",
                parameters=[*PAGE_PARAMETERS, _q("state"), _q("severity"), _q("rule"),
                            _q("opd"), _q("open", "boolean")])
def alerts_list_api() -> Any:
    """Alerts filtered by state, severity, rule, OPD, or only open ones."""
    return jsonify(paginate(db_session(), alerts_query(current_user, **_alert_filters()),
                            alert_json))


@bp.route("/api/alerts/<int:alert_id>/")
@login_required
@spec.operation("/api/alerts/{id}/", "GET", tag="alerts", summary="One alert",
                response=ALERT_REF, parameters=ID_PARAM)
def alerts_one_api(alert_id: int) -> Any:
    """One alert."""
    return jsonify(alert_json(require_alert(db_session(), alert_id, current_user)))


def _change_alert(alert_id: int, action: str, note: str) -> Alert:
    session = db_session()
    alert = require_alert(session, alert_id, current_user)
    func = acknowledge_alert if action == "acknowledge" else resolve_alert
    notice = func(session, current_actor(), alert, user=current_user, note=note)
    commit()
    _publish([notice])
    return alert


@bp.route("/api/alerts/<int:alert_id>/acknowledge/", methods=["POST"])
@login_required
@spec.operation("/api/alerts/{id}/acknowledge/", "POST", tag="alerts", response=ALERT_REF,
                summary="Acknowledge an open alert (NOC, Infrastruktur, DC, admin)",
                parameters=ID_PARAM, request=NOTE_BODY)
def alerts_acknowledge_api(alert_id: int) -> Any:
    """Mark an alert as being worked on."""
    body = json_body(allowed=("note",)) if request.get_data() else {}
    return jsonify(alert_json(_change_alert(alert_id, "acknowledge",
                                            str(body.get("note") or ""))))


@bp.route("/api/alerts/<int:alert_id>/resolve/", methods=["POST"])
@login_required
@spec.operation("/api/alerts/{id}/resolve/", "POST", tag="alerts", response=ALERT_REF,
                summary="Resolve an alert by hand (it re-fires only after its condition "
                        "cleared)", parameters=ID_PARAM, request=NOTE_BODY)
def alerts_resolve_api(alert_id: int) -> Any:
    """Close an alert."""
    body = json_body(allowed=("note",)) if request.get_data() else {}
    return jsonify(alert_json(_change_alert(alert_id, "resolve", str(body.get("note") or ""))))


# --- maintenance API -------------------------------------------------------------------

@bp.route("/api/alerts/maintenance/", methods=["GET", "POST"])
@login_required
@spec.operation("/api/alerts/maintenance/", "GET", tag="alerts",
                response=paginated(WINDOW_SCHEMA), summary="Maintenance windows",
                parameters=[*PAGE_PARAMETERS, _q("active", "boolean"),
                            _q("current", "boolean")])
@spec.operation("/api/alerts/maintenance/", "POST", tag="alerts", status=201,
                response=WINDOW_REF, summary="Plan a maintenance window (alerts recorded, "
                "not notified)", request={"type": "object",
                                          "required": ["scope", "target", "starts_at", "ends_at"],
                                          "properties": {
                                              "scope": {"type": "string",
                                                        "enum": list(MAINTENANCE_SCOPES)},
                                              "target": _S, "reason": _S,
                                              "starts_at": {"type": "string",
                                                            "format": "date-time"},
                                              "ends_at": {"type": "string",
                                                          "format": "date-time"}}})
def alerts_maintenance_api() -> Any:
    """List windows (``active``: now; ``current``: not over yet) or plan one."""
    session = db_session()
    if request.method == "POST":
        body = json_body(required=("scope", "target", "starts_at", "ends_at"),
                         allowed=("reason",))
        window = create_maintenance(session, current_actor(), user=current_user, **body)
        commit()
        return jsonify(window_json(window)), 201
    now = datetime.now(UTC)
    truthy = ("1", "true", "yes")
    stmt = maintenance_query(
        current_user, active_at=now if request.args.get("active", "").lower() in truthy else None,
        upcoming_after=now if request.args.get("current", "").lower() in truthy else None)
    return jsonify(paginate(session, stmt, window_json))


@bp.route("/api/alerts/maintenance/<int:window_id>/", methods=["GET", "DELETE"])
@login_required
@spec.operation("/api/alerts/maintenance/{id}/", "GET", tag="alerts", response=WINDOW_REF,
                summary="One maintenance window", parameters=ID_PARAM)
@spec.operation("/api/alerts/maintenance/{id}/", "DELETE", tag="alerts", status=204,
                summary="Cancel a maintenance window", parameters=ID_PARAM)
def alerts_window_api(window_id: int) -> Any:
    """Read or cancel one window."""
    session = db_session()
    window = require_maintenance(session, window_id, current_user)
    if request.method == "GET":
        return jsonify(window_json(window))
    delete_maintenance(session, current_actor(), window, user=current_user)
    commit()
    return "", 204


# --- probes API ------------------------------------------------------------------------

@bp.route("/api/probes/", methods=["GET", "POST"])
@login_required
@spec.operation("/api/probes/", "GET", tag="probes", response=paginated(PROBE_SCHEMA),
                summary="Service probes with their latest result (OPD users: their OPD's)",
                parameters=[*PAGE_PARAMETERS, _q("service"), _q("opd")])
@spec.operation("/api/probes/", "POST", tag="probes", status=201, response=PROBE_REF,
                summary="Add a probe (NOC, Infrastruktur, admin)",
                request={"type": "object", "required": ["name", "service", "kind", "target"],
                         "properties": PROBE_FIELDS})
def probes_list_api() -> Any:
    """List or add probes."""
    session = db_session()
    if request.method == "POST":
        body = json_body(required=("name", "service", "kind", "target"), allowed=tuple(WRITABLE))
        probe = create_probe(session, current_actor(), user=current_user, **body)
        commit()
        return jsonify(probe_json(probe)), 201
    opd = request.args.get("opd")
    stmt = probes_query(current_user, service=request.args.get("service") or None,
                        opd_id=require_opd(session, opd).id if opd else None)
    page = paginate(session, stmt, lambda p: {"_p": p})
    probes = [item["_p"] for item in page["results"]]
    latest = latest_results(session, [p.id for p in probes])
    page["results"] = [probe_json(p, latest.get(p.id)) for p in probes]
    return jsonify(page)


@bp.route("/api/probes/<int:probe_id>/", methods=["GET", "PATCH", "DELETE"])
@login_required
@spec.operation("/api/probes/{id}/", "GET", tag="probes", response=PROBE_REF,
                summary="One probe", parameters=ID_PARAM)
@spec.operation("/api/probes/{id}/", "PATCH", tag="probes", response=PROBE_REF,
                summary="Change a probe", parameters=ID_PARAM,
                request={"type": "object", "properties": PROBE_FIELDS})
@spec.operation("/api/probes/{id}/", "DELETE", tag="probes", status=204,
                summary="Delete a probe and its results", parameters=ID_PARAM)
def probes_one_api(probe_id: int) -> Any:
    """Read, change or delete one probe."""
    session = db_session()
    probe = require_probe(session, probe_id, current_user)
    if request.method == "GET":
        return jsonify(probe_json(probe, latest_results(session, [probe.id]).get(probe.id)))
    if request.method == "DELETE":
        delete_probe(session, current_actor(), probe, user=current_user)
        commit()
        return "", 204
    update_probe(session, current_actor(), probe, json_body(allowed=tuple(WRITABLE)),
                 user=current_user)
    commit()
    return jsonify(probe_json(probe))


def _since_until() -> tuple[datetime, datetime]:
    until = datetime.now(UTC)
    raw = request.args.get("hours", "24")
    try:
        hours = float(raw)
    except ValueError:
        raise ValidationError("hours must be a number", errors={"hours": ["a number"]}) from None
    if not 0 < hours <= 24 * 400:
        raise ValidationError("hours must be between 0 and 9600", errors={"hours": ["range"]})
    return until - timedelta(hours=hours), until


@bp.route("/api/probes/<int:probe_id>/results/")
@login_required
@spec.operation("/api/probes/{id}/results/", "GET", tag="probes",
                summary="A probe's results (newest first) and its availability over "
                        "the period", response={"type": "object", "properties": {
                            "availability_pct": {"type": ["number", "null"]},
                            "checks": {"type": "integer"},
                            "avg_rtt_ms": {"type": ["number", "null"]},
                            "results": {"type": "array", "items": {
                                "$ref": f"#/components/schemas/{RESULT_SCHEMA}"}}}},
                parameters=[*ID_PARAM, _q("hours", "number"), _q("limit", "integer")])
def probes_results_api(probe_id: int) -> Any:
    """Results in the last ``hours`` (default 24), at most ``limit`` (default 500)."""
    session = db_session()
    probe = require_probe(session, probe_id, current_user)
    since, until = _since_until()
    limit = max(1, min(request.args.get("limit", default=500, type=int) or 500, 5000))
    stats = availability(session, [probe.id], since, until)[probe.id]
    return jsonify({"probe": probe.name, "since": _iso(since), "until": _iso(until),
                    "checks": stats.checks, "up": stats.up, "availability_pct": stats.pct,
                    "avg_rtt_ms": stats.avg_rtt_ms, "max_rtt_ms": stats.max_rtt_ms,
                    "results": [result_json(r) for r in list_results(
                        session, probe, since=since, until=until, limit=limit)]})


def _report() -> SlaReport:
    month = request.args.get("month")
    first = parse_month(month) if month else date.today().replace(day=1)
    return sla_report(db_session(), first, tz=app_context().settings.timezone,
                      opd=request.args.get("opd") or None, user=current_user)


def _download(report: SlaReport, fmt: str) -> Response:
    name = f"sla-{report.month:%Y-%m}"
    if fmt == "csv":
        return Response(report_csv(report), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(report_html(report), mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="{name}.html"'})


@bp.route("/api/probes/sla/")
@login_required
@spec.operation("/api/probes/sla/", "GET", tag="probes", response={"$ref":
                f"#/components/schemas/{SLA_SCHEMA}"},
                summary="Monthly SLA report per OPD and service (format=json, csv or html)",
                parameters=[_q("month"), _q("opd"), _q("format")])
def probes_sla_api() -> Any:
    """The SLA report of ``month`` (YYYY-MM, default this month)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv", "html"):
        raise ValidationError("format must be json, csv or html", errors={"format": ["unknown"]})
    report = _report()
    return jsonify(sla_json(report)) if fmt == "json" else _download(report, fmt)


# --- pages -----------------------------------------------------------------------------

def _render_error(exc: SimpulError) -> None:
    db_session().rollback()
    current_app.logger.debug("form refused: %s", exc.message)


@bp.route("/alerts/")
@login_required
def alert_list() -> Any:
    """Open alerts by default; any state on request."""
    state = request.args.get("state") or None
    if state not in (None, *ALERT_STATES, "all"):
        state = None
    stmt = alerts_query(current_user, state=None if state in (None, "all") else state,
                        open_only=state is None)
    page = paginate_page(db_session(), stmt, _page(), PER_PAGE)
    return render_template("alerts/list.html", page=page, state=state or "",
                           states=ALERT_STATES, operator=can_operate(current_user),
                           title=_("Alerts"))


@bp.route("/alerts/<int:alert_id>")
@login_required
def alert_detail(alert_id: int) -> Any:
    """One alert with its history fields."""
    alert = require_alert(db_session(), alert_id, current_user)
    return render_template("alerts/detail.html", alert=alert,
                           operator=can_operate(current_user))


@bp.route("/alerts/<int:alert_id>/<any(acknowledge, resolve):action>", methods=["POST"])
@login_required
def alert_action(alert_id: int, action: str) -> Any:
    """The acknowledge and resolve buttons."""
    _change_alert(alert_id, action, request.form.get("note", "").strip())
    target = request.form.get("next")
    if target != flask_url_for("alerts.alert_list"):
        target = flask_url_for("alerts.alert_detail", alert_id=alert_id)
    return redirect(target)


@bp.route("/alerts/maintenance", methods=["GET", "POST"])
@login_required
def maintenance() -> Any:
    """Current and planned windows, and the form to plan one."""
    form = {k: request.form.get(k, "").strip()
            for k in ("scope", "target", "starts_at", "ends_at", "reason")}
    error, status = None, 200
    if request.method == "POST":
        try:
            create_maintenance(db_session(), current_actor(), user=current_user, **form)
            commit()
            return redirect(flask_url_for("alerts.maintenance"))
        except SimpulError as exc:
            _render_error(exc)
            error, status = exc.message, exc.http_status
    windows = db_session().scalars(maintenance_query(
        current_user, upcoming_after=datetime.now(UTC))).all()
    return render_template("alerts/maintenance.html", windows=windows, form=form, error=error,
                           scopes=MAINTENANCE_SCOPES, operator=can_operate(current_user)), status


@bp.route("/alerts/maintenance/<int:window_id>/delete", methods=["POST"])
@login_required
def maintenance_delete(window_id: int) -> Any:
    """Cancel a window."""
    session = db_session()
    delete_maintenance(session, current_actor(), require_maintenance(session, window_id,
                                                                     current_user),
                       user=current_user)
    commit()
    return redirect(flask_url_for("alerts.maintenance"))


@bp.route("/probes/")
@login_required
def probe_list() -> Any:
    """Every visible probe: latest state and availability over 24 hours and 30 days."""
    session = db_session()
    probes = list_probes(session, current_user)
    ids = [p.id for p in probes]
    now = datetime.now(UTC)
    return render_template(
        "alerts/probes.html", probes=probes, latest=latest_results(session, ids),
        day=availability(session, ids, now - timedelta(days=1), now),
        month=availability(session, ids, now - timedelta(days=30), now),
        editor=can_edit(current_user), title=_("Service availability"))


PROBE_FORM = ("name", "service", "opd", "kind", "target", "port", "contains", "status",
              "interval_s", "timeout_s", "device", "site")


def _probe_fields(form: dict[str, str]) -> dict[str, Any]:
    def number(name: str, kind: type) -> Any:
        raw = form.get(name, "")
        if not raw:
            return None
        try:
            return kind(raw)
        except ValueError:
            raise ValidationError(f"{name} must be a number", errors={name: ["a number"]}
                                  ) from None

    expect: dict[str, Any] = {}
    if form.get("contains"):
        expect["contains"] = form["contains"]
    if form.get("status"):
        expect["status"] = number("status", int)
    fields: dict[str, Any] = {k: form[k] for k in ("name", "service", "kind", "target",
                                                   "device", "site") if form.get(k)}
    fields["opd"] = form.get("opd") or None
    fields["expect"] = expect
    for name, kind in (("port", int), ("interval_s", int), ("timeout_s", float)):
        value = number(name, kind)
        if value is not None:
            fields[name] = value
    return fields


@bp.route("/probes/new", methods=["GET", "POST"])
@login_required
def probe_new() -> Any:
    """Add a probe (NOC, Infrastruktur, admin)."""
    form = {k: request.form.get(k, "").strip() for k in PROBE_FORM}
    error, status = None, 200
    if request.method == "POST":
        try:
            probe = create_probe(db_session(), current_actor(), user=current_user,
                                 **_probe_fields(form))
            commit()
            return redirect(flask_url_for("alerts.probe_detail", probe_id=probe.id))
        except SimpulError as exc:
            _render_error(exc)
            error, status = exc.message, exc.http_status
    return render_template("alerts/probe_new.html", form=form, error=error, kinds=PROBE_KINDS,
                           opds=list_opds(db_session()), editor=can_edit(current_user)), status


@bp.route("/probes/<int:probe_id>")
@login_required
def probe_detail(probe_id: int) -> Any:
    """One probe: its last 100 results and availability."""
    session = db_session()
    probe = require_probe(session, probe_id, current_user)
    now = datetime.now(UTC)
    return render_template(
        "alerts/probe.html", probe=probe, results=list_results(session, probe, limit=100),
        day=availability(session, [probe.id], now - timedelta(days=1), now)[probe.id],
        month=availability(session, [probe.id], now - timedelta(days=30), now)[probe.id],
        editor=can_edit(current_user))


@bp.route("/probes/<int:probe_id>/delete", methods=["POST"])
@login_required
def probe_delete(probe_id: int) -> Any:
    """Delete a probe."""
    session = db_session()
    delete_probe(session, current_actor(), require_probe(session, probe_id, current_user),
                 user=current_user)
    commit()
    return redirect(flask_url_for("alerts.probe_list"))


@bp.route("/probes/sla")
@login_required
def sla_page() -> Any:
    """The monthly SLA report on screen, with CSV and HTML downloads."""
    fmt = request.args.get("format")
    report = _report()
    if fmt in ("csv", "html"):
        return _download(report, fmt)
    return render_template("alerts/sla.html", report=report,
                           month=report.month.strftime("%Y-%m"),
                           opd=request.args.get("opd", ""),
                           opds=list_opds(db_session()) if current_user.is_operator_staff
                           else [], title=_("SLA report"))
