"""The helpdesk JSON API under ``/api/helpdesk/``: work orders, transitions, the machines.

Views only translate HTTP to the service functions and back; machine values (``state``,
``action``) are stable, the ``*_label`` fields follow the request's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from simpul.errors import ValidationError
from simpul.models import utcnow
from webui.api import guard_writes
from webui.apiutil import json_body, paginate
from webui.auth import current_actor
from webui.extensions import commit, csrf, db_session
from webui.helpdesk import services as svc
from webui.helpdesk.fields import optional_fields
from webui.helpdesk.labels import (
    ACTION_LABELS,
    PRIORITY_LABELS,
    ROLE_LABELS,
    STATE_LABELS,
    TYPE_LABELS,
    label,
)
from webui.helpdesk.machines import WORKFLOWS
from webui.helpdesk.models import WorkOrder, WorkOrderEvent, aware
from webui.helpdesk.settings import load_helpdesk_config
from webui.helpdesk.sla import sla_status
from webui.helpdesk.workflows import Transition, Workflow
from webui.openapi import PAGE_PARAMETERS, paginated, spec

api_bp = Blueprint("helpdesk_api", __name__, url_prefix="/api/helpdesk")
csrf.exempt(api_bp)
ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
OBJ = {"type": "object"}
WO_SCHEMA = spec.schema("WorkOrder", {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "type": {"type": "string"},
    "state": {"type": "string"}, "priority": {"type": "string"}, "title": {"type": "string"},
    "opd": OBJ, "holder_role": {"type": ["string", "null"]}, "details": OBJ, "sla": OBJ,
    "version": {"type": "integer"},
    "timeline": {"type": "array", "items": OBJ, "description": "detail view only"},
    "allowed_actions": {"type": "array", "items": OBJ, "description": "detail view only"}}})
WO_REF = {"$ref": f"#/components/schemas/{WO_SCHEMA}"}
FILTERS = [*PAGE_PARAMETERS, *({"name": n, "in": "query", "schema": {"type": "string"}}
                               for n in ("type", "state", "opd", "assigned")),
           {"name": "overdue", "in": "query", "schema": {"type": "boolean"}}]


api_bp.before_request(guard_writes)


def config() -> svc.HelpdeskConfig:
    """The helpdesk settings of this app (``SIMPUL_HELPDESK_*``, ``SIMPUL_SMTP_*``), cached."""
    cached = current_app.extensions.get("helpdesk_config")
    if cached is None:
        overrides = {k: v for k, v in current_app.config.items() if k.startswith("HELPDESK_")}
        cached = load_helpdesk_config(overrides=overrides)
        current_app.extensions["helpdesk_config"] = cached
    return cached


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value else None


def _hours(value: timedelta) -> float:
    return round(value.total_seconds() / 3600, 2)


def transition_json(t: Transition) -> dict[str, Any]:
    """An arrow of a machine, with labels in the request's language."""
    return {"action": t.action, "label": label(ACTION_LABELS, t.action), "from": t.source,
            "to": t.target, "to_label": label(STATE_LABELS, t.target), "roles": sorted(t.roles),
            "requires": list(t.requires),
            "optional": [n for n in optional_fields(t.action, t.optional)
                         if n not in t.requires],
            "guards": list(t.guards)}


def workflow_json(wf: Workflow) -> dict[str, Any]:
    """A whole machine, for clients that draw or drive it."""
    return {"type": wf.type, "label": label(TYPE_LABELS, wf.type), "initial": wf.initial,
            "approval_gate": wf.approval_gate,
            "states": [{"name": s.name, "label": label(STATE_LABELS, s.name),
                        "holder": s.holder, "holder_label": label(ROLE_LABELS, s.holder),
                        "final": s.final, "waits_on_requester": s.waits_on_requester}
                       for s in wf.states.values()],
            "transitions": [transition_json(t) for t in wf.transitions]}


def event_json(e: WorkOrderEvent) -> dict[str, Any]:
    """One timeline line."""
    return {"at": iso(e.at), "kind": e.kind, "actor": e.actor_name, "role": e.actor_role,
            "action": e.action, "action_label": label(ACTION_LABELS, e.action),
            "from_state": e.from_state, "to_state": e.to_state,
            "to_label": label(STATE_LABELS, e.to_state), "comment": e.comment, "data": e.data}


