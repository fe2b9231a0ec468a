"""``/api/ipam/prefixes/`` and the allocation endpoints ``available-ips``/``-prefixes``.

As in NetBox: GET lists what is free (``?limit=``), POST allocates — ``{}`` one address,
``{"count": N}`` N addresses, a list of objects one address each; ``{"prefix_length":
26}`` (or a list of such) child prefixes — all or nothing, answering 201 with what was
created, or 409 with the service's message (``198.51.100.0/30 has no free address``).
New objects take the parent prefix's tenant unless the body names one, so an OPD sees
what was allocated from its prefix.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from flask import jsonify, request
from flask_login import login_required

from inventory.errors import PrefixFullError
from inventory.ipam import allocation
from inventory.ipam import prefixes as svc
from inventory.models import Prefix, Site, Vlan, Vrf
from inventory.queries import prefixes_query
from simpul.errors import ValidationError
from simpul.models import Opd
from webui.apiutil import MAX_LIMIT, _int_arg
from webui.auth import current_actor
from webui.extensions import commit, db_session
from webui.inventory_api.ip_addresses import ASSIGNMENT_FIELDS, check_assignment, ip_addresses
from webui.inventory_api.resource import (
    ID_PARAMETER,
    Resource,
    api_errors,
    bp,
    get_visible,
    read_body,
    require_writer,
    )
from webui.inventory_api.serializers import Field, brief, parse_input, schema_of
from webui.openapi import spec

PREFIX_FIELDS = (
    Field("prefix", required=True, mode="create"),
    Field("family", kind="family", mode="ro"),
    Field("vrf", "vrf_id", "ref", Vrf, nullable=True, mode="create"),
    Field("status", kind="choice"),
    Field("role"),
    Field("is_pool", kind="bool"),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("site", "site_id", "ref", Site, nullable=True),
    Field("vlan", "vlan_id", "ref", Vlan, nullable=True),
    Field("description"),
    Field("expires_at", kind="datetime", nullable=True),
)

prefixes = Resource(
    "/api/ipam/prefixes/", Prefix, "Prefix", "ipam", PREFIX_FIELDS, query=prefixes_query,
    filters=(("id", "ids"), ("prefix", "texts"), ("vrf_id", "vrf"), ("family", "int"),
             ("within", "texts"), ("within_include", "texts"), ("parent", "texts"),
             ("contains", "texts"), ("mask_length", "ids"), ("status", "texts"),
             ("role", "texts"), ("is_pool", "bool"), ("site_id", "ids"), ("site", "texts"),
             ("vlan_id", "ids"), ("tenant_id", "ids"), ("tenant", "texts"), ("q", "text")),
    create=svc.create_prefix, update=svc.update_prefix, delete=svc.delete_prefix,
    brief=lambda p: {"prefix": p.prefix, "family": p.family},
).register()

COUNT_FIELD = Field("count", kind="int")
CHILD_FIELDS = (Field("prefix_length", kind="int", required=True),
                *(f for f in PREFIX_FIELDS if f.mode == "rw"))
LIMIT_PARAMETER = {"name": "limit", "in": "query",
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                              "default": 50}}
IP_BODY = schema_of((COUNT_FIELD, *ASSIGNMENT_FIELDS), for_input=True)
CHILD_BODY = schema_of(CHILD_FIELDS, for_input=True)
IP_REF = {"$ref": "#/components/schemas/IPAddress"}
PREFIX_REF = {"$ref": "#/components/schemas/Prefix"}


def _free_items(prefix: Prefix, key: str, values: Any) -> list[dict[str, Any]]:
    """NetBox's shape of free space: ``{"family", "address"|"prefix", "vrf"}`` each."""
    vrf = db_session().get(Vrf, prefix.vrf_id) if prefix.vrf_id else None
    nested = brief(db_session(), vrf)
    return [{"family": prefix.family, key: str(v), "vrf": nested} for v in values]


def _with_tenant(values: dict[str, Any], prefix: Prefix) -> dict[str, Any]:
    values.setdefault("opd_id", prefix.opd_id)
    return values


