"""SIEM JSON API: events (query language), incidents, rules, saved searches, maintenance."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required

from siem.incidents import incident_alerts, incidents_query, require_incident, update_incident
from siem.maintenance import maintenance_report
from siem.models import SiemAlert, SiemIncident, SiemSavedSearch
from siem.query import QueryError
from siem.rules_admin import list_rules, set_rule_enabled
from siem.search import (
    delete_search,
    event_json,
    events_query,
    list_saved,
    require_event,
    save_search,
)
from simpul.errors import ValidationError
from webui.apiutil import json_body, paginate
from webui.extensions import commit, db_session
from webui.openapi import PAGE_PARAMETERS, paginated, spec
from webui.siem import bp
from webui.siem.access import require_operator, require_siem_user, scope_opd, siem_settings


def _q(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string"}}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    from datetime import UTC

    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


EVENT_SCHEMA = spec.schema("SiemEvent", {"type": "object", "properties": {
    "id": {"type": "string"}, "event_id": {"type": "string"},
    "timestamp": {"type": "string", "format": "date-time"}, "created": {"type": "string"},
    "host": {"type": ["string", "null"]}, "host_ip": {"type": ["string", "null"]},
    "source_ip": {"type": ["string", "null"]}, "destination_ip": {"type": ["string", "null"]},
    "user": {"type": ["string", "null"]}, "action": {"type": ["string", "null"]},
    "outcome": {"type": ["string", "null"]}, "category": {"type": ["string", "null"]},
    "severity": {"type": ["integer", "null"]}, "dataset": {"type": ["string", "null"]},
    "message": {"type": "string"}, "url": {"type": "string"},
    "event": {"type": "object", "description": "nested ECS document (detail only)"},
    "fields": {"type": "object", "description": "flat ECS fields (detail only)"},
    "raw": {"type": "string"}, "raw_encoding": {"type": "string"}}})
EVENT_PARAMS = [
    *PAGE_PARAMETERS,
    {"name": "q", "in": "query", "schema": {"type": "string"},
     "description": "query: field:value, AND/OR/NOT, (), \"quoted\", wildcards * ?, "
                    "CIDR on IP fields, >,>=,<,<= on numeric fields"},
    {"name": "since", "in": "query", "schema": {"type": "string"},
     "description": "relative (15m, 24h, 7d) or ISO 8601"},
    {"name": "until", "in": "query", "schema": {"type": "string"}},
    {"name": "opd", "in": "query", "schema": {"type": "string"},
     "description": "only events enrichment attributed to this OPD code"},
    {"name": "after", "in": "query", "schema": {"type": "string"},
     "description": "only events stored after this event row id (live stream polling)"},
]


@bp.route("/api/siem/events/")
@login_required
@spec.operation("/api/siem/events/", "GET", tag="siem", response=paginated(EVENT_SCHEMA),
                summary="Search events with the console's query language (security role)",
                parameters=EVENT_PARAMS)
def api_events() -> Any:
    """Events matching ``q`` in the time range, newest first, a page at a time."""
    require_siem_user()
    args = request.args
    after = args.get("after") or None
    try:
        after_id = int(after) if after else None
    except ValueError:
        raise ValidationError("after must be an event row id", errors={"after": ["integer"]}
                              ) from None
    try:
        stmt = events_query(args.get("q", ""), since=args.get("since"),
                            until=args.get("until"), opd=args.get("opd") or None,
                            scope_opd=scope_opd(), after_id=after_id)
    except QueryError as exc:
        raise ValidationError(str(exc), errors={"q": [str(exc)]}) from None
    return jsonify(paginate(db_session(), stmt, event_json))


@bp.route("/api/siem/events/<event_id>/")
@login_required
@spec.operation("/api/siem/events/{id}/", "GET", tag="siem",
                summary="One event (by its event.id) with its nested ECS document and raw line",
                response={"$ref": f"#/components/schemas/{EVENT_SCHEMA}"},
                parameters=[{"name": "id", "in": "path", "required": True,
                             "schema": {"type": "string"},
                             "description": "the event's event.id"}])
def api_event(event_id: str) -> Any:
    """The stored event, raw line included."""
    require_siem_user()
    return jsonify(event_json(require_event(db_session(), event_id, scope_opd=scope_opd()),
                              full=True))


INCIDENT_SCHEMA = spec.schema("SiemIncident", {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": {"type": "string"}, "title": {"type": "string"},
    "entity": {"type": "string"},
    "severity": {"type": "string", "enum": ["info", "low", "medium", "high", "critical"]},
    "status": {"type": "string", "enum": ["new", "in_progress", "closed"]},
    "assignee": {"type": "string"}, "kind": {"type": "string"},
    "damage_class": {"type": "string"}, "opd": {"type": "string"},
    "techniques": {"type": "array", "items": {"type": "string"}},
    "rules": {"type": "array", "items": {"type": "string"}},
    "alert_count": {"type": "integer"}, "first_seen": {"type": "string"},
    "last_seen": {"type": "string"}, "closed_at": {"type": ["string", "null"]},
    "notes": {"type": "array", "items": {"type": "object"}},
    "alerts": {"type": "array", "items": {"type": "object"}}}})
INCIDENT_REF = {"$ref": f"#/components/schemas/{INCIDENT_SCHEMA}"}


def incident_json(row: SiemIncident, alerts: list[SiemAlert] | None = None) -> dict[str, Any]:
    """An incident as the API shows it (``alerts`` for the detail view)."""
    out: dict[str, Any] = {
        "id": row.id, "url": f"/api/siem/incidents/{row.id}/", "title": row.title,
        "entity": row.entity, "severity": row.severity, "status": row.status,
        "assignee": row.assignee, "kind": row.kind, "damage_class": row.damage_class,
        "opd": row.opd, "techniques": row.techniques, "rules": row.rules,
        "alert_count": row.alert_count, "first_seen": _iso(row.first_seen),
        "last_seen": _iso(row.last_seen), "closed_at": _iso(row.closed_at),
        "notes": row.notes}
    if alerts is not None:
        out["alerts"] = [{"id": a.id, "rule_id": a.rule_id, "title": a.rule_title,
                          "severity": a.severity, "technique": a.technique,
                          "summary": a.summary, "time": _iso(a.created),
                          "events": [f"/api/siem/events/{e}/" for e in a.event_ids]}
                         for a in alerts]
    return out


@bp.route("/api/siem/incidents/")
@login_required
@spec.operation("/api/siem/incidents/", "GET", tag="siem", response=paginated(INCIDENT_SCHEMA),
                summary="Incidents, most recent activity first (OPD officers: their OPD's)",
                parameters=[*PAGE_PARAMETERS, _q("status"), _q("severity"), _q("opd"),
                            _q("q")])
def api_incidents() -> Any:
    """``status`` new/in_progress/closed/open; ``severity`` at least this level."""
    require_siem_user()
    args = request.args
    stmt = incidents_query(status=args.get("status") or None,
                           severity=args.get("severity") or None,
                           opd=args.get("opd") or None, q=args.get("q") or None,
                           scope_opd=scope_opd())
    return jsonify(paginate(db_session(), stmt, incident_json))


ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]


@bp.route("/api/siem/incidents/<int:incident_id>/", methods=["GET", "PATCH"])
@login_required
@spec.operation("/api/siem/incidents/{id}/", "GET", tag="siem", response=INCIDENT_REF,
                summary="One incident with its alerts and links to their events",
                parameters=ID_PARAM)
@spec.operation("/api/siem/incidents/{id}/", "PATCH", tag="siem", response=INCIDENT_REF,
                summary="Change status/assignee/damage class, or add a note",
                parameters=ID_PARAM, request={"type": "object", "properties": {
                    "status": {"type": "string", "enum": ["new", "in_progress", "closed"]},
                    "assignee": {"type": "string"}, "note": {"type": "string"},
                    "damage_class": {"type": "string",
                                     "enum": ["", "interruption", "minor", "major",
                                              "disaster"]}}})
def api_incident(incident_id: int) -> Any:
    """Read or update one incident (the change is recorded in its notes)."""
    require_siem_user()
    session = db_session()
    incident = require_incident(session, incident_id, scope_opd=scope_opd())
    if request.method == "PATCH":
        body = json_body(allowed=("status", "assignee", "note", "damage_class"))
        update_incident(session, incident, actor=current_user.username,
                        status=_opt_str(body, "status"), assignee=_opt_str(body, "assignee"),
                        note=_opt_str(body, "note"),
                        damage_class=_opt_str(body, "damage_class"))
        commit()
    return jsonify(incident_json(incident, incident_alerts(session, incident)))


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string", errors={key: ["string"]})
    return value


@bp.route("/api/siem/rules/")
@login_required
@spec.operation("/api/siem/rules/", "GET", tag="siem", response={"type": "object"},
                summary="Loaded Sigma and correlation rules with hit counts and switches, "
                        "and rule files that did not load")
def api_rules() -> Any:
    """The rule list."""
    require_siem_user()
    return jsonify(list_rules(db_session(), siem_settings().rules_dirs))


@bp.route("/api/siem/rules/<rule_id>/", methods=["PATCH"])
@login_required
@spec.operation("/api/siem/rules/{id}/", "PATCH", tag="siem", response={"type": "object"},
                summary="Enable or disable a rule (Diskominfo security staff)",
                parameters=[{"name": "id", "in": "path", "required": True,
                             "schema": {"type": "string"},
                             "description": "rule id, e.g. corr:ssh-brute-force"}],
                request={"type": "object", "required": ["enabled"],
                         "properties": {"enabled": {"type": "boolean"}}})
def api_rule(rule_id: str) -> Any:
    """Flip one rule's switch; the service applies it within its sync interval."""
    require_siem_user()
    require_operator()
    body = json_body(required=("enabled",), allowed=("enabled",))
    if not isinstance(body["enabled"], bool):
        raise ValidationError("enabled must be true or false", errors={"enabled": ["boolean"]})
    row = set_rule_enabled(db_session(), rule_id, body["enabled"], siem_settings().rules_dirs)
    commit()
    return jsonify({"rule_id": row.rule_id, "enabled": row.enabled, "hits": row.hits})


