"""NetBox-shaped payloads: brief nested objects, ``{value, label}`` choices, input parsing.

Output follows NetBox so its clients carry over: a foreign key is a brief object
(``{"id", "url", "display", "name"}``), a choice is ``{"value", "label"}``, the OPD is
``tenant``. Input takes what NetBox takes: ids for foreign keys (or ``{"id": …}``), the
value string for a choice. A page's foreign keys are loaded with one ``IN`` query per
referenced table before serialising, never one query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Device, Interface
from simpul.errors import ValidationError
from simpul.models import Opd
from simpul.tenancy import get_opd

# Filled by each resource at import: model -> (API path, extra brief keys).
MODEL_PATHS: dict[type, str] = {}
BRIEF_EXTRA: dict[type, Callable[[Any], dict[str, Any]]] = {}
# Brief objects that nest another object (an interface shows its device).
BRIEF_NESTED: dict[type, tuple[str, type]] = {Interface: ("device_id", Device)}

LABELS = {"dhcp": "DHCP", "vpn": "VPN", "radius": "RADIUS", "pdu": "PDU", "vip": "VIP",
          "vrrp": "VRRP", "hsrp": "HSRP", "glbp": "GLBP", "carp": "CARP", "ios": "IOS",
          "iosxe": "IOS XE", "nxos": "NX-OS", "eos": "EOS", "junos": "Junos", "frr": "FRR",
          "routeros": "RouterOS", "vyos": "VyOS", "A": "A", "B": "B"}


def label(value: Any) -> str:
    """Return the human label of a choice value (NetBox style: "Active", "DHCP")."""
    text = str(value)
    return LABELS.get(text) or text.replace("-", " ").replace("_", " ").capitalize()


def choice(value: Any) -> dict[str, Any] | None:
    """Return a choice as ``{"value", "label"}`` (None when unset)."""
    if value is None or value == "":
        return None
    return {"value": value, "label": label(value)}


def family(value: int) -> dict[str, Any]:
    """Return an address family as NetBox shows it."""
    return {"value": value, "label": f"IPv{value}"}


def iso(value: datetime | None) -> str | None:
    """Return an ISO 8601 time with its zone (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def api_url(model: type, obj_id: int) -> str | None:
    """Return the absolute API URL of an object, as NetBox puts in ``url``."""
    path = MODEL_PATHS.get(model)
    return f"{request.host_url.rstrip('/')}{path}{obj_id}/" if path else None


def display(obj: Any) -> str:
    """Return the text NetBox calls ``display``."""
    if isinstance(obj, Opd):
        return obj.name
    return str(obj)


def brief(session: Session, obj: Any) -> dict[str, Any] | None:
    """Return the nested form of *obj*: id, url, display, name and a few natural keys."""
    if obj is None:
        return None
    model = type(obj)
    body: dict[str, Any] = {"id": obj.id, "url": api_url(model, obj.id),
                            "display": display(obj),
                            "name": getattr(obj, "name", None) or display(obj)}
    extra = BRIEF_EXTRA.get(model)
    if extra is not None:
        body.update(extra(obj))
    nested = BRIEF_NESTED.get(model)
    if nested is not None:
        attr, target = nested
        body[target.__name__.lower()] = brief(session, session.get(target, getattr(obj, attr)))
    return body


def briefs(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Return the brief form of loaded *rows*, their nested objects loaded in bulk."""
    if rows and type(rows[0]) in BRIEF_NESTED:
        attr, target = BRIEF_NESTED[type(rows[0])]
        prefetch(session, {target: {getattr(r, attr) for r in rows}})
    return [b for b in (brief(session, r) for r in rows) if b is not None]


def prefetch(session: Session, wanted: dict[type, set[int]]) -> None:
    """Load every referenced object with one query per table into the identity map.

    Afterwards ``session.get`` answers from memory, so serialising a page of N rows
    costs a handful of queries, not N per foreign key. The session's identity map only
    holds weak references, so the loaded objects are kept alive on ``g`` until the
    request ends.
    """
    keep: list[Any] = g.setdefault("inventory_api_prefetched", [])
    for model, ids in list(wanted.items()):
        missing = [i for i in ids if i is not None]
        if not missing:
            continue
        loaded = session.scalars(select(model).where(model.id.in_(missing))).all()
        keep.extend(loaded)
        nested = BRIEF_NESTED.get(model)
        if nested is not None:
            attr, target = nested
            prefetch(session, {target: {getattr(o, attr) for o in loaded}})


@dataclass(frozen=True)
class Field:
    """One attribute of a resource as the API shows and accepts it.

    ``kind``: str, int, bool, ref (foreign key; ``model`` names the table), choice,
    family, datetime, json (passed through both ways: a reservation's unit list),
    virtual (no column: the resource's service wrapper takes it and its ``extra`` shows
    it). ``mode``: "rw", "create" (set once, then fixed: a prefix's network), "update"
    (only after creation: a device's primary IP), "ro" (shown only).
    """

    name: str
    attr: str = ""
    kind: str = "str"
    model: type | None = None
    required: bool = False
    nullable: bool = False
    mode: str = "rw"

    @property
    def key(self) -> str:
        """The model attribute and service keyword behind this field."""
        return self.attr or self.name


def collect_refs(fields: Sequence[Field], rows: Iterable[Any]) -> dict[type, set[int]]:
    """Return the ids of every object the *rows* point at, per table."""
    wanted: dict[type, set[int]] = defaultdict(set)
    for row in rows:
        for field in fields:
            if field.kind == "ref" and field.model is not None:
                value = getattr(row, field.key)
                if value is not None:
                    wanted[field.model].add(value)
    return wanted


def output(session: Session, field: Field, obj: Any) -> Any:
    """Return one field of *obj* in its API form."""
    value = getattr(obj, field.key)
    if field.kind == "ref":
        return brief(session, session.get(field.model, value)) if value is not None else None
    if field.kind == "choice":
        return choice(value)
    if field.kind == "datetime":
        return iso(value)
    if field.kind == "family":
        return family(value)
    return value


def _bad(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name}: {message}", errors={name: [message]})


def parse_value(session: Session, field: Field, raw: Any) -> Any:
    """Convert one input value to what the service takes, or raise a keyed 400."""
    name = field.name
    if raw is None:
        if field.nullable:
            return None
        raise _bad(name, "may not be null")
    kind = field.kind
    if kind == "ref":
        if isinstance(raw, dict) and "id" in raw:
            raw = raw["id"]
        if field.model is Opd and isinstance(raw, str):
            opd = get_opd(session, raw)
            if opd is None:
                raise _bad(name, f"unknown OPD {raw!r}")
            return opd.id
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _bad(name, "must be the id (an integer) of the related object")
        return raw
    if kind == "choice":
        if isinstance(raw, dict) and "value" in raw:
            raw = raw["value"]
        if not isinstance(raw, str):
            raise _bad(name, "must be a choice value (text)")
        return raw
    if kind == "int" and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise _bad(name, "must be an integer")
    if kind == "bool" and not isinstance(raw, bool):
        raise _bad(name, "must be true or false")
    if kind == "str" and not isinstance(raw, str):
        raise _bad(name, "must be text")
    if kind == "datetime":
        try:
            value = datetime.fromisoformat(str(raw))
        except ValueError:
            raise _bad(name, "must be an ISO 8601 date-time") from None
        if value.tzinfo is None:
            raise _bad(name, "needs a timezone (e.g. +07:00)")
        return value
    return raw


def _unchanged(session: Session, field: Field, raw: Any, current: Any) -> bool:
    """True when *raw* names the value *current* already holds (compared as the API shows
    it, so ``"prefix": "10.0.0.0/24"`` and ``"vrf": 3`` match what a GET returned)."""
    if current is None or field.kind == "virtual":
        return False
    try:
        value = parse_value(session, field, raw)
    except ValidationError:
        return False
    return value == getattr(current, field.key)


def parse_input(session: Session, fields: Sequence[Field], body: Any, *, creating: bool,
                full: bool, current: Any = None) -> dict[str, Any]:
    """Turn a request object into service keywords; every problem in one 400.

    *full* (POST, PUT) requires the required fields; PATCH takes any subset. A field
    fixed at creation may be repeated unchanged (a NetBox client PUTs the whole object
    back) but not changed.
    """
    if not isinstance(body, dict):
        raise ValidationError("each object must be a JSON object")
    by_name = {f.name: f for f in fields}
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, raw in body.items():
        field = by_name.get(name)
        if field is None or field.mode == "ro":
            errors.setdefault(name, []).append("unknown or read-only field")
            continue
        if field.mode == "create" and not creating:
            if not _unchanged(session, field, raw, current):
                errors.setdefault(name, []).append("cannot be changed after creation")
            continue
        if field.mode == "update" and creating:
            errors.setdefault(name, []).append("can only be set after creation")
            continue
        try:
            values[field.key] = parse_value(session, field, raw)
        except ValidationError as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key, []).extend(messages)
    if full:
        for field in fields:
            if field.required and body.get(field.name) in (None, "") and (
                    creating or field.mode not in ("create", "ro")):
                errors.setdefault(field.name, []).append("required")
    if errors:
        first, messages = next(iter(errors.items()))
        raise ValidationError(f"{first}: {messages[0]}", errors=errors)
    return values


def schema_of(fields: Sequence[Field], *, for_input: bool) -> dict[str, Any]:
    """Return the JSON schema of a resource (output, or the body of POST/PATCH)."""
    kinds = {"str": {"type": "string"}, "int": {"type": "integer"},
             "bool": {"type": "boolean"}, "datetime": {"type": "string",
                                                       "format": "date-time"},
             "virtual": {}, "json": {}, "family": {"$ref": "#/components/schemas/Choice"}}
    props: dict[str, Any] = {}
    for field in fields:
        if for_input and field.mode == "ro":
            continue
        if field.kind == "ref":
            prop = ({"type": "integer", "description": "id"} if for_input
                    else {"$ref": "#/components/schemas/BriefObject"})
        elif field.kind == "choice":
            prop = ({"type": "string"} if for_input
                    else {"$ref": "#/components/schemas/Choice"})
        else:
            prop = dict(kinds.get(field.kind, {}))
        if field.nullable or (not for_input and field.kind in ("ref", "choice")):
            prop = {"anyOf": [prop, {"type": "null"}]}
        props[field.name] = prop
    if not for_input:
        props = {"id": {"type": "integer"}, "url": {"type": ["string", "null"]},
                 "display": {"type": "string"}, **props}
    body: dict[str, Any] = {"type": "object", "properties": props}
    required = [f.name for f in fields if f.required and for_input]
    if required:
        body["required"] = required
    return body
