"""Inbox routes of the helpdesk API: the caller's notifications, and marking them read."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required

from simpul.errors import ValidationError
from webui.apiutil import json_body
from webui.extensions import commit, db_session
from webui.helpdesk.api import OBJ, api_bp, iso
from webui.helpdesk.models import Notification
from webui.helpdesk.notify import inbox, mark_read
from webui.openapi import spec


def notification_json(n: Notification) -> dict[str, Any]:
    """One inbox entry."""
    return {"id": n.id, "work_order": n.work_order_id, "text": n.text,
            "created_at": iso(n.created_at), "read": n.read_at is not None}


@api_bp.route("/inbox/")
@login_required
@spec.operation("/api/helpdesk/inbox/", "GET", tag="helpdesk", summary="Your notifications",
                response={"type": "array", "items": OBJ},
                parameters=[{"name": "unread", "in": "query", "schema": {"type": "boolean"}}])
def list_inbox() -> Any:
    """Newest first; ``?unread=true`` for the unread ones only."""
    unread = request.args.get("unread") in ("1", "true")
    return jsonify([notification_json(n)
                    for n in inbox(db_session(), current_user, unread_only=unread)])


@api_bp.route("/inbox/read/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/inbox/read/", "POST", tag="helpdesk",
                summary="Mark your notifications read", response=OBJ,
                request={"type": "object", "required": ["ids"], "properties": {
                    "ids": {"type": "array", "items": {"type": "integer"}}}})
def read_inbox() -> Any:
    """Only the caller's own entries change; others' ids are ignored."""
    ids = json_body(required=("ids",), allowed=())["ids"]
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                            for i in ids):
        raise ValidationError("ids must be a list of integers", errors={"ids": ["integers"]})
    changed = mark_read(db_session(), current_user, ids)
    commit()
    return jsonify({"marked": changed})