def wo_json(wo: WorkOrder, *, detail: bool = False, now: datetime | None = None
            ) -> dict[str, Any]:
    """A work order as the API shows it; the detail view adds timeline and next actions."""
    now = now or utcnow()
    sla = sla_status(wo, now, config().sla)
    body: dict[str, Any] = {
        "id": wo.id, "number": wo.number, "type": wo.type,
        "type_label": label(TYPE_LABELS, wo.type), "state": wo.state,
        "state_label": label(STATE_LABELS, wo.state), "priority": wo.priority,
        "priority_label": label(PRIORITY_LABELS, wo.priority), "title": wo.title,
        "description": wo.description, "opd": {"code": wo.opd.code, "name": wo.opd.name},
        "requester": wo.requester_name, "channel": wo.channel,
        "requester_class": wo.requester_class, "vvip_title": wo.vvip_title,
        "letter_ref": wo.letter_ref, "holder_role": wo.holder_role,
        "holder_label": label(ROLE_LABELS, wo.holder_role),
        "assignee": wo.assignee.username if wo.assignee else None,
        "details": wo.details or {}, "version": wo.version,
        "created_at": iso(wo.created_at), "updated_at": iso(wo.updated_at),
        "resolved_at": iso(wo.resolved_at), "closed_at": iso(wo.closed_at),
        "sla": {"target_hours": _hours(sla.target), "elapsed_hours": _hours(sla.elapsed),
                "remaining_hours": _hours(sla.remaining), "due_at": iso(sla.due_at),
                "paused": sla.paused, "pause_reason": wo.sla_pause_reason,
                "overdue": sla.overdue, "escalation_level": wo.escalation_level,
                "escalate_to": sla.escalate_to},
    }
    if detail:
        body["timeline"] = [event_json(e) for e in wo.events]
        body["allowed_actions"] = [transition_json(t)
                                   for t in svc.allowed_actions(wo, current_user, now)]
    return body


def via() -> str:
    return current_actor().channel


@api_bp.route("/types/")
@login_required
@spec.operation("/api/helpdesk/types/", "GET", summary="The work-order state machines",
                tag="helpdesk", response={"type": "array", "items": OBJ})
def types() -> Any:
    """Every type's states and transitions, so a UI or another system can render them."""
    return jsonify([workflow_json(wf) for wf in WORKFLOWS.values()])


@api_bp.route("/work-orders/")
@login_required
@spec.operation("/api/helpdesk/work-orders/", "GET", summary="List work orders",
                tag="helpdesk", response=paginated(WO_SCHEMA), parameters=FILTERS)
def list_work_orders() -> Any:
    """The caller's visible WOs (own OPD for requesters), filtered and paginated."""
    raw = request.args.get("overdue")
    if raw not in (None, "", "true", "false", "1", "0"):
        raise ValidationError("overdue must be true or false", errors={"overdue": ["boolean"]})
    overdue = None if raw in (None, "") else raw in ("true", "1")
    now = utcnow()
    stmt = svc.list_work_orders(db_session(), current_user, type=request.args.get("type"),
                                state=request.args.get("state"),
                                opd_code=request.args.get("opd"),
                                assigned=request.args.get("assigned"), overdue=overdue, now=now)
    return jsonify(paginate(db_session(), stmt, lambda wo: wo_json(wo, now=now)))


@api_bp.route("/work-orders/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/work-orders/", "POST", summary="File a work order",
                tag="helpdesk", status=201, response=WO_REF,
                request={"type": "object", "required": ["type", "title"], "properties": {
                    "type": {"type": "string", "enum": list(WORKFLOWS)},
                    "title": {"type": "string"}, "description": {"type": "string"},
                    "priority": {"type": "string"}, "details": OBJ,
                    "requester_class": {"type": "string", "enum": ["umum", "vvip"]},
                    "vvip_title": {"type": "string"}, "letter_ref": {"type": "string"},
                    "channel": {"type": "string"}, "opd": {"type": "string"},
                    "requester_name": {"type": "string"}}})
def create_work_order() -> Any:
    """A requester files for their OPD; Help Desk files walk-in, phone and VVIP requests."""
    body = json_body(required=("type", "title"), allowed=(
        "description", "priority", "details", "requester_class", "vvip_title", "letter_ref",
        "channel", "opd", "requester_name"))
    wo = svc.create_work_order(
        db_session(), current_user, type=str(body["type"]), title=body["title"],
        description=str(body.get("description", "")),
        priority=str(body.get("priority", "normal")), details=body.get("details"),
        requester_class=str(body.get("requester_class", "umum")),
        vvip_title=str(body.get("vvip_title", "")), letter_ref=str(body.get("letter_ref", "")),
        channel=body.get("channel"), opd_code=body.get("opd"),
        requester_name=str(body.get("requester_name", "")), config=config(), via=via())
    commit()
    return jsonify(wo_json(wo, detail=True)), 201