SEARCH_SCHEMA = spec.schema("SiemSavedSearch", {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "query": {"type": "string"},
    "time_range": {"type": "string"}}})


def search_json(row: SiemSavedSearch) -> dict[str, Any]:
    """A saved search as the API shows it."""
    return {"id": row.id, "name": row.name, "query": row.query, "time_range": row.time_range}


@bp.route("/api/siem/searches/", methods=["GET", "POST"])
@login_required
@spec.operation("/api/siem/searches/", "GET", tag="siem", summary="My saved searches",
                response={"type": "object", "properties": {"results": {
                    "type": "array", "items": {"$ref": f"#/components/schemas/{SEARCH_SCHEMA}"}}}})
@spec.operation("/api/siem/searches/", "POST", tag="siem", status=201,
                summary="Save a search (same name: replaced)",
                response={"$ref": f"#/components/schemas/{SEARCH_SCHEMA}"},
                request={"type": "object", "required": ["name", "query"], "properties": {
                    "name": {"type": "string"}, "query": {"type": "string"},
                    "time_range": {"type": "string"}}})
def api_searches() -> Any:
    """List or save the caller's searches."""
    require_siem_user()
    session = db_session()
    if request.method == "POST":
        body = json_body(required=("name",), allowed=("name", "query", "time_range"))
        row = save_search(session, current_user.username, str(body["name"]),
                          str(body.get("query") or ""), str(body.get("time_range") or "24h"))
        commit()
        return jsonify(search_json(row)), 201
    return jsonify({"results": [search_json(r) for r in list_saved(session,
                                                                     current_user.username)]})


@bp.route("/api/siem/searches/<int:search_id>/", methods=["DELETE"])
@login_required
@spec.operation("/api/siem/searches/{id}/", "DELETE", tag="siem", status=204,
                summary="Delete one of my saved searches", parameters=ID_PARAM)
def api_search(search_id: int) -> Any:
    """Delete a saved search."""
    require_siem_user()
    delete_search(db_session(), current_user.username, search_id)
    commit()
    return "", 204


@bp.route("/api/siem/maintenance/")
@login_required
@spec.operation("/api/siem/maintenance/", "GET", tag="siem", response={"type": "object"},
                summary="Preventive maintenance: recurring warnings per device, ranked, with "
                        "a recommended action",
                parameters=[{"name": "days", "in": "query",
                             "schema": {"type": "integer", "minimum": 1, "maximum": 90}}])
def api_maintenance() -> Any:
    """The report for the last ``days`` days (default 1)."""
    require_siem_user()
    days = request.args.get("days", "1")
    if not days.isdigit() or not 1 <= int(days) <= 90:
        raise ValidationError("days must be between 1 and 90", errors={"days": ["1-90"]})
    return jsonify(maintenance_report(db_session(), days=int(days), scope_opd=scope_opd()))
