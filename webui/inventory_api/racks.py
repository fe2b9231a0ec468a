"""``/api/dcim/racks/`` (with ``…/{id}/elevation/``) and ``/api/dcim/power-feeds/``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import jsonify, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.choices import FACES
from inventory.dcim import racks as svc
from inventory.ipam.utilisation import Utilisation
from inventory.models import (
    Device,
    DeviceUnit,
    Location,
    PowerFeed,
    Rack,
    RackReservation,
    Site,
)
from inventory.queries import (
    power_feeds_query,
    rack_power_draws,
    rack_reservations_query,
    rack_units_used,
    racks_query,
)
from simpul.errors import ValidationError
from simpul.models import Opd
from webui.extensions import db_session
from webui.inventory_api.resource import ID_PARAMETER, Resource, bp, get_visible
from webui.inventory_api.serializers import Field, brief, choice, prefetch
from webui.openapi import spec

RACK_FIELDS = (
    Field("site", "site_id", "ref", Site, required=True),
    Field("location", "location_id", "ref", Location, nullable=True),
    Field("name", required=True),
    Field("status", kind="choice"),
    Field("u_height", kind="int"),
    Field("desc_units", kind="bool"),
    Field("power_budget_w", kind="int", nullable=True),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("description"),
)


def _rack_usage(session: Session, rows: Sequence[Rack]) -> dict[int, dict[str, Any]]:
    """Units used per face and power draw, reserved watts and limit, for a whole page.

    The limit is the rack's budget and each feed's capacity, lowest (as
    ``inventory.dcim.racks.rack_power_limit`` decides it for one rack);
    ``power_reserved_w`` is what live reservations hold and their devices do not draw
    yet (``inventory.dcim.racks.reserved_power``), so draw + reserved is spoken for.
    """
    ids = [r.id for r in rows]
    if not ids:
        return {}
    used: dict[tuple[int, str], int] = {
        (rack_id, face): n for rack_id, face, n in session.execute(rack_units_used(ids))}
    draws = dict(session.execute(rack_power_draws(ids)).all())
    reserved = svc.reserved_power(session, ids)
    limits: dict[int, list[int]] = {r.id: [] for r in rows}
    for feed in session.scalars(power_feeds_query(rack_id=ids)):
        limits[feed.rack_id].append(feed.available_w)
    out: dict[int, dict[str, Any]] = {}
    for rack in rows:
        caps = limits[rack.id] + ([rack.power_budget_w] if rack.power_budget_w is not None
                                  else [])
        out[rack.id] = {
            "utilization": {face: Utilisation(used.get((rack.id, face), 0),
                                              rack.u_height).percent for face in FACES},
            "power_draw_w": int(draws.get(rack.id, 0)),
            "power_reserved_w": reserved.get(rack.id, 0),
            "power_limit_w": min(caps) if caps else None,
        }
    return out


racks = Resource(
    "/api/dcim/racks/", Rack, "Rack", "dcim", RACK_FIELDS, query=racks_query,
    filters=(("id", "ids"), ("site_id", "ids"), ("site", "texts"), ("location_id", "ids"),
             ("status", "texts"), ("tenant_id", "ids"), ("tenant", "texts"), ("q", "text")),
    create=svc.create_rack, update=svc.update_rack, delete=svc.delete_rack,
    extra=_rack_usage,
).register()

UNIT_SCHEMA = spec.schema("RackUnit", {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"},
    "face": {"$ref": "#/components/schemas/Choice"},
    "device": {"anyOf": [{"$ref": "#/components/schemas/BriefObject"}, {"type": "null"}]},
    "occupied": {"type": "boolean"}, "reserved": {"type": "boolean"}}})


@bp.route("/dcim/racks/<int:rack_id>/elevation/")
@login_required
@spec.operation("/api/dcim/racks/{id}/elevation/", "GET", tag="dcim",
                summary="Units of one face of a rack, top first, with the device in each",
                response={"type": "object", "properties": {
                    "count": {"type": "integer"}, "next": {"type": "null"},
                    "previous": {"type": "null"},
                    "results": {"type": "array",
                                "items": {"$ref": f"#/components/schemas/{UNIT_SCHEMA}"}}}},
                parameters=[ID_PARAMETER, {"name": "face", "in": "query", "schema": {
                    "type": "string", "enum": list(FACES), "default": "front"}}])
def rack_elevation(rack_id: int) -> Any:
    """NetBox's elevation as JSON: one entry per unit of the asked face (front by default)."""
    rack = get_visible(Rack, rack_id, "rack")
    face = request.args.get("face", "front")
    if face not in FACES:
        raise ValidationError("face must be front or rear", errors={"face": ["front or rear"]})
    session = db_session()
    held = dict(session.execute(select(DeviceUnit.unit, DeviceUnit.device_id).where(
        DeviceUnit.rack_id == rack.id, DeviceUnit.face == face)).all())
    prefetch(session, {Device: set(held.values())})
    reserved = svc.reserved_units(session, rack.id)
    order = range(1, rack.u_height + 1) if rack.desc_units else range(rack.u_height, 0, -1)
    units = [{"id": u, "name": f"U{u}", "face": choice(face),
              "device": brief(session, session.get(Device, held[u])) if u in held else None,
              "occupied": u in held, "reserved": u in reserved} for u in order]
    return jsonify({"count": len(units), "next": None, "previous": None, "results": units})


FEED_FIELDS = (
    Field("rack", "rack_id", "ref", Rack, required=True, mode="create"),
    Field("name", kind="choice", required=True),
    Field("status", kind="choice"),
    Field("voltage", kind="int"),
    Field("amperage", kind="int"),
    Field("max_utilization", kind="int"),
)

power_feeds = Resource(
    "/api/dcim/power-feeds/", PowerFeed, "PowerFeed", "dcim", FEED_FIELDS,
    query=power_feeds_query,
    filters=(("id", "ids"), ("rack_id", "ids"), ("status", "texts")),
    create=svc.create_power_feed, update=svc.update_power_feed,
    delete=svc.delete_power_feed, what="power feed",
    extra=lambda session, rows: {f.id: {"available_w": f.available_w} for f in rows},
).register()

RESERVATION_FIELDS = (
    Field("rack", "rack_id", "ref", Rack, required=True, mode="create"),
    Field("units", kind="json", required=True),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("description"),
    Field("expires_at", kind="datetime", nullable=True),
    Field("power_w", kind="int"),
)

rack_reservations = Resource(
    "/api/dcim/rack-reservations/", RackReservation, "RackReservation", "dcim",
    RESERVATION_FIELDS, query=rack_reservations_query,
    filters=(("id", "ids"), ("rack_id", "ids"), ("tenant_id", "ids"), ("tenant", "texts"),
             ("q", "text")),
    create=svc.reserve_rack_units, update=svc.update_rack_reservation,
    delete=svc.release_rack_reservation,
    what="rack reservation",
).register()
