"""API tokens in NetBox style (``Authorization: Token <key>``), stored only as SHA-256.

A token is 40 random hex characters shown once at creation. Tokens are high-entropy, so
a fast hash is enough (unlike passwords); the first 8 characters are kept in clear to
find the row and to let people tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from simpul.audit import Actor, record
from simpul.errors import NotFoundError, ValidationError
from simpul.models import ApiToken, User, utcnow
from simpul.users import require_user

PREFIX_LENGTH = 8
# Like NetBox: record use at most once a minute, so reads through the API do not turn
# into a database write on every call.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token: ``key`` exists only here, never in the database."""

    token: ApiToken
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(
    session: Session,
    actor: Actor,
    username: str,
    *,
    description: str = "",
    expires_at: datetime | None = None,
    write_enabled: bool = True,
) -> IssuedToken:
    """Create an API token for *username* and return it with its one-time clear key."""
    user = require_user(session, username)
    if not user.is_active:
        raise ValidationError(f"user {user.username} is disabled; enable it before issuing tokens")
    if expires_at is not None and expires_at.astimezone(UTC) <= utcnow():
        raise ValidationError("token expiry must be in the future", errors={"expires": ["past"]})
    key = secrets.token_hex(20)
    token = ApiToken(
        user=user,
        description=description.strip(),
        key_prefix=key[:PREFIX_LENGTH],
        key_hash=_digest(key),
        expires_at=expires_at,
        write_enabled=write_enabled,
    )
    session.add(token)
    record(session, actor, "token.create", token,
           after={"user": user.username, "prefix": token.key_prefix,
                  "description": token.description, "write_enabled": write_enabled,
                  "expires_at": expires_at.isoformat() if expires_at else None},
           opd_id=user.opd_id)
    return IssuedToken(token=token, key=key)


def list_tokens(session: Session, username: str | None = None) -> Sequence[ApiToken]:
    """Return tokens (newest first), optionally of one user; keys are never included."""
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if username:
        stmt = stmt.where(ApiToken.user_id == require_user(session, username).id)
    return session.scalars(stmt).all()


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token; it stays listed (and audited) but authenticates nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"unknown token id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, actor, "token.revoke", token,
               before={"revoked": False}, after={"revoked": True, "prefix": token.key_prefix},
               opd_id=token.user.opd_id)
    return token


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; they were stored UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def authenticate_token(session: Session, key: str) -> tuple[User, ApiToken] | None:
    """Return the (user, token) a key belongs to if it is valid now, else None."""
    key = key.strip()
    if len(key) < PREFIX_LENGTH:
        return None
    digest = _digest(key)
    candidates = select(ApiToken).where(ApiToken.key_prefix == key[:PREFIX_LENGTH])
    for token in session.scalars(candidates):
        if not hmac.compare_digest(token.key_hash, digest):
            continue
        if token.revoked_at is not None or not token.user.is_active:
            return None
        if token.expires_at is not None and _aware(token.expires_at) <= utcnow():
            return None
        now = utcnow()
        if token.last_used_at is None or _aware(token.last_used_at) <= now - TOUCH_INTERVAL:
            token.last_used_at = now
        return token.user, token
    return None
