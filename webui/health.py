"""``/healthz``: liveness plus database status, for load balancers and the NOC."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from simpul import __version__, migrate
from simpul.db import check_connection
from simpul.errors import DatabaseError
from webui.extensions import app_context, csrf

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@csrf.exempt
def healthz() -> Any:
    """Answer 200 when the database is reachable and current, 503 otherwise.

    Anonymous callers get the statuses only; signed-in users (or tokens) also get the
    backend, revisions, latency and the connection error.
    """
    db = app_context().db
    database: dict[str, Any] = {"backend": db.backend}
    try:
        database["latency_ms"] = round(check_connection(db.engine), 2)
        database["revision"] = migrate.current_revision(db)
        database["head"] = migrate.head_revision(db)
        database["status"] = "ok" if migrate.is_current(db) else "outdated"
    except DatabaseError as exc:
        database["status"] = "down"
        database["error"] = exc.message
    healthy = database["status"] == "ok"
    if not current_user.is_authenticated:
        # Load balancers need only the status; host names and errors are for staff.
        database = {"status": database["status"]}
    body = {"status": "ok" if healthy else "degraded", "version": __version__,
            "database": database}
    return jsonify(body), 200 if healthy else 503
