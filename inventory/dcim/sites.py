"""Sites, locations, manufacturers and device types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.choices import LOCATION_KINDS, SITE_STATUS
from inventory.errors import InUseError
from inventory.models import (
    Device,
    DeviceType,
    Location,
    Manufacturer,
    Prefix,
    Rack,
    Site,
    VlanGroup,
    WallOutlet,
)
from inventory.service import (
    FieldErrors,
    audit,
    check_choice,
    check_ref,
    check_text,
    check_unique,
    create_object,
    require,
    snapshot,
    update_object,
)
from simpul.audit import Actor
from simpul.models import Opd

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def check_slug(session: Session, errs: FieldErrors, model: type, value: Any,
               exclude_id: int | None, **scope: Any) -> None:
    """Record errors for a malformed or duplicate slug (unique within *scope*)."""
    if not isinstance(value, str) or not _SLUG.match(value) or len(value) > 100:
        errs.add("slug", "lower-case letters, digits, '-' and '_' (at most 100)")
        return
    check_unique(session, errs, model, "slug", {"slug": value, **scope}, exclude_id=exclude_id)


def _refuse_if_used(session: Session, what: str, checks: list[tuple[type, Any, str]]) -> None:
    for model, condition, label in checks:
        n = session.scalar(select(func.count()).select_from(model).where(condition))
        if n:
            raise InUseError(f"{what} still has {n} {label}")


# --- sites -------------------------------------------------------------------------------

_SITE_FIELDS = frozenset({"name", "slug", "status", "opd_id", "area", "physical_address",
                          "description"})


def _validate_site(session: Session, v: dict[str, Any], current: Site | None) -> None:
    errs = FieldErrors()
    exclude = current.id if current else None
    check_text(errs, "name", v["name"], 100)
    if "name" not in errs.errors:
        check_unique(session, errs, Site, "name", {"name": v["name"]}, exclude_id=exclude)
    check_slug(session, errs, Site, v["slug"], exclude)
    check_choice(errs, "status", v["status"], SITE_STATUS)
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    check_text(errs, "area", v["area"], 32, required=False)
    errs.raise_if_any()


def create_site(session: Session, actor: Actor, *, name: str, slug: str,
                status: str = "active", opd_id: int | None = None, area: str = "",
                physical_address: str = "", description: str = "") -> Site:
    """Create a site; name and slug are unique."""
    values = {"name": name, "slug": slug, "status": status, "opd_id": opd_id, "area": area,
              "physical_address": physical_address, "description": description}
    return create_object(session, actor, Site, values, _validate_site)


def update_site(session: Session, actor: Actor, site_id: int, **changes: Any) -> Site:
    """Change a site."""
    return update_object(session, actor, Site, site_id, changes, _SITE_FIELDS,
                         _validate_site)


def delete_site(session: Session, actor: Actor, site_id: int) -> None:
    """Delete an empty site (409 while racks, devices or other objects use it)."""
    site = require(session, Site, site_id)
    _refuse_if_used(session, f"site {site.name}", [
        (Device, Device.site_id == site.id, "devices"),
        (Rack, Rack.site_id == site.id, "racks"),
        (Location, Location.site_id == site.id, "locations"),
        (WallOutlet, WallOutlet.site_id == site.id, "wall outlets"),
        (VlanGroup, VlanGroup.site_id == site.id, "VLAN groups"),
        (Prefix, Prefix.site_id == site.id, "prefixes"),
    ])
    audit(session, actor, "delete", site, before=snapshot(site), deleted=True)
    session.delete(site)


def get_site(session: Session, site_id: int) -> Site | None:
    """Return the site with this id, or None."""
    return session.get(Site, site_id)


def get_site_by_slug(session: Session, slug: str) -> Site | None:
    """Return the site with this slug, or None."""
    return session.scalar(select(Site).where(Site.slug == slug))


def list_sites(session: Session, *, opd_id: int | None = None) -> Sequence[Site]:
    """Return sites by name, optionally of one OPD."""
    stmt = select(Site).order_by(Site.name)
    if opd_id is not None:
        stmt = stmt.where(Site.opd_id == opd_id)
    return session.scalars(stmt).all()


# --- locations ---------------------------------------------------------------------------

_LOCATION_FIELDS = frozenset({"site_id", "parent_id", "name", "slug", "kind", "description"})


def _validate_location(session: Session, v: dict[str, Any], current: Location | None) -> None:
    errs = FieldErrors()
    site = check_ref(session, errs, Site, "site_id", v["site_id"])
    check_text(errs, "name", v["name"], 100)
    check_choice(errs, "kind", v["kind"], LOCATION_KINDS)
    if site is not None:
        check_slug(session, errs, Location, v["slug"], current.id if current else None,
                   site_id=site.id)
    parent = check_ref(session, errs, Location, "parent_id", v["parent_id"])
    if parent is not None and site is not None:
        if parent.site_id != site.id:
            errs.add("parent_id", "must be a location of the same site")
        seen = parent
        while seen is not None and current is not None:  # no loops in the tree
            if seen.id == current.id:
                errs.add("parent_id", "cannot be the location itself or one of its children")
                break
            seen = session.get(Location, seen.parent_id) if seen.parent_id else None
    errs.raise_if_any()


def create_location(session: Session, actor: Actor, *, site_id: int, name: str, slug: str,
                    kind: str = "room", parent_id: int | None = None,
                    description: str = "") -> Location:
    """Create a building, floor or room, optionally inside another location."""
    values = {"site_id": site_id, "parent_id": parent_id, "name": name, "slug": slug,
              "kind": kind, "description": description}
    return create_object(session, actor, Location, values, _validate_location)


def update_location(session: Session, actor: Actor, location_id: int,
                    **changes: Any) -> Location:
    """Change a location (it may not become its own ancestor)."""
    return update_object(session, actor, Location, location_id, changes, _LOCATION_FIELDS,
                         _validate_location)


def delete_location(session: Session, actor: Actor, location_id: int) -> None:
    """Delete a location that no rack, device or outlet uses."""
    loc = require(session, Location, location_id)
    _refuse_if_used(session, f"location {loc.name}", [
        (Rack, Rack.location_id == loc.id, "racks"),
        (Device, Device.location_id == loc.id, "devices"),
        (WallOutlet, WallOutlet.location_id == loc.id, "wall outlets"),
        (Location, Location.parent_id == loc.id, "child locations"),
    ])
    audit(session, actor, "delete", loc, before=snapshot(loc), deleted=True)
    session.delete(loc)


def list_locations(session: Session, *, site_id: int | None = None) -> Sequence[Location]:
    """Return locations by site and name."""
    stmt = select(Location).order_by(Location.site_id, Location.name)
    if site_id is not None:
        stmt = stmt.where(Location.site_id == site_id)
    return session.scalars(stmt).all()


# --- manufacturers and device types ------------------------------------------------------

def create_manufacturer(session: Session, actor: Actor, *, name: str,
                        slug: str) -> Manufacturer:
    """Create a manufacturer; name and slug are unique."""
    errs = FieldErrors()
    check_text(errs, "name", name, 100)
    if not errs:
        check_unique(session, errs, Manufacturer, "name", {"name": name}, exclude_id=None)
    check_slug(session, errs, Manufacturer, slug, None)
    errs.raise_if_any()
    maker = Manufacturer(name=name, slug=slug)
    session.add(maker)
    audit(session, actor, "create", maker)
    return maker


_MAKER_FIELDS = frozenset({"name", "slug"})


def _validate_manufacturer(session: Session, v: dict[str, Any],
                           current: Manufacturer | None) -> None:
    errs = FieldErrors()
    exclude = current.id if current is not None else None
    check_text(errs, "name", v["name"], 100)
    if not errs:
        check_unique(session, errs, Manufacturer, "name", {"name": v["name"]},
                     exclude_id=exclude)
    check_slug(session, errs, Manufacturer, v["slug"], exclude)
    errs.raise_if_any()


def update_manufacturer(session: Session, actor: Actor, manufacturer_id: int,
                        **changes: Any) -> Manufacturer:
    """Rename a manufacturer or change its slug (both stay unique)."""
    return update_object(session, actor, Manufacturer, manufacturer_id, changes,
                         _MAKER_FIELDS, _validate_manufacturer)


def delete_manufacturer(session: Session, actor: Actor, manufacturer_id: int) -> None:
    """Delete a manufacturer without device types."""
    maker = require(session, Manufacturer, manufacturer_id)
    _refuse_if_used(session, f"manufacturer {maker.name}", [
        (DeviceType, DeviceType.manufacturer_id == maker.id, "device types")])
    audit(session, actor, "delete", maker, before=snapshot(maker), deleted=True)
    session.delete(maker)


_TYPE_FIELDS = frozenset({"manufacturer_id", "model", "slug", "u_height", "power_draw_w",
                          "is_full_depth"})
_TYPE_SHAPE = ("u_height", "power_draw_w", "is_full_depth")


def _validate_type(session: Session, v: dict[str, Any], current: DeviceType | None) -> None:
    errs = FieldErrors()
    exclude = current.id if current else None
    maker = check_ref(session, errs, Manufacturer, "manufacturer_id", v["manufacturer_id"])
    check_text(errs, "model", v["model"], 100)
    if maker is not None and "model" not in errs.errors:
        check_unique(session, errs, DeviceType, "model",
                     {"manufacturer_id": maker.id, "model": v["model"]}, exclude_id=exclude)
    check_slug(session, errs, DeviceType, v["slug"], exclude)
    for field, top in (("u_height", 100), ("power_draw_w", 1_000_000)):
        value = v[field]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            errs.add(field, f"must be a whole number from 0 to {top}")
    if not isinstance(v["is_full_depth"], bool):
        errs.add("is_full_depth", "must be true or false")
    if current is not None and any(v[f] != getattr(current, f) for f in _TYPE_SHAPE):
        used = session.scalar(select(func.count()).select_from(Device).where(
            Device.device_type_id == current.id))
        if used:
            errs.add("u_height", f"{used} devices use this type; height, depth and power "
                                 "are fixed while it is in use")
    errs.raise_if_any()


def create_device_type(session: Session, actor: Actor, *, manufacturer_id: int, model: str,
                       slug: str, u_height: int = 1, power_draw_w: int = 0,
                       is_full_depth: bool = True) -> DeviceType:
    """Create a device type: height in U, typical draw in W, full depth or not."""
    values = {"manufacturer_id": manufacturer_id, "model": model, "slug": slug,
              "u_height": u_height, "power_draw_w": power_draw_w,
              "is_full_depth": is_full_depth}
    return create_object(session, actor, DeviceType, values, _validate_type)


def update_device_type(session: Session, actor: Actor, type_id: int,
                       **changes: Any) -> DeviceType:
    """Change a device type; its shape and draw are fixed while devices use it."""
    return update_object(session, actor, DeviceType, type_id, changes, _TYPE_FIELDS,
                         _validate_type)


def delete_device_type(session: Session, actor: Actor, type_id: int) -> None:
    """Delete an unused device type."""
    dtype = require(session, DeviceType, type_id)
    _refuse_if_used(session, f"device type {dtype.model}", [
        (Device, Device.device_type_id == dtype.id, "devices")])
    audit(session, actor, "delete", dtype, before=snapshot(dtype), deleted=True)
    session.delete(dtype)


def list_device_types(session: Session) -> Sequence[DeviceType]:
    """Return device types by model."""
    return session.scalars(select(DeviceType).order_by(DeviceType.model)).all()
