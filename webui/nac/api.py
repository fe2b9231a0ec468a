"""The register API: ``/api/nac/devices/`` (NetBox-style), CSV import, sessions, decisions."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select

from nac.accounting import recent_decisions
from nac.csvimport import import_devices
from nac.models import DEVICE_TYPES, NacDevice, NacSession
from nac.register import (
    approve_device,
    block_device,
    create_device,
    delete_device,
    devices_query,
    expire_device,
    parse_mac,
    require_device,
    snapshot,
    update_device,
)
from simpul.errors import PermissionDeniedError, ValidationError
from simpul.tenancy import require_opd
from webui.apiutil import json_body, paginate
from webui.auth import current_actor
from webui.extensions import commit, db_session
from webui.nac import bp
from webui.openapi import PAGE_PARAMETERS, paginated, spec


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def device_json(device: NacDevice) -> dict[str, Any]:
    """A register entry as the API shows it."""
    return {"id": device.id, "url": f"/api/nac/devices/{device.id}/", **snapshot(device),
            "registered_by": device.registered_by, "approved_by": device.approved_by,
            "description": device.description, "created": _iso(device.created_at),
            "last_updated": _iso(device.updated_at)}


DEVICE_FIELDS = {"mac": {"type": "string", "examples": ["aa:bb:cc:dd:ee:ff"]},
                 "owner": {"type": "string"}, "opd": {"type": "string"},
                 "device_type": {"type": "string", "enum": list(DEVICE_TYPES)},
                 "purpose": {"type": "string"}, "role": {"type": "string"},
                 "auth_method": {"type": "string", "enum": ["mab", "dot1x"]},
                 "expires_at": {"type": ["string", "null"], "format": "date-time"},
                 "description": {"type": "string"}}
DEVICE_SCHEMA = spec.schema("NacDevice", {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": {"type": "string"}, **DEVICE_FIELDS,
    "status": {"type": "string", "enum": ["pending", "active", "blocked", "expired"]},
    "registered_by": {"type": "string"}, "approved_by": {"type": "string"},
    "created": {"type": ["string", "null"]}, "last_updated": {"type": ["string", "null"]}}})
DEVICE_REF = {"$ref": f"#/components/schemas/{DEVICE_SCHEMA}"}
ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
WRITABLE = tuple(f for f in DEVICE_FIELDS if f != "mac")


@bp.route("/api/nac/devices/")
@login_required
@spec.operation("/api/nac/devices/", "GET", tag="nac", summary="List registered devices "
                "(OPD users: their OPD's)", response=paginated(DEVICE_SCHEMA),
                parameters=[*PAGE_PARAMETERS,
                            {"name": "status", "in": "query", "schema": {"type": "string"}},
                            {"name": "opd", "in": "query", "schema": {"type": "string"}},
                            {"name": "mac", "in": "query", "schema": {"type": "string"}},
                            {"name": "q", "in": "query", "schema": {"type": "string"}}])
def list_devices() -> Any:
    """The register, a page at a time, filtered by status, OPD, MAC or text."""
    session = db_session()
    opd = request.args.get("opd")
    stmt = devices_query(current_user, status=request.args.get("status") or None,
                         opd_id=require_opd(session, opd).id if opd else None,
                         q=request.args.get("q") or None)
    if request.args.get("mac"):
        stmt = stmt.where(NacDevice.mac == parse_mac(request.args["mac"]))
    return jsonify(paginate(session, stmt, device_json))


@bp.route("/api/nac/devices/", methods=["POST"])
@login_required
@spec.operation("/api/nac/devices/", "POST", tag="nac", status=201, response=DEVICE_REF,
                summary="Register a device (OPD users: own OPD, lands pending)",
                request={"type": "object", "required": ["mac"], "properties": DEVICE_FIELDS})
def add_device() -> Any:
    """Register one MAC through the same service as the CLI and the CSV import."""
    body = json_body(required=("mac",), allowed=WRITABLE)
    device = create_device(
        db_session(), current_actor(), str(body["mac"]), opd=body.get("opd") or None,
        owner=str(body.get("owner", "")), device_type=str(body.get("device_type") or "pc"),
        purpose=str(body.get("purpose", "")), role=body.get("role") or None,
        expires_at=body.get("expires_at"), auth_method=str(body.get("auth_method") or "mab"),
        description=str(body.get("description", "")), user=current_user)
    commit()
    return jsonify(device_json(device)), 201


STATUS_ACTIONS = {"active": approve_device, "blocked": block_device, "expired": expire_device}


def set_status(device: NacDevice, status: str) -> None:
    """Approve, block or expire *device* as the caller (403 unless an approver)."""
    if status not in STATUS_ACTIONS:
        raise ValidationError("status must be active, blocked or expired",
                              errors={"status": ["active, blocked or expired"]})
    STATUS_ACTIONS[status](db_session(), current_actor(), device, user=current_user)


@bp.route("/api/nac/devices/<int:device_id>/", methods=["GET", "PATCH", "DELETE"])
@login_required
@spec.operation("/api/nac/devices/{id}/", "GET", tag="nac", summary="One registered device",
                response=DEVICE_REF, parameters=ID_PARAM)
@spec.operation("/api/nac/devices/{id}/", "PATCH", tag="nac", response=DEVICE_REF,
                summary="Change a device; `status` active/blocked/expired needs IT Support, "
                        "Infrastruktur or admin", parameters=ID_PARAM,
                request={"type": "object", "properties": {
                    **{k: v for k, v in DEVICE_FIELDS.items() if k != "mac"},
                    "status": {"type": "string", "enum": ["active", "blocked", "expired"]}}})
@spec.operation("/api/nac/devices/{id}/", "DELETE", tag="nac", status=204,
                summary="Remove a device (OPD users: only their pending ones)",
                parameters=ID_PARAM)
def one_device(device_id: int) -> Any:
    """Read, change (incl. approve/block/expire through ``status``) or delete one entry."""
    session, actor = db_session(), current_actor()
    device = require_device(session, device_id, current_user)
    if request.method == "GET":
        return jsonify(device_json(device))
    if request.method == "DELETE":
        delete_device(session, actor, device, user=current_user)
        commit()
        return "", 204
    body = json_body(allowed=(*WRITABLE, "status"))
    status = body.pop("status", None)
    if body:
        update_device(session, actor, device, body, user=current_user)
    if status is not None:
        set_status(device, str(status))
    commit()
    return jsonify(device_json(device))


@bp.route("/api/nac/devices/import/", methods=["POST"])
@login_required
@spec.operation("/api/nac/devices/import/", "POST", tag="nac",
                summary="Bulk CSV registration with a per-row report (all-or-nothing unless "
                        "?partial=true)", response={"type": "object"},
                parameters=[{"name": "partial", "in": "query", "schema": {"type": "boolean"}}])
def import_csv() -> Any:
    """Register devices from a CSV body (text/csv); 400 with the report when rows fail."""
    partial = request.args.get("partial", "").lower() in ("1", "true", "yes")
    report = import_devices(db_session(), current_actor(), request.get_data(as_text=True),
                            user=current_user, all_or_nothing=not partial)
    commit()
    body = {"created": report.created if report.kept else [], "kept": report.kept,
            "all_or_nothing": report.all_or_nothing,
            "errors": [{"line": e.line, "mac": e.mac, "reason": e.reason}
                       for e in report.errors], "detail": report.lines()[-1]}
    return jsonify(body), 400 if report.errors and not report.kept else 200


SESSION_SCHEMA = spec.schema("NacSession", {"type": "object", "properties": {
    "mac": {"type": "string"}, "username": {"type": "string"}, "nas_ip": {"type": "string"},
    "nas_port": {"type": "string"}, "vlan": {"type": ["integer", "null"]},
    "started": {"type": "string"}, "updated": {"type": "string"},
    "stopped": {"type": ["string", "null"]}, "input_octets": {"type": "integer"},
    "output_octets": {"type": "integer"}}})


def session_json(row: NacSession) -> dict[str, Any]:
    """An accounting session as the API shows it."""
    return {"id": row.id, "mac": row.mac, "username": row.username, "nas_ip": row.nas_ip,
            "nas_port": row.nas_port, "vlan": row.vid, "started": _iso(row.started_at),
            "updated": _iso(row.updated_at), "stopped": _iso(row.stopped_at),
            "input_octets": row.input_octets, "output_octets": row.output_octets,
            "terminate_cause": row.terminate_cause}


@bp.route("/api/nac/sessions/")
@login_required
@spec.operation("/api/nac/sessions/", "GET", tag="nac", response=paginated(SESSION_SCHEMA),
                summary="Accounting sessions per device or port (OPD users: their devices)",
                parameters=[*PAGE_PARAMETERS, *({"name": n, "in": "query",
                                                 "schema": {"type": "string"}}
                                                for n in ("mac", "nas_ip", "nas_port", "open"))])
def api_sessions() -> Any:
    """Which MAC is on which switch port, in which VLAN, since when."""
    args = request.args
    stmt = select(NacSession).order_by(NacSession.started_at.desc(), NacSession.id.desc())
    if args.get("mac"):
        stmt = stmt.where(NacSession.mac == parse_mac(args["mac"]))
    if args.get("nas_ip"):
        stmt = stmt.where(NacSession.nas_ip == args["nas_ip"])
    if args.get("nas_port"):
        stmt = stmt.where(NacSession.nas_port == args["nas_port"])
    if args.get("open", "").lower() in ("1", "true", "yes"):
        stmt = stmt.where(NacSession.stopped_at.is_(None))
    if not current_user.is_operator_staff:
        stmt = stmt.where(NacSession.mac.in_(select(NacDevice.mac).where(
            NacDevice.opd_id == current_user.opd_id)))
    return jsonify(paginate(db_session(), stmt, session_json))


@bp.route("/api/nac/decisions/")
@login_required
@spec.operation("/api/nac/decisions/", "GET", tag="nac", response={"type": "object"},
                summary="Recent RADIUS decisions (Diskominfo staff)",
                parameters=[{"name": n, "in": "query", "schema": {"type": "string"}}
                            for n in ("result", "mac", "limit")])
def api_decisions() -> Any:
    """The newest decisions, e.g. ``?result=reject`` for recent rejects."""
    if not current_user.is_operator_staff:
        raise PermissionDeniedError("only Diskominfo staff see RADIUS decisions")
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
    except ValueError:
        raise ValidationError("limit must be an integer", errors={"limit": ["integer"]}
                              ) from None
    mac = parse_mac(request.args["mac"]) if request.args.get("mac") else None
    rows = recent_decisions(db_session(), result=request.args.get("result") or None, mac=mac,
                            limit=limit)
    return jsonify({"results": [
        {"id": r.id, "time": _iso(r.created_at), "mac": r.mac, "username": r.username,
         "method": r.method, "nas_ip": r.nas_ip, "nas_port": r.nas_port, "result": r.result,
         "reason": r.reason, "vlan": r.vid} for r in rows]})

