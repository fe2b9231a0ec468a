"""The JSON API root: status, OpenAPI, users and tokens (NetBox paths and shapes).

Token calls skip CSRF (another site cannot set an Authorization header); cookie-session
writes need the CSRF token like any form. Read-only tokens may only read.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select

from simpul import __version__, migrate
from simpul.errors import NotFoundError, ValidationError
from simpul.models import ApiToken, User
from simpul.tokens import create_token, revoke_token
from simpul.users import create_user, update_user
from webui.apiutil import json_body, paginate, require_admin
from webui.auth import current_actor
from webui.extensions import app_context, commit, csrf, db_session
from webui.openapi import PAGE_PARAMETERS, paginated, spec

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

USER_SCHEMA = spec.schema("User", {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                   "full_name": {"type": "string"}, "email": {"type": "string"},
                   "role": {"type": "string"}, "opd": {"type": "string"},
                   "is_active": {"type": "boolean"},
                   "last_login_at": {"type": ["string", "null"], "format": "date-time"}},
})
TOKEN_SCHEMA = spec.schema("Token", {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "user": {"type": "string"},
                   "prefix": {"type": "string"}, "description": {"type": "string"},
                   "write_enabled": {"type": "boolean"},
                   "expires": {"type": ["string", "null"], "format": "date-time"},
                   "last_used": {"type": ["string", "null"], "format": "date-time"},
                   "revoked": {"type": "boolean"},
                   "key": {"type": "string", "description": "Only in the creation response"}},
})


def guard_writes() -> None:
    """Before every API write: CSRF for cookie sessions, refusal for read-only tokens.

    Every API blueprint installs this (``bp.before_request(guard_writes)``).
    """
    if request.method in SAFE_METHODS or not current_user.is_authenticated:
        return  # reads are harmless; the view itself answers 401 to anonymous writes
    token = g.get("api_token")
    if token is None:
        # Authenticated by the session cookie, which a browser attaches to cross-site
        # requests too: the same CSRF rule as the forms, whatever other headers came.
        csrf.protect()
    elif not token.write_enabled:
        abort(403, "This API token is read-only.")


bp.before_request(guard_writes)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def user_json(user: User) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "email": user.email, "role": user.role, "opd": user.opd.code,
            "is_active": user.is_active, "last_login_at": _iso(user.last_login_at)}


def token_json(token: ApiToken, key: str | None = None) -> dict[str, Any]:
    """A token as the API shows it: the key only once, at creation."""
    body = {"id": token.id, "user": token.user.username, "prefix": token.key_prefix,
            "description": token.description, "write_enabled": token.write_enabled,
            "expires": _iso(token.expires_at), "last_used": _iso(token.last_used_at),
            "revoked": token.revoked_at is not None}
    if key is not None:
        body["key"] = key
    return body


@bp.route("/")
@login_required
@spec.operation("/api/", "GET", summary="API root: version and caller", tag="status",
                response={"type": "object"})
def root() -> Any:
    """API discovery: version and the signed-in identity."""
    return jsonify({"version": __version__, "user": current_user.username,
                    "openapi": "/api/openapi.json"})


@bp.route("/status/")
@login_required
@spec.operation("/api/status/", "GET", summary="Versions and database state", tag="status",
                response={"type": "object"})
def status() -> Any:
    """What NetBox's /api/status/ tells: versions, database revision, Python."""
    db = app_context().db
    return jsonify({"simpul-version": __version__, "python-version": platform.python_version(),
                    "database": {"backend": db.backend, "revision": migrate.current_revision(db),
                                 "head": migrate.head_revision(db),
                                 "pending": migrate.pending(db)}})


@bp.route("/openapi.json")
@spec.operation("/api/openapi.json", "GET", summary="This OpenAPI document", tag="status",
                response={"type": "object"}, public=True)
def openapi() -> Any:
    """The OpenAPI 3.1 document of every API operation."""
    return jsonify(spec.document())


@bp.route("/users/me")
@login_required
@spec.operation("/api/users/me", "GET", summary="The caller's identity", tag="users",
                response={"type": "object"})
def me() -> Any:
    """Who the caller is, with role and OPD (what every client needs first)."""
    user = current_user
    return jsonify({
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "opd": {"code": user.opd.code, "name": user.opd.name, "operator": user.opd.is_operator},
        "auth": "token" if g.get("api_token") is not None else "session",
    })


@bp.route("/users/users/")
@login_required
@spec.operation("/api/users/users/", "GET", summary="List users (admin)", tag="users",
                response=paginated(USER_SCHEMA), parameters=PAGE_PARAMETERS)
def list_users() -> Any:
    """Every user, a page at a time; admins only."""
    require_admin()
    return jsonify(paginate(db_session(), select(User).order_by(User.username), user_json))


@bp.route("/users/users/", methods=["POST"])
@login_required
@spec.operation("/api/users/users/", "POST", summary="Create a user (admin)", tag="users",
                status=201, response={"$ref": f"#/components/schemas/{USER_SCHEMA}"},
                request={"type": "object", "required": ["username", "role", "opd"],
                         "properties": {"username": {"type": "string"},
                                        "role": {"type": "string"}, "opd": {"type": "string"},
                                        "password": {"type": "string"},
                                        "full_name": {"type": "string"},
                                        "email": {"type": "string"}}})
