"""``/api/dcim/interfaces/``, ``/api/dcim/cables/`` (NetBox's terminations), wall outlets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.dcim import interfaces as svc
from inventory.models import (
    Cable,
    CableTermination,
    Device,
    Interface,
    Location,
    Site,
    WallOutlet,
)
from inventory.queries import cables_query, interfaces_query, wall_outlets_query
from simpul.audit import Actor
from simpul.errors import ValidationError
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field, brief, prefetch

IFACE_FIELDS = (
    Field("device", "device_id", "ref", Device, required=True, mode="create"),
    Field("name", required=True),
    Field("type", kind="choice"),
    Field("speed", "speed_kbps", "int", nullable=True),
    Field("mac_address", nullable=True),
    Field("enabled", kind="bool"),
    Field("mtu", kind="int", nullable=True),
    Field("lag", "lag_id", "ref", Interface, nullable=True),
    Field("description"),
)


def _terminations(session: Session, where: Any) -> list[CableTermination]:
    return list(session.scalars(select(CableTermination).where(where)))


def _iface_cables(session: Session, rows: Sequence[Interface]) -> dict[int, dict[str, Any]]:
    """The cable on each interface and the interface at its far end (NetBox's link peer)."""
    ids = [i.id for i in rows]
    mine = _terminations(session, CableTermination.interface_id.in_(ids)) if ids else []
    cable_ids = {t.cable_id for t in mine}
    ends = _terminations(session, CableTermination.cable_id.in_(cable_ids)) if mine else []
    prefetch(session, {Cable: cable_ids, Interface: {t.interface_id for t in ends}})
    by_cable: dict[int, list[CableTermination]] = {}
    for end in ends:
        by_cable.setdefault(end.cable_id, []).append(end)
    out: dict[int, dict[str, Any]] = {i: {"cable": None, "link_peers": []} for i in ids}
    for term in mine:
        peers = [session.get(Interface, t.interface_id) for t in by_cable[term.cable_id]
                 if t.id != term.id]
        out[term.interface_id] = {"cable": brief(session, session.get(Cable, term.cable_id)),
                                  "link_peers": [brief(session, p) for p in peers]}
    return out


interfaces = Resource(
    "/api/dcim/interfaces/", Interface, "Interface", "dcim", IFACE_FIELDS,
    query=interfaces_query,
    filters=(("id", "ids"), ("device_id", "ids"), ("device", "texts"), ("name", "texts"),
             ("type", "texts"), ("enabled", "bool"), ("mac_address", "texts"),
             ("lag_id", "ids"), ("q", "text")),
    create=svc.create_interface, update=svc.update_interface, delete=svc.delete_interface,
    extra=_iface_cables,
).register()

CABLE_FIELDS = (
    Field("a_terminations", kind="virtual", required=True, mode="create"),
    Field("b_terminations", kind="virtual", required=True, mode="create"),
    Field("status", kind="choice"),
    Field("label"),
    Field("length", "length_m", "int", nullable=True),
    Field("description"),
)


def _interface_end(field: str, value: Any) -> int:
    """Read NetBox's ``[{"object_type": "dcim.interface", "object_id": 7}]`` (one end)."""
    if (not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict)
            or value[0].get("object_type", "dcim.interface") != "dcim.interface"
            or isinstance(value[0].get("object_id"), bool)
            or not isinstance(value[0].get("object_id"), int)):
        raise ValidationError(f"{field}: one dcim.interface termination is required",
                              errors={field: ['[{"object_type": "dcim.interface", '
                                              '"object_id": <id>}] expected']})
    return value[0]["object_id"]


def _create_cable(session: Session, actor: Actor, *, a_terminations: Any,
                  b_terminations: Any, **kw: Any) -> Cable:
    return svc.create_cable(session, actor,
                            a_interface_id=_interface_end("a_terminations", a_terminations),
                            b_interface_id=_interface_end("b_terminations", b_terminations),
                            **kw)


def _cable_ends(session: Session, rows: Sequence[Cable]) -> dict[int, dict[str, Any]]:
    ends = _terminations(session, CableTermination.cable_id.in_([c.id for c in rows])
                         ) if rows else []
    prefetch(session, {Interface: {t.interface_id for t in ends}})
    out: dict[int, dict[str, Any]] = {
        c.id: {"a_terminations": [], "b_terminations": [], "length_unit": "m"} for c in rows}
    for end in ends:
        out[end.cable_id][f"{end.cable_end.lower()}_terminations"].append({
            "object_type": "dcim.interface", "object_id": end.interface_id,
            "object": brief(session, session.get(Interface, end.interface_id))})
    return out


cables = Resource(
    "/api/dcim/cables/", Cable, "Cable", "dcim", CABLE_FIELDS, query=cables_query,
    filters=(("id", "ids"), ("device_id", "ids"), ("interface_id", "ids"),
             ("status", "texts"), ("q", "text")),
    create=_create_cable, update=svc.update_cable, delete=svc.delete_cable, extra=_cable_ends,
    error_keys={"a_interface_id": "a_terminations", "b_interface_id": "b_terminations"},
    brief=lambda c: {"label": c.label},
).register()

OUTLET_FIELDS = (
    Field("site", "site_id", "ref", Site, required=True),
    Field("location", "location_id", "ref", Location, nullable=True),
    Field("label", required=True),
    Field("kind", kind="choice"),
    Field("status", kind="choice"),
    Field("interface", "interface_id", "ref", Interface, nullable=True),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("description"),
)

# Not a NetBox endpoint: the colocation SOP checks for a free outlet or patch port.
wall_outlets = Resource(
    "/api/dcim/wall-outlets/", WallOutlet, "WallOutlet", "dcim", OUTLET_FIELDS,
    query=wall_outlets_query,
    filters=(("id", "ids"), ("site_id", "ids"), ("site", "texts"), ("location_id", "ids"),
             ("kind", "texts"), ("status", "texts"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=svc.create_wall_outlet, update=svc.update_wall_outlet,
    delete=svc.delete_wall_outlet, what="wall outlet",
).register()
