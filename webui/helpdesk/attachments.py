"""Attachments: signed letters and photos on a work order, stored outside the database.

The type is decided by the file's first bytes, not by the name or the browser's claim;
only PDF, PNG and JPEG up to ``MAX_BYTES`` are taken. Files are written under the data
directory with a random name, and served only to those who may see the work order.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from simpul.errors import NotFoundError, ValidationError
from simpul.models import User, utcnow
from webui.helpdesk.models import Attachment, WorkOrder
from webui.helpdesk.services import actor_for, load_visible, workflow_of, workflow_role
from webui.helpdesk.timeline import add_event

MAX_BYTES = 10 * 1024 * 1024
KINDS = ("letter", "photo", "document")
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"),
              (b"\xff\xd8\xff", "image/jpeg"))


def sniff(data: bytes) -> str | None:
    """Return the content type the bytes prove, or None for anything else."""
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


def storage_dir(data_dir: Path) -> Path:
    """Return (and create, private to the service account) the attachment directory."""
    path = data_dir / "helpdesk" / "attachments"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def add_attachment(session: Session, user: User, wo_id: int, filename: str, data: bytes,
                   kind: str, directory: Path, *, now: datetime | None = None,
                   via: str = "web") -> Attachment:
    """Store a file on a WO; a letter on an unissued WO becomes its letter reference.

    Raises:
        NotFoundError: the WO is not visible to *user*.
        ValidationError: wrong kind, empty or too large, or not PDF/PNG/JPEG.
    """
    now = now or utcnow()
    wo = load_visible(session, user, wo_id)
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [f"one of: {', '.join(KINDS)}"]
    content_type = sniff(data)
    if not data:
        errors["file"] = ["empty"]
    elif len(data) > MAX_BYTES:
        errors["file"] = [f"larger than {MAX_BYTES // (1024 * 1024)} MB"]
    elif content_type is None:
        errors["file"] = ["only PDF, PNG or JPEG"]
    if errors:
        raise ValidationError(f"attachment refused: {next(iter(errors.values()))[0]}",
                              errors=errors)
    assert content_type is not None
    name = os.path.basename(filename or "").strip()[:200] or "attachment"
    key = secrets.token_hex(16)
    att = Attachment(work_order_id=wo.id, kind=kind, filename=name, content_type=content_type,
                     size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                     storage_key=key, uploaded_by_id=user.id, uploaded_at=now)
    session.add(att)
    session.flush()
    if kind == "letter" and not wo.letter_ref and wo.state == workflow_of(wo).initial:
        wo.letter_ref = f"attachment:{att.id}"
    add_event(session, wo, actor_for(user, via), role=workflow_role(user) or user.role,
              kind="attachment", action="attach", from_state=wo.state, to_state=wo.state,
              comment=name, data={"attachment": att.id, "kind": kind}, now=now)
    target = directory / key
    target.write_bytes(data)  # last: a refused upload leaves no file behind
    os.chmod(target, 0o600)
    return att


def list_attachments(session: Session, user: User, wo_id: int) -> list[Attachment]:
    """Return the WO's attachments, if the WO is visible to *user*."""
    wo = load_visible(session, user, wo_id)
    return list(session.scalars(select(Attachment).where(
        Attachment.work_order_id == wo.id).order_by(Attachment.id)))


def open_attachment(session: Session, user: User, wo_id: int, attachment_id: int,
                    directory: Path) -> tuple[Attachment, Path]:
    """Return an attachment and its file path, or 404 (another OPD's, or missing)."""
    wo: WorkOrder = load_visible(session, user, wo_id)
    att = session.get(Attachment, attachment_id)
    path = directory / att.storage_key if att is not None else None
    if att is None or att.work_order_id != wo.id or path is None or not path.is_file():
        raise NotFoundError(f"attachment {attachment_id} does not exist",
                            errors={"attachment": ["not found"]})
    return att, path
