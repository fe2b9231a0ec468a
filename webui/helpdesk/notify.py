"""Notifications: an inbox entry for everyone who must act next, and e-mail after commit.

Inbox entries are rows in the transition's own transaction. E-mails are queued on the
session and sent only once the transaction committed, so nobody is told of a change
that was rolled back; a failing mail server is logged and never undoes the change.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from loguru import logger
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from simpul.models import Opd, User, utcnow
from webui.helpdesk.models import Notification, WorkOrder

QUEUE = "helpdesk_mail"


@dataclass(frozen=True)
class Mailer:
    """Where mail goes: an SMTP relay (no relay configured: inbox only)."""

    host: str = ""
    port: int = 25
    sender: str = "helpdesk@localhost"

    def send(self, messages: Sequence[EmailMessage]) -> None:
        """Send *messages* over one SMTP connection; log and drop on failure."""
        if not self.host or not messages:
            return
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                for msg in messages:
                    smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            logger.bind(host=self.host).warning("helpdesk mail not sent: {}", exc)


def recipients(session: Session, wo: WorkOrder) -> list[User]:
    """Return who must act on *wo* now: the assignee, else the holding desk's staff."""
    if wo.holder_role is None or wo.holder_role == "requester":
        return [u for u in (wo.requester,) if u is not None and u.is_active]
    if wo.assignee is not None and wo.assignee.is_active:
        return [wo.assignee]
    return list(session.scalars(select(User).join(Opd, Opd.id == User.opd_id).where(
        User.role == wo.holder_role, User.is_active.is_(True), Opd.is_operator.is_(True))
        .order_by(User.id)))


def notify(session: Session, wo: WorkOrder, text: str, *, mailer: Mailer | None = None,
           now: datetime | None = None, include_requester: bool = False) -> list[User]:
    """Put *text* in the inbox of everyone who must act (and the requester when asked)."""
    now = now or utcnow()
    people = recipients(session, wo)
    if include_requester and wo.requester is not None and wo.requester not in people:
        people.append(wo.requester)
    for person in people:
        session.add(Notification(user_id=person.id, work_order_id=wo.id,
                                 text=f"{wo.number}: {text}"[:500], created_at=now))
        if mailer is not None and mailer.host and person.email:
            msg = EmailMessage()
            msg["From"], msg["To"] = mailer.sender, person.email
            msg["Subject"] = f"[simpul] {wo.number} {wo.title}"[:200]
            msg.set_content(f"{wo.number}: {text}\n")
            session.info.setdefault(QUEUE, (mailer, []))[1].append(msg)
    return people


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    queued: Any = session.info.pop(QUEUE, None)
    if queued:
        mailer, messages = queued
        mailer.send(messages)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(QUEUE, None)


def inbox(session: Session, user: User, *, unread_only: bool = False) -> list[Notification]:
    """Return *user*'s notifications, newest first."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(200)))


def mark_read(session: Session, user: User, ids: Sequence[int], now: datetime | None = None
              ) -> int:
    """Mark the caller's own notifications read; return how many changed."""
    result = session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.id.in_(list(ids)),
        Notification.read_at.is_(None)).values(read_at=now or utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