@api_bp.route("/work-orders/<int:wo_id>/")
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/", "GET", tag="helpdesk", response=WO_REF,
                summary="One work order with its timeline and the caller's next actions",
                parameters=ID)
def get_work_order(wo_id: int) -> Any:
    """Another OPD's WO answers 404, as if it did not exist."""
    return jsonify(wo_json(svc.get_work_order(db_session(), current_user, wo_id), detail=True))


@api_bp.route("/work-orders/<int:wo_id>/", methods=["PATCH"])
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/", "PATCH", tag="helpdesk", response=WO_REF,
                summary="Record the signed letter of an Umum request (before issue)",
                parameters=ID, request={"type": "object", "required": ["letter_ref"],
                                        "properties": {"letter_ref": {"type": "string"}}})
def patch_work_order(wo_id: int) -> Any:
    """Only the letter may change, and only before Help Desk issues the WO."""
    body = json_body(required=("letter_ref",), allowed=())
    wo = svc.attach_letter(db_session(), current_user, wo_id, body["letter_ref"],
                           via=via())
    commit()
    return jsonify(wo_json(wo, detail=True))


@api_bp.route("/work-orders/<int:wo_id>/transitions/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/transitions/", "POST", tag="helpdesk",
                summary="Fire an action (fields as the machine requires)", response=WO_REF,
                parameters=ID, request={
                    "type": "object", "required": ["action"], "properties": {
                        "action": {"type": "string"}, "comment": {"type": "string"},
                        "version": {"type": "integer",
                                    "description": "refuse (409) unless still this version"}},
                    "additionalProperties": True})
def fire(wo_id: int) -> Any:
    """400 bad fields, 403 wrong role, 404 not visible, 409 not possible now."""
    body = json_body(required=("action",))
    action = str(body.pop("action"))
    version = body.pop("version", None)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValidationError("version must be an integer", errors={"version": ["integer"]})
    wo = svc.transition(db_session(), current_user, wo_id, action, body,
                        expected_version=version, via=via(), config=config())
    commit()
    return jsonify(wo_json(wo, detail=True))


@api_bp.route("/work-orders/<int:wo_id>/comments/")
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/comments/", "GET", tag="helpdesk",
                summary="The comments of a work order",
                response={"type": "array", "items": OBJ}, parameters=ID)
def comments(wo_id: int) -> Any:
    """Only the comment lines of the timeline."""
    wo = svc.get_work_order(db_session(), current_user, wo_id)
    return jsonify([event_json(e) for e in wo.events if e.kind == "comment"])


@api_bp.route("/work-orders/<int:wo_id>/comments/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/comments/", "POST", tag="helpdesk",
                summary="Comment on a work order", status=201, response=OBJ, parameters=ID,
                request={"type": "object", "required": ["comment"],
                         "properties": {"comment": {"type": "string"}}})
def add_comment(wo_id: int) -> Any:
    """Requesters on their OPD's WOs, staff on any."""
    body = json_body(required=("comment",))
    wo = svc.add_comment(db_session(), current_user, wo_id, body["comment"], via=via())
    commit()
    return jsonify(event_json(wo.events[-1])), 201


@api_bp.route("/work-orders/<int:wo_id>/assign/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/assign/", "POST", tag="helpdesk",
                summary="Assign to a person of the holding desk", response=WO_REF,
                parameters=ID, request={"type": "object", "required": ["assignee"],
                                        "properties": {"assignee": {"type": "string"}}})
def assign(wo_id: int) -> Any:
    """Help Desk, or the desk holding the WO, names who works on it."""
    body = json_body(required=("assignee",))
    wo = svc.assign(db_session(), current_user, wo_id, str(body["assignee"]), via=via())
    commit()
    return jsonify(wo_json(wo, detail=True))


@api_bp.route("/work-orders/<int:wo_id>/sla/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/sla/", "POST", tag="helpdesk",
                summary="Pause or resume the SLA clock", response=WO_REF, parameters=ID,
                request={"type": "object", "required": ["action"], "properties": {
                    "action": {"type": "string", "enum": ["pause", "resume"]},
                    "reason": {"type": "string"}}})
def sla(wo_id: int) -> Any:
    """Staff stop the clock while waiting on the requester, with a reason."""
    body = json_body(required=("action",), allowed=("reason",))
    if body["action"] == "pause":
        wo = svc.pause_sla(db_session(), current_user, wo_id, str(body.get("reason", "")),
                           via=via())
    elif body["action"] == "resume":
        wo = svc.resume_sla(db_session(), current_user, wo_id, via=via())
    else:
        raise ValidationError("action must be pause or resume",
                              errors={"action": ["pause or resume"]})
    commit()
    return jsonify(wo_json(wo, detail=True))

