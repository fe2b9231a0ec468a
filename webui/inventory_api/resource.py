"""One NetBox-style REST resource: list/create on ``…/``, read/change/delete on ``…/{id}/``.

Each resource module declares its fields, filters and service functions; this module
turns that into routes, OpenAPI operations and the rules every endpoint shares:

* reading needs a signed-in user; an OPD user sees only their OPD's objects (another
  OPD's object by id answers 404, so ids do not leak); Diskominfo staff see everything;
* writing needs a write role (``WRITE_ROLES``) and goes through the inventory service,
  which validates and writes the audit entry; nothing is committed when it refuses;
* errors the service keys by model attribute (``site_id``) are re-keyed by the API
  field name the client sent (``site``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from inventory.queries import scope_to_opd
from simpul.errors import NotFoundError, SimpulError, ValidationError
from simpul.models import Role
from webui.api import guard_writes
from webui.apiutil import MAX_LIMIT, paginate
from webui.auth import current_actor
from webui.extensions import commit, csrf, db_session
from webui.inventory_api.serializers import (
    BRIEF_EXTRA,
    MODEL_PATHS,
    Field,
    briefs,
    collect_refs,
    display,
    iso,
    output,
    parse_input,
    prefetch,
    schema_of,
)
from webui.openapi import PAGE_PARAMETERS, paginated, spec

bp = Blueprint("inventory_api", __name__, url_prefix="/api")
csrf.exempt(bp)
# Same rule as the core API: cookie-session writes need CSRF, read-only tokens only read.
bp.before_request(guard_writes)

# Datacenter and infrastructure staff both maintain DCIM and IPAM (the SOP hands work
# orders between them); admins may do anything. Every other role only reads.
WRITE_ROLES = frozenset({Role.INFRASTRUCTURE.value, Role.DATACENTER.value, Role.ADMIN.value})
ADMIN_ONLY = frozenset({Role.ADMIN.value})

spec.schema("BriefObject", {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": {"type": ["string", "null"]},
    "display": {"type": "string"}, "name": {"type": "string"}}})
spec.schema("Choice", {"type": "object", "properties": {
    "value": {}, "label": {"type": "string"}}})
ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}

# Filter kinds: how a query parameter is parsed before it reaches inventory.queries.
# List kinds take repeated parameters (``?status=active&status=reserved``) or commas.
FILTER_SCHEMAS = {"ids": {"type": "array", "items": {"type": "integer"}},
                  "texts": {"type": "array", "items": {"type": "string"}},
                  "vrf": {"type": "array", "items": {"type": "string"},
                          "description": "VRF ids; null for the global table"},
                  "text": {"type": "string"}, "int": {"type": "integer"},
                  "bool": {"type": "boolean"}}
BRIEF_PARAMETER = {"name": "brief", "in": "query", "schema": {"type": "boolean"},
                   "description": "Return brief objects (id, url, display, name) only"}


def require_writer(roles: frozenset[str] = WRITE_ROLES) -> None:
    """Abort with 403 unless the caller's role may change this data."""
    if current_user.role not in roles:
        abort(403, "Your role may read the inventory but not change it.")


def viewer_opd() -> int | None:
    """Return the OPD the caller is limited to, or None for Diskominfo staff."""
    return None if current_user.is_operator_staff else current_user.opd_id


def visible(model: type, stmt: Select[Any]) -> Select[Any]:
    """Narrow *stmt* to what the caller may see."""
    opd_id = viewer_opd()
    return stmt if opd_id is None else scope_to_opd(model, stmt, opd_id)


def get_visible(model: type, obj_id: int, what: str) -> Any:
    """Return the object, or 404 when it is missing or belongs to another OPD."""
    obj = db_session().scalar(visible(model, select(model).where(model.id == obj_id)))
    if obj is None:
        raise NotFoundError(f"{what} {obj_id} does not exist")
    return obj


def _filter_value(name: str, kind: str) -> Any:
    raw = request.args.getlist(name)
    if kind == "text":
        return raw[-1]
    if kind == "texts":
        return [v for part in raw for v in part.split(",") if v != ""]
    try:
        if kind == "ids":
            return [int(v) for part in raw for v in part.split(",") if v != ""]
        if kind == "vrf":
            return [None if v == "null" else int(v)
                    for part in raw for v in part.split(",") if v != ""]
        if kind == "int":
            return int(raw[-1])
    except ValueError:
        raise ValidationError(f"{name} must be an integer",
                              errors={name: ["not an integer"]}) from None
    if kind == "bool":
        value = raw[-1].lower()
        if value not in ("true", "false", "1", "0"):
            raise ValidationError(f"{name} must be true or false",
                                  errors={name: ["not true or false"]})
        return value in ("true", "1")
    raise ValueError(kind)


