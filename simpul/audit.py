"""Writing and reading the audit log.

Only service functions call ``record``, inside the transaction that makes the change, so
an entry exists exactly when the change does. Views never write audit entries.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from simpul.models import AuditEntry, User

SENSITIVE_FIELDS = frozenset({"password", "password_hash", "key", "key_hash", "secret"})


@dataclass(frozen=True)
class Actor:
    """Who is making a change and through which channel (cli, web, api, system)."""

    name: str
    channel: str
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: User, channel: str) -> Actor:
        """The actor for a signed-in user or a token holder."""
        return cls(name=user.username, channel=channel, user_id=user.id)

    @classmethod
    def cli(cls) -> Actor:
        """The operator at the shell; named after the OS account, since the CLI has no login."""
        try:
            who = getpass.getuser()
        except Exception:  # no passwd entry for the uid (containers)
            who = "unknown"
        return cls(name=f"cli:{who}", channel="cli")

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        """simpul itself (demo loader, scheduled jobs)."""
        return cls(name=what, channel="system")


def scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop secret values from a snapshot, keeping the fact that they changed."""
    if values is None:
        return None
    return {k: ("<changed>" if k in SENSITIVE_FIELDS else v) for k, v in values.items()}


def record(
    session: Session,
    actor: Actor,
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    opd_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry for *action* on *obj* to the current transaction."""
    session.flush()
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_name=actor.name,
        channel=actor.channel,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        object_repr=str(getattr(obj, "username", None) or getattr(obj, "code", None) or obj)[:200],
        opd_id=opd_id,
        before=scrub(before),
        after=scrub(after),
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    action: str | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Return the newest audit entries, optionally for one object or action."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return session.scalars(stmt).all()
