"""Users: creation, authentication and changes, each recorded in the audit log."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simpul.audit import Actor, record
from simpul.errors import ConflictError, NotFoundError, ValidationError
from simpul.models import ROLE_VALUES, Role, User, utcnow
from simpul.passwords import check_policy, hash_password, needs_rehash, verify_password
from simpul.tenancy import require_opd

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# An OPD account can only ask for things; every desk of the SOP is Diskominfo staff.
OPD_ROLES = frozenset({Role.REQUESTER.value})


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "opd": user.opd.code if user.opd else None,
        "is_active": user.is_active,
    }


def validate_role(role: str) -> str:
    """Return the normalised role or raise ValidationError listing the valid ones."""
    value = role.strip().lower()
    if value not in ROLE_VALUES:
        raise ValidationError(
            f"unknown role {role!r} (valid: {', '.join(ROLE_VALUES)})",
            errors={"role": ["unknown role"]},
        )
    return value


def get_user(session: Session, username: str) -> User | None:
    """Return the user with this username (case-insensitive), or None."""
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def require_user(session: Session, username: str) -> User:
    """Return the user or raise NotFoundError."""
    user = get_user(session, username)
    if user is None:
        raise NotFoundError(f"unknown user {username!r}", errors={"username": ["unknown"]})
    return user


def list_users(session: Session, *, opd_id: int | None = None) -> Sequence[User]:
    """Return users, optionally of one OPD, by username."""
    stmt = select(User).order_by(User.username)
    if opd_id is not None:
        stmt = stmt.where(User.opd_id == opd_id)
    return session.scalars(stmt).all()


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    role: str,
    opd_code: str,
    password: str | None = None,
    full_name: str = "",
    email: str = "",
) -> User:
    """Create a user in an OPD with a role; the password is hashed with Argon2id.

    Staff roles (helpdesk, infrastructure, admin, ...) belong to the operator OPD;
    OPD accounts are requesters. A user without a password cannot sign in until one is set.

    Raises:
        ValidationError: bad username, role or password, or a staff role outside Diskominfo.
        NotFoundError: unknown OPD.
        ConflictError: the username is taken.
    """
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise ValidationError(
            f"username {username!r} must be 2-64 lower-case letters, digits, '.', '_' or '-'",
            errors={"username": ["invalid"]},
        )
    role_value = validate_role(role)
    opd = require_opd(session, opd_code)
    if not opd.is_operator and role_value not in OPD_ROLES:
        raise ValidationError(
            f"role {role_value} is a Diskominfo desk; users of {opd.code} can only be requesters",
            errors={"role": ["not allowed for this OPD"]},
        )
    if get_user(session, name) is not None:
        raise ConflictError(f"user {name} already exists", errors={"username": ["already exists"]})
    if password is not None:
        check_policy(password)
    user = User(
        username=name,
        role=role_value,
        opd=opd,
        full_name=full_name.strip(),
        email=email.strip(),
        password_hash=hash_password(password) if password else "",
    )
    session.add(user)
    after = _snapshot(user) | ({"password": "set"} if password else {})
    record(session, actor, "user.create", user, after=after, opd_id=opd.id)
    return user


def update_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    opd_code: str | None = None,
    full_name: str | None = None,
    email: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's attributes; the audit entry holds the before and after values."""
    user = require_user(session, username)
    before = _snapshot(user)
    if role is not None:
        user.role = validate_role(role)
    if opd_code is not None:
        user.opd = require_opd(session, opd_code)
    if not user.opd.is_operator and user.role not in OPD_ROLES:
        raise ValidationError(
            f"role {user.role} is a Diskominfo desk; users of {user.opd.code} can only be "
            "requesters",
            errors={"role": ["not allowed for this OPD"]},
        )
    if full_name is not None:
        user.full_name = full_name.strip()
    if email is not None:
        user.email = email.strip()
    if is_active is not None:
        user.is_active = is_active
    after = _snapshot(user)
    if after != before:
        record(session, actor, "user.update", user, before=before, after=after,
               opd_id=user.opd_id)
    return user


def set_password(session: Session, actor: Actor, username: str, password: str) -> User:
    """Replace a user's password (hashed); the audit log notes the change, not the value."""
    user = require_user(session, username)
    check_policy(password)
    user.password_hash = hash_password(password)
    record(session, actor, "user.set_password", user, after={"password": "changed"},
           opd_id=user.opd_id)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user whose password matches, else None (never says which part failed).

    A hash made with outdated parameters is upgraded on the way.
    """
    user = get_user(session, username)
    if user is None:
        # Hash anyway so response time does not reveal whether the username exists.
        verify_password(_DUMMY_HASH, password)
        return None
    if not user.is_active or not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


_DUMMY_HASH = hash_password("simpul-dummy-password-for-timing")
