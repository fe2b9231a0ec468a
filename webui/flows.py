"""Flows and traps over HTTP: top talkers, OPD traffic, volume series, trap events.

JSON only (the NOC screens draw them). Every route needs a signed-in user or an API
token; OPD users see only traffic from or to their own OPD's prefixes and only traps
from their OPD's devices — asking for another OPD answers 404, as elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from collectors.flows import queries
from inventory.models import BandwidthAllocation
from simpul.errors import NotFoundError, PermissionDeniedError, ValidationError
from simpul.tenancy import can_see_opd, require_opd
from webui.extensions import db_session
from webui.openapi import spec

bp = Blueprint("flows", __name__)

MAX_WINDOW = timedelta(days=400)
WINDOW_PARAMS = [
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "start (ISO 8601; default: `minutes` before `until`)"},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "end (ISO 8601; default: now)"},
    {"name": "minutes", "in": "query", "schema": {"type": "integer", "default": 15}},
    {"name": "opd", "in": "query", "schema": {"type": "string"},
     "description": "OPD code: only traffic from or to its prefixes (OPD users: their own)"},
]
TALKER = spec.schema("FlowTalker", {"type": "object", "properties": {
    "key": {"type": "string"}, "label": {"type": "string"}, "bytes": {"type": "integer"},
    "packets": {"type": "integer"}, "flows": {"type": "integer"}, "bps": {"type": "number"},
    "opd": {"type": ["string", "null"]}}})
OPD_TRAFFIC = spec.schema("FlowOpdTraffic", {"type": "object", "properties": {
    "opd": {"type": "string"}, "name": {"type": "string"}, "bytes_in": {"type": "integer"},
    "bytes_out": {"type": "integer"}, "bytes": {"type": "integer"},
    "avg_bps": {"type": "number"}, "peak_bps": {"type": "number"},
    "peak_at": {"type": ["string", "null"]}, "allocation_bps": {"type": ["number", "null"]}}})
POINT = spec.schema("FlowVolumePoint", {"type": "object", "properties": {
    "ts": {"type": "string"}, "bytes": {"type": "integer"}, "packets": {"type": "integer"},
    "flows": {"type": "integer"}, "bps": {"type": "number"}}})
TRAP = spec.schema("TrapEvent", {"type": "object", "properties": {
    "id": {"type": "integer"}, "received_at": {"type": "string"},
    "source": {"type": "string"}, "device": {"type": "string"},
    "device_id": {"type": ["integer", "null"]}, "version": {"type": "string"},
    "trap": {"type": "string"}, "trap_oid": {"type": "string"},
    "if_index": {"type": ["integer", "null"]}, "if_name": {"type": "string"},
    "severity": {"type": "string"}, "message": {"type": "string"},
    "varbinds": {"type": "object"}}})


def _list_of(name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": {
        "since": {"type": "string"}, "until": {"type": "string"},
        **(extra or {}),
        "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}}}


def _time(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name} is not an ISO 8601 time",
                              errors={name: ["ISO 8601 expected"]}) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", errors={name: ["integer"]}) from None
    if not lo <= value <= hi:
        raise ValidationError(f"{name} must be between {lo} and {hi}",
                              errors={name: [f"{lo}-{hi}"]})
    return value


def _window() -> tuple[datetime, datetime]:
    until = _time("until") or datetime.now(UTC)
    since = _time("since") or until - timedelta(minutes=_int("minutes", 15, 1, 60 * 24 * 400))
    if until <= since:
        raise ValidationError("until must be after since", errors={"until": ["after since"]})
    if until - since > MAX_WINDOW:
        raise ValidationError("the time range is longer than 400 days")
    return since, until


def _scope_opd() -> int | None:
    """The OPD the caller asked for or is limited to (None = every OPD, staff only)."""
    session = db_session()
    code = request.args.get("opd")
    opd_id = require_opd(session, code).id if code else None
    if current_user.is_operator_staff:
        return opd_id
    if opd_id is not None and not can_see_opd(current_user, opd_id):
        raise NotFoundError(f"unknown OPD {code!r}", errors={"opd": ["unknown"]})
    return current_user.opd_id if current_user.opd_id is not None else -1


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()


@bp.route("/api/flows/top-talkers/")
@login_required
@spec.operation("/api/flows/top-talkers/", "GET", tag="flows",
                summary="Top talkers by source, destination, service, conversation, OPD or "
                        "exporter over a time range (OPD users: their OPD's traffic)",
                response=_list_of(TALKER, {"by": {"type": "string"}}),
                parameters=[{"name": "by", "in": "query", "schema": {
                    "type": "string", "enum": list(queries.DIMENSIONS), "default": "source"}},
                    *WINDOW_PARAMS,
                    {"name": "limit", "in": "query", "schema": {"type": "integer",
                                                                "default": 10}},
                    {"name": "exporter", "in": "query", "schema": {"type": "string"}}])
def top_talkers() -> Any:
    """The biggest talkers of the window, biggest first."""
    since, until = _window()
    by = request.args.get("by", "source")
    opd_id = _scope_opd()
    rows = queries.top_talkers(db_session(), by=by, since=since, until=until,
                               limit=_int("limit", 10, 1, queries.MAX_LIMIT), opd_id=opd_id,
                               exporter=request.args.get("exporter") or None)
    if by == "opd" and opd_id is not None:
        rows = [r for r in rows if r.opd_id == opd_id]
    return jsonify({"by": by, "since": _iso(since), "until": _iso(until), "results": [
        {"key": r.key, "label": r.label, "bytes": r.bytes, "packets": r.packets,
         "flows": r.flows, "bps": round(r.bps, 3), "opd": r.opd_code} for r in rows]})


@bp.route("/api/flows/opd-traffic/")
@login_required
@spec.operation("/api/flows/opd-traffic/", "GET", tag="flows",
                summary="Each OPD's traffic in/out, average and peak rate, against its "
                        "bandwidth allocation", response=_list_of(OPD_TRAFFIC),
                parameters=WINDOW_PARAMS)
def opd_traffic() -> Any:
    """OPD bandwidth against allocation, for the NOC screen."""
    since, until = _window()
    opd_id = _scope_opd()
    session = db_session()
    rows = queries.opd_traffic(session, since=since, until=until,
                               opd_ids=None if opd_id is None else [opd_id])
    alloc = dict(session.execute(
        select(BandwidthAllocation.opd_id, func.sum(BandwidthAllocation.committed_mbps))
        .group_by(BandwidthAllocation.opd_id)).all())
    return jsonify({"since": _iso(since), "until": _iso(until), "results": [
        {"opd": r.opd_code, "name": r.opd_name, "bytes_in": r.bytes_in,
         "bytes_out": r.bytes_out, "bytes": r.bytes_total, "avg_bps": round(r.avg_bps, 3),
         "peak_bps": round(r.peak_bps, 3), "peak_at": _iso(r.peak_ts),
         "allocation_bps": float(alloc[r.opd_id]) * 1e6 if alloc.get(r.opd_id) else None}
        for r in rows]})


@bp.route("/api/flows/series/")
@login_required
@spec.operation("/api/flows/series/", "GET", tag="flows",
                summary="Flow volume per step (zeros included), overall, per OPD or exporter",
                response=_list_of(POINT, {"step": {"type": "integer"}}),
                parameters=[*WINDOW_PARAMS,
                            {"name": "step", "in": "query", "schema": {"type": "integer",
                                                                       "default": 60}},
                            {"name": "exporter", "in": "query", "schema": {"type": "string"}}])
def series() -> Any:
    """Bytes, packets and flows per step for a graph."""
    since, until = _window()
    step = _int("step", 60, 60, 86400)
    if (until - since).total_seconds() / step > 5000:
        raise ValidationError("too many points: use a larger step", errors={"step": ["larger"]})
    points = queries.flow_volume_series(db_session(), since=since, until=until, step=step,
                                        opd_id=_scope_opd(),
                                        exporter=request.args.get("exporter") or None)
    return jsonify({"since": _iso(since), "until": _iso(until), "step": step, "results": [
        {"ts": _iso(p.ts), "bytes": p.bytes, "packets": p.packets, "flows": p.flows,
         "bps": round(p.bps, 3)} for p in points]})


@bp.route("/api/flows/exporters/")
@login_required
@spec.operation("/api/flows/exporters/", "GET", tag="flows",
                summary="Flow exporters with their counters (Diskominfo staff)",
                response={"type": "object", "properties": {"results": {"type": "array"}}})
def exporters() -> Any:
    """Who sends flows, how many datagrams were malformed or lacked a template, and the
    1-in-N sampling rate their newest records were scaled by (and where it came from)."""
    if not current_user.is_operator_staff:
        raise PermissionDeniedError("only Diskominfo staff see flow exporters")
    return jsonify({"results": [
        {"address": e.address, "version": e.version, "first_seen": _iso(e.first_seen),
         "last_seen": _iso(e.last_seen), "packets": e.packets, "records": e.records,
         "malformed": e.malformed, "no_template": e.no_template,
         "sampling_rate": e.sampling_rate, "sampling_source": e.sampling_source}
        for e in queries.list_exporters(db_session())]})


@bp.route("/api/traps/")
@login_required
@spec.operation("/api/traps/", "GET", tag="flows",
                summary="SNMP trap events, newest first (OPD users: their OPD's devices)",
                response={"type": "object", "properties": {
                    "next_before_id": {"type": ["integer", "null"]},
                    "results": {"type": "array",
                                "items": {"$ref": f"#/components/schemas/{TRAP}"}}}},
                parameters=[
                    {"name": "since", "in": "query",
                     "schema": {"type": "string", "format": "date-time"}},
                    {"name": "until", "in": "query",
                     "schema": {"type": "string", "format": "date-time"}},
                    {"name": "trap", "in": "query", "schema": {"type": "string"},
                     "description": "linkDown, linkUp, coldStart, warmStart, "
                                    "authenticationFailure or an OID"},
                    {"name": "device_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "opd", "in": "query", "schema": {"type": "string"}},
                    {"name": "before_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer",
                                                                "default": 100}}])
def traps() -> Any:
    """Trap events a page at a time (page on with ``before_id``)."""
    limit = _int("limit", 100, 1, queries.MAX_LIMIT)
    device = request.args.get("device_id")
    before = request.args.get("before_id")
    rows = queries.list_trap_events(
        db_session(), since=_time("since"), until=_time("until"),
        device_id=_int("device_id", 0, 1, 2**62) if device else None,
        opd_id=_scope_opd(), trap=request.args.get("trap") or None,
        before_id=_int("before_id", 0, 1, 2**62) if before else None, limit=limit)
    return jsonify({
        "next_before_id": rows[-1].id if len(rows) == limit else None,
        "results": [{"id": e.id, "received_at": _iso(e.received_at), "source": e.source_addr,
                     "device": e.device_name, "device_id": e.device_id, "version": e.version,
                     "trap": e.trap, "trap_oid": e.trap_oid, "if_index": e.if_index,
                     "if_name": e.if_name, "severity": e.severity, "message": e.message,
                     "varbinds": e.varbinds} for e in rows]})
