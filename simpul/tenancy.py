"""OPD tenants: creating them and deciding who may see which OPD's data."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simpul.audit import Actor, record
from simpul.errors import ConflictError, NotFoundError, ValidationError
from simpul.models import Opd, User

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


def get_opd(session: Session, code: str) -> Opd | None:
    """Return the OPD with this code (case-insensitive), or None."""
    return session.scalar(select(Opd).where(func.upper(Opd.code) == code.strip().upper()))


def require_opd(session: Session, code: str) -> Opd:
    """Return the OPD with this code or raise NotFoundError listing the known codes."""
    opd = get_opd(session, code)
    if opd is None:
        known = ", ".join(o.code for o in list_opds(session)) or "none yet"
        raise NotFoundError(f"unknown OPD {code!r} (known: {known})", errors={"opd": ["unknown"]})
    return opd


def list_opds(session: Session) -> Sequence[Opd]:
    """Return every OPD, the operator first."""
    return session.scalars(select(Opd).order_by(Opd.is_operator.desc(), Opd.code)).all()


def get_operator(session: Session) -> Opd | None:
    """Return the operator tenant (Diskominfo), or None before it exists."""
    return session.scalar(select(Opd).where(Opd.is_operator.is_(True)))


def create_opd(
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    *,
    is_operator: bool = False,
    description: str = "",
) -> Opd:
    """Create an OPD tenant; exactly one OPD may be the operator (Diskominfo).

    Raises:
        ValidationError: bad code or empty name.
        ConflictError: the code exists, or a second operator was asked for.
    """
    code = code.strip().upper()
    if not _CODE.match(code):
        raise ValidationError(
            f"OPD code {code!r} must be 2-32 letters, digits, '-' or '_'",
            errors={"code": ["2-32 letters, digits, '-' or '_'"]},
        )
    if not name.strip():
        raise ValidationError("OPD name must not be empty", errors={"name": ["required"]})
    if get_opd(session, code) is not None:
        raise ConflictError(f"OPD {code} already exists", errors={"code": ["already exists"]})
    if is_operator and get_operator(session) is not None:
        raise ConflictError("an operator OPD (Diskominfo) already exists")
    opd = Opd(code=code, name=name.strip(), is_operator=is_operator, description=description)
    session.add(opd)
    record(session, actor, "opd.create", opd,
           after={"code": code, "name": opd.name, "is_operator": is_operator}, opd_id=None)
    return opd


def can_see_opd(user: User, opd_id: int | None) -> bool:
    """Diskominfo staff see every OPD; an OPD user sees only their own."""
    return user.is_operator_staff or (opd_id is not None and opd_id == user.opd_id)
