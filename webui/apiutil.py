"""Request/response helpers shared by every JSON API module: pages, bodies, permissions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import abort, request
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from simpul.errors import ValidationError

T = TypeVar("T")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 50


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", errors={name: ["not an integer"]}
                              ) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValidationError(f"{name} must be {bound}", errors={name: [f"must be {bound}"]})
    return value


def _page_url(offset: int, limit: int) -> str:
    args = request.args.to_dict()
    args.update({"limit": str(limit), "offset": str(offset)})
    return f"{request.base_url}?{urlencode(args)}"


def paginate(session: Session, stmt: Select[Any], serialize: Callable[[Any], dict[str, Any]]
             ) -> dict[str, Any]:
    """Run *stmt* one page at a time (``?limit=&offset=``) and wrap it as NetBox does.

    The count comes from the same filtered query, so ``count``, ``next`` and ``previous``
    always agree with the rows a client can page through.
    """
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.limit(limit).offset(offset)).unique().all()
    return {
        "count": count,
        "next": _page_url(offset + limit, limit) if offset + limit < count else None,
        "previous": _page_url(max(offset - limit, 0), limit) if offset > 0 else None,
        "results": [serialize(row) for row in rows],
    }


def json_body(required: Sequence[str] = (), allowed: Sequence[str] | None = None
              ) -> dict[str, Any]:
    """Return the request's JSON object, refusing non-objects, missing and unknown fields."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    missing = [name for name in required if body.get(name) in (None, "")]
    if missing:
        raise ValidationError(f"missing field(s): {', '.join(missing)}",
                              errors={name: ["required"] for name in missing})
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed) - set(required))
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(unknown)}",
                                  errors={name: ["unknown field"] for name in unknown})
    return body


def require_admin() -> None:
    """Abort with 403 unless the caller is an admin."""
    if current_user.role != "admin":
        abort(403, "Only administrators may do this.")
