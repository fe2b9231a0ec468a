"""Report routes of the helpdesk API: counts and resolution times, JSON or CSV."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user, login_required

from simpul.errors import ValidationError
from webui.extensions import db_session
from webui.helpdesk.api import OBJ, api_bp
from webui.helpdesk.reports import resolution_report, to_csv
from webui.openapi import spec

PARAMS = [{"name": n, "in": "query", "schema": {"type": "string", "format": "date-time"}}
          for n in ("since", "until")] + [
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}]


def _when(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an ISO 8601 date-time",
                              errors={name: ["not an ISO 8601 date-time"]}) from None
    if value.tzinfo is None:
        raise ValidationError(f"{name} needs a timezone (e.g. +07:00)",
                              errors={name: ["no timezone"]})
    return value


@api_bp.route("/reports/resolution/")
@login_required
@spec.operation("/api/helpdesk/reports/resolution/", "GET", tag="helpdesk",
                summary="Work orders and resolution hours (mean, p95) per type, OPD, month",
                response={"type": "array", "items": OBJ}, parameters=PARAMS)
def resolution() -> Any:
    """Staff see every OPD, a requester their own; ``?format=csv`` for a spreadsheet."""
    rows = resolution_report(db_session(), current_user, since=_when("since"),
                             until=_when("until"))
    if request.args.get("format") == "csv":
        return Response(to_csv(rows), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=helpdesk-resolution.csv"})
    return jsonify([asdict(r) for r in rows])