def add_user() -> Any:
    """Create a user through the same service as `simpul user add`."""
    require_admin()
    body = json_body(required=("username", "role", "opd"),
                     allowed=("password", "full_name", "email"))
    user = create_user(db_session(), current_actor(), str(body["username"]),
                       role=str(body["role"]), opd_code=str(body["opd"]),
                       password=body.get("password"), full_name=str(body.get("full_name", "")),
                       email=str(body.get("email", "")))
    commit()
    return jsonify(user_json(user)), 201


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} does not exist")
    return user


@bp.route("/users/users/<int:user_id>/", methods=["GET", "PATCH"])
@login_required
@spec.operation("/api/users/users/{id}/", "GET", summary="One user (admin, or yourself)",
                tag="users", response={"$ref": f"#/components/schemas/{USER_SCHEMA}"},
                parameters=[{"name": "id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])
@spec.operation("/api/users/users/{id}/", "PATCH", summary="Change a user (admin)",
                tag="users", response={"$ref": f"#/components/schemas/{USER_SCHEMA}"},
                request={"type": "object", "properties": {
                    "role": {"type": "string"}, "opd": {"type": "string"},
                    "full_name": {"type": "string"}, "email": {"type": "string"},
                    "is_active": {"type": "boolean"}}},
                parameters=[{"name": "id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])
def one_user(user_id: int) -> Any:
    """Read a user, or (admins) change role, OPD, names or active flag."""
    if request.method == "GET":
        if current_user.id != user_id:
            require_admin()
        return jsonify(user_json(_user_or_404(user_id)))
    require_admin()
    body = json_body(allowed=("role", "opd", "full_name", "email", "is_active"))
    if "is_active" in body and not isinstance(body["is_active"], bool):
        raise ValidationError("is_active must be true or false",
                              errors={"is_active": ["not a boolean"]})
    user = update_user(db_session(), current_actor(), _user_or_404(user_id).username,
                       role=body.get("role"), opd_code=body.get("opd"),
                       full_name=body.get("full_name"), email=body.get("email"),
                       is_active=body.get("is_active"))
    commit()
    return jsonify(user_json(user))


@bp.route("/users/tokens/")
@login_required
@spec.operation("/api/users/tokens/", "GET", summary="List your tokens (admins: all)",
                tag="users", response=paginated(TOKEN_SCHEMA), parameters=PAGE_PARAMETERS)
def list_tokens() -> Any:
    """Tokens by prefix only; a non-admin sees only their own."""
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if current_user.role != "admin":
        stmt = stmt.where(ApiToken.user_id == current_user.id)
    return jsonify(paginate(db_session(), stmt, token_json))


@bp.route("/users/tokens/", methods=["POST"])
@login_required
@spec.operation("/api/users/tokens/", "POST", summary="Create a token (key shown once)",
                tag="users", status=201, response={"$ref": f"#/components/schemas/{TOKEN_SCHEMA}"},
                request={"type": "object", "properties": {
                    "user": {"type": "string", "description": "admins only; default: you"},
                    "description": {"type": "string"}, "write_enabled": {"type": "boolean"},
                    "expires": {"type": "string", "format": "date-time"}}})
def add_token() -> Any:
    """Create a token for yourself (admins: for anyone)."""
    body = json_body(allowed=("user", "description", "write_enabled", "expires"))
    username = body.get("user") or current_user.username
    if username != current_user.username:
        require_admin()
    expires = None
    if body.get("expires"):
        try:
            expires = datetime.fromisoformat(str(body["expires"]))
        except ValueError:
            raise ValidationError("expires must be an ISO 8601 date-time",
                                  errors={"expires": ["not an ISO 8601 date-time"]}) from None
        if expires.tzinfo is None:
            raise ValidationError("expires needs a timezone (e.g. +07:00)",
                                  errors={"expires": ["no timezone"]})
    issued = create_token(db_session(), current_actor(), username,
                          description=str(body.get("description", "")), expires_at=expires,
                          write_enabled=bool(body.get("write_enabled", True)))
    commit()
    return jsonify(token_json(issued.token, issued.key)), 201


@bp.route("/users/tokens/<int:token_id>/", methods=["DELETE"])
@login_required
@spec.operation("/api/users/tokens/{id}/", "DELETE", summary="Revoke a token", tag="users",
                status=204, parameters=[{"name": "id", "in": "path", "required": True,
                                         "schema": {"type": "integer"}}])
def delete_token(token_id: int) -> Any:
    """Revoke one of your tokens (admins: any)."""
    token = db_session().get(ApiToken, token_id)
    if token is None or (token.user_id != current_user.id and current_user.role != "admin"):
        raise NotFoundError(f"token {token_id} does not exist")
    revoke_token(db_session(), current_actor(), token_id)
    commit()
    return "", 204