def _allocate_ips(prefix: Prefix, body: dict[str, Any] | list[Any]) -> list[Any]:
    session, actor = db_session(), current_actor()
    fields = ASSIGNMENT_FIELDS
    if isinstance(body, dict):
        body = dict(body)
        count = body.pop("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_LIMIT:
            raise ValidationError(f"count must be a whole number from 1 to {MAX_LIMIT}",
                                  errors={"count": [f"1 to {MAX_LIMIT}"]})
        with api_errors(ip_addresses.rename):
            values = check_assignment(parse_input(session, fields, body, creating=True,
                                                  full=True))
            return allocation.allocate_next_ip(session, actor, prefix.id, count=count,
                                               **_with_tenant(values, prefix))
    created: list[Any] = []
    for index, item in enumerate(body):
        with api_errors(ip_addresses.rename, index):
            values = check_assignment(parse_input(session, fields, item, creating=True,
                                                  full=True))
            try:
                created += allocation.allocate_next_ip(session, actor, prefix.id,
                                                       **_with_tenant(values, prefix))
            except PrefixFullError:
                if not created:
                    raise
                raise PrefixFullError(f"{prefix.prefix} has only {len(created)} free "
                                      f"addresses, {len(body)} asked",
                                      errors={"count": ["not enough free"]}) from None
    return created


@bp.route("/ipam/prefixes/<int:prefix_id>/available-ips/", methods=["GET", "POST"])
@login_required
@spec.operation("/api/ipam/prefixes/{id}/available-ips/", "GET", tag="ipam",
                summary="Free addresses of a prefix, lowest first",
                response={"type": "array", "items": {"type": "object"}},
                parameters=[ID_PARAMETER, LIMIT_PARAMETER])
@spec.operation("/api/ipam/prefixes/{id}/available-ips/", "POST", tag="ipam", status=201,
                summary="Allocate the next free address(es): {} , {\"count\": N} or a list",
                request={"oneOf": [IP_BODY, {"type": "array", "items": IP_BODY}]},
                response={"oneOf": [IP_REF, {"type": "array", "items": IP_REF}]},
                parameters=[ID_PARAMETER])
def available_ips(prefix_id: int) -> Any:
    """List or allocate the free addresses of a prefix (one transaction, under a lock)."""
    if request.method == "POST":
        db_session()
    prefix = get_visible(Prefix, prefix_id, "prefix")
    if request.method == "GET":
        limit = _int_arg("limit", 50, 1, MAX_LIMIT)
        free = allocation.iter_available_ips(db_session(), prefix)
        addresses = [f"{a}/{prefix.prefix_length}" for a in islice(free, limit)]
        return jsonify(_free_items(prefix, "address", addresses))
    require_writer()
    body = read_body(allow_list=True)
    created = _allocate_ips(prefix, body)
    db_session().flush()
    commit()
    out = ip_addresses.serialize_many(db_session(), created)
    single = isinstance(body, dict) and "count" not in body
    return jsonify(out[0] if single else out), 201


@bp.route("/ipam/prefixes/<int:prefix_id>/available-prefixes/", methods=["GET", "POST"])
@login_required
@spec.operation("/api/ipam/prefixes/{id}/available-prefixes/", "GET", tag="ipam",
                summary="Free space of a prefix as CIDRs, lowest first",
                response={"type": "array", "items": {"type": "object"}},
                parameters=[ID_PARAMETER, LIMIT_PARAMETER])
@spec.operation("/api/ipam/prefixes/{id}/available-prefixes/", "POST", tag="ipam",
                status=201, summary="Allocate child prefixes: {\"prefix_length\": 26} or a list",
                request={"oneOf": [CHILD_BODY, {"type": "array", "items": CHILD_BODY}]},
                response={"oneOf": [PREFIX_REF, {"type": "array", "items": PREFIX_REF}]},
                parameters=[ID_PARAMETER])
def available_prefixes(prefix_id: int) -> Any:
    """List the free CIDRs of a prefix, or allocate the lowest free children."""
    session = db_session()
    parent = get_visible(Prefix, prefix_id, "prefix")
    if request.method == "GET":
        limit = _int_arg("limit", 50, 1, MAX_LIMIT)
        free = allocation.get_available_prefixes(session, parent).iter_cidrs()
        return jsonify(_free_items(parent, "prefix", islice(free, limit)))
    require_writer()
    body = read_body(allow_list=True)
    items = body if isinstance(body, list) else [body]
    created = []
    for index, item in enumerate(items):
        with api_errors(prefixes.rename, index if isinstance(body, list) else None):
            values = parse_input(session, CHILD_FIELDS, item, creating=True, full=True)
            length = values.pop("prefix_length")
            created.append(allocation.allocate_next_prefix(
                session, current_actor(), parent.id, length, **_with_tenant(values, parent)))
    session.flush()
    commit()
    out = prefixes.serialize_many(session, created)
    return jsonify(out if isinstance(body, list) else out[0]), 201
