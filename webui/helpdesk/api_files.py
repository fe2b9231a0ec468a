"""Attachment routes of the helpdesk API: upload (multipart), list, download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import jsonify, request, send_file
from flask_login import current_user, login_required

from simpul.errors import ValidationError
from webui.extensions import app_context, commit, db_session
from webui.helpdesk.api import ID, OBJ, api_bp, iso, via
from webui.helpdesk.attachments import MAX_BYTES, add_attachment, list_attachments, storage_dir
from webui.helpdesk.attachments import open_attachment as open_file
from webui.helpdesk.models import Attachment
from webui.openapi import spec

ATT_ID = [*ID, {"name": "attachment", "in": "path", "required": True,
                "schema": {"type": "integer"}}]


def directory() -> Path:
    """The attachment directory under this process's data directory."""
    return storage_dir(Path(app_context().settings.data_dir))


def attachment_json(att: Attachment) -> dict[str, Any]:
    """An attachment's metadata (never its storage path)."""
    return {"id": att.id, "kind": att.kind, "filename": att.filename,
            "content_type": att.content_type, "size": att.size, "sha256": att.sha256,
            "uploaded_at": iso(att.uploaded_at),
            "url": f"/api/helpdesk/work-orders/{att.work_order_id}/attachments/{att.id}/"}


@api_bp.route("/work-orders/<int:wo_id>/attachments/")
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/attachments/", "GET", tag="helpdesk",
                summary="Attachments of a work order", parameters=ID,
                response={"type": "array", "items": OBJ})
def attachments(wo_id: int) -> Any:
    """Metadata of every file on a visible WO."""
    return jsonify([attachment_json(a)
                    for a in list_attachments(db_session(), current_user, wo_id)])


@api_bp.route("/work-orders/<int:wo_id>/attachments/", methods=["POST"])
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/attachments/", "POST", tag="helpdesk",
                summary="Upload a letter, photo or document (multipart: file, kind; "
                        "PDF/PNG/JPEG up to 10 MB)", status=201, response=OBJ, parameters=ID)
def upload(wo_id: int) -> Any:
    """Store the file outside the database; a letter before issue becomes the WO's letter."""
    sent = request.files.get("file")
    if sent is None:
        raise ValidationError("send the file as multipart field 'file'",
                              errors={"file": ["required"]})
    data = sent.stream.read(MAX_BYTES + 1)
    att = add_attachment(db_session(), current_user, wo_id, sent.filename or "", data,
                         request.form.get("kind", "document"), directory(), via=via())
    commit()
    return jsonify(attachment_json(att)), 201


@api_bp.route("/work-orders/<int:wo_id>/attachments/<int:attachment>/")
@login_required
@spec.operation("/api/helpdesk/work-orders/{id}/attachments/{attachment}/", "GET",
                tag="helpdesk", summary="Download an attachment", parameters=ATT_ID)
def download(wo_id: int, attachment: int) -> Any:
    """Only to those who may see the WO; always as a download, never rendered inline."""
    att, path = open_file(db_session(), current_user, wo_id, attachment, directory())
    return send_file(path, mimetype=att.content_type, as_attachment=True,
                     download_name=att.filename)