def read_filters(filters: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Parse the NetBox filter query parameters a resource supports."""
    kwargs: dict[str, Any] = {}
    for name, kind in filters:
        if request.args.get(name) is not None:
            kwargs[name] = _filter_value(name, kind)
    return kwargs


def filter_parameters(filters: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Return the OpenAPI description of a resource's filters plus limit/offset."""
    params: list[dict[str, Any]] = []
    for name, kind in filters:
        param = {"name": name, "in": "query", "schema": FILTER_SCHEMAS[kind]}
        if FILTER_SCHEMAS[kind].get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return [*PAGE_PARAMETERS, BRIEF_PARAMETER, *params]


def read_body(*, allow_list: bool) -> list[Any] | dict[str, Any]:
    """Return the JSON body: an object, or (bulk create) a list of objects."""
    body = request.get_json(silent=True)
    if allow_list and isinstance(body, list) and len(body) > MAX_LIMIT:
        raise ValidationError(f"at most {MAX_LIMIT} objects per request")
    if isinstance(body, dict) or (allow_list and isinstance(body, list) and body):
        return body
    raise ValidationError("request body must be a JSON object"
                          + (" or a non-empty list of objects" if allow_list else ""))


@contextmanager
def api_errors(rename: dict[str, str], index: int | None = None) -> Iterator[None]:
    """Re-key a service error by the API's field names (``site_id`` -> ``site``)."""
    try:
        yield
    except SimpulError as exc:
        exc.errors = {rename.get(k, k): v for k, v in exc.errors.items()}
        if index is not None and isinstance(exc, ValidationError):
            exc.message = f"item {index}: {exc.message}"  # which object of a bulk body
        raise


@dataclass
class Resource:
    """A NetBox endpoint over one inventory table, backed by the inventory services."""

    path: str                                   # "/api/dcim/sites/"
    model: type
    schema: str                                 # OpenAPI component name, e.g. "Site"
    tag: str
    fields: tuple[Field, ...]
    query: Callable[..., Select[Any]]
    filters: tuple[tuple[str, str], ...] = ()
    create: Callable[..., Any] | None = None    # service(session, actor, **kw) -> obj
    update: Callable[..., Any] | None = None    # service(session, actor, id, **kw) -> obj
    delete: Callable[..., None] | None = None   # service(session, actor, id)
    brief: Callable[[Any], dict[str, Any]] | None = None
    extra: Callable[[Session, Sequence[Any]], dict[int, dict[str, Any]]] | None = None
    write_roles: frozenset[str] = WRITE_ROLES
    what: str = ""
    error_keys: dict[str, str] = field(default_factory=dict)  # extra service -> API keys
    endpoint: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.endpoint = self.path.strip("/").replace("/", "_").replace("-", "_")
        self.what = self.what or self.schema.lower()
        MODEL_PATHS[self.model] = self.path
        if self.brief is not None:
            BRIEF_EXTRA[self.model] = self.brief

    @property
    def rename(self) -> dict[str, str]:
        """Model attribute -> API field name, for re-keying service errors."""
        return {**{f.key: f.name for f in self.fields if f.key != f.name}, **self.error_keys}

    # --- serialisation ---------------------------------------------------------------

    def serialize_many(self, session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """Serialise rows with their references loaded in one query per table."""
        prefetch(session, collect_refs(self.fields, rows))
        extras = self.extra(session, rows) if self.extra is not None else {}
        result = []
        for row in rows:
            body: dict[str, Any] = {"id": row.id, "url": self.url(row.id),
                                    "display": display(row)}
            body.update({f.name: output(session, f, row) for f in self.fields
                         if f.kind != "virtual"})
            body.update(extras.get(row.id, {}))
            body["created"] = iso(getattr(row, "created_at", None))
            body["last_updated"] = iso(getattr(row, "updated_at", None))
            result.append(body)
        return result

    def url(self, obj_id: int) -> str:
        """Return the absolute URL of one object."""
        return f"{request.host_url.rstrip('/')}{self.path}{obj_id}/"

    def page(self, stmt: Select[Any]) -> dict[str, Any]:
        """One NetBox page of *stmt* (visible rows only), serialised in bulk."""
        session = db_session()
        result = paginate(session, visible(self.model, stmt), lambda row: {"row": row})
        rows = [item["row"] for item in result["results"]]
        if request.args.get("brief", "").lower() in ("1", "true"):
            result["results"] = briefs(session, rows)  # NetBox's ?brief=1, for pickers
        else:
            result["results"] = self.serialize_many(session, rows)
        return result

    def one(self, obj: Any) -> dict[str, Any]:
        """Serialise one object."""
        return self.serialize_many(db_session(), [obj])[0]

    # --- views -----------------------------------------------------------------------

    def get_visible(self, obj_id: int) -> Any:
        """Return the object if the caller may see it, else 404."""
        return get_visible(self.model, obj_id, self.what)

    def list_view(self) -> Any:
        """GET: a filtered page; POST: create one object or (a list) several, all or none."""
        if request.method == "GET":
            return jsonify(self.page(self.query(**read_filters(self.filters))))
        require_writer(self.write_roles)
        assert self.create is not None
        session, created = db_session(), []
        body = read_body(allow_list=True)
        items = body if isinstance(body, list) else [body]
        for index, item in enumerate(items):
            with api_errors(self.rename, index if isinstance(body, list) else None):
                values = parse_input(session, self.fields, item, creating=True, full=True)
                created.append(self.create(session, current_actor(), **values))
        session.flush()
        commit()
        out = self.serialize_many(session, created)
        return jsonify(out if isinstance(body, list) else out[0]), 201

    def detail_view(self, obj_id: int) -> Any:
        """GET one; PATCH/PUT change it; DELETE remove it (404 for invisible objects)."""
        session = db_session()
        obj = self.get_visible(obj_id)
        if request.method == "GET":
            return jsonify(self.one(obj))
        require_writer(self.write_roles)
        if request.method == "DELETE":
            assert self.delete is not None
            with api_errors(self.rename):
                self.delete(session, current_actor(), obj.id)
            commit()
            return "", 204
        assert self.update is not None
        with api_errors(self.rename):
            values = parse_input(session, self.fields, read_body(allow_list=False),
                                 creating=False, full=request.method == "PUT", current=obj)
            obj = self.update(session, current_actor(), obj.id, **values)
        session.flush()
        commit()
        return jsonify(self.one(obj))

    # --- registration ----------------------------------------------------------------

    def register(self) -> Resource:
        """Add the routes and their OpenAPI operations to the blueprint."""
        ref = {"$ref": f"#/components/schemas/{self.schema}"}
        spec.schema(self.schema, schema_of(self.fields, for_input=False))
        body = schema_of(self.fields, for_input=True)
        plural = self.path.strip("/").split("/")[-1].replace("-", " ")

        def list_view() -> Any:
            """A plain function per route: Flask and the OpenAPI ids need unique names."""
            return self.list_view()

        def detail_view(obj_id: int) -> Any:
            """See list_view."""
            return self.detail_view(obj_id)

        list_view.__name__ = f"{self.endpoint}_list"
        detail_view.__name__ = f"{self.endpoint}_detail"
        list_methods, detail_methods = ["GET"], ["GET"]
        view = spec.operation(self.path, "GET", summary=f"List {plural}", tag=self.tag,
                              response=paginated(self.schema),
                              parameters=filter_parameters(self.filters))(list_view)
        if self.create is not None:
            list_methods.append("POST")
            view = spec.operation(self.path, "POST", summary=f"Create {plural} (one object "
                                  "or a list)", tag=self.tag, status=201, response=ref,
                                  request={"oneOf": [body, {"type": "array", "items": body}]}
                                  )(view)
        detail_path = f"{self.path}{{id}}/"
        one = spec.operation(detail_path, "GET", summary=f"One of {plural}", tag=self.tag,
                             response=ref, parameters=[ID_PARAMETER])(detail_view)
        if self.update is not None:
            detail_methods += ["PATCH", "PUT"]
            partial = {k: v for k, v in body.items() if k != "required"}
            one = spec.operation(detail_path, "PATCH", summary=f"Change some fields of one "
                                 f"of {plural}", tag=self.tag, response=ref, request=partial,
                                 parameters=[ID_PARAMETER])(one)
            one = spec.operation(detail_path, "PUT", tag=self.tag,
                                 summary=f"Update one of {plural}, all required fields given",
                                 response=ref, request=body, parameters=[ID_PARAMETER])(one)
        if self.delete is not None:
            detail_methods.append("DELETE")
            one = spec.operation(detail_path, "DELETE", summary=f"Delete one of {plural}",
                                 tag=self.tag, status=204, parameters=[ID_PARAMETER])(one)
        rule = self.path.removeprefix("/api")
        bp.add_url_rule(rule, view_func=login_required(view), methods=list_methods,
                        endpoint=list_view.__name__)
        bp.add_url_rule(f"{rule}<int:obj_id>/", view_func=login_required(one),
                        methods=detail_methods, endpoint=detail_view.__name__)
        return self
