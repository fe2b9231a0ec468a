"""Loading locations, power feeds and wall outlets / patch ports of a document.

Keys: a location is ``(site, slug)`` and may name a ``parent`` location of the same site
(earlier in the file or already stored); a power feed is ``(site, rack, name)`` — feed
``A`` or ``B``; an outlet is ``(site, label)`` and may name its ``location`` and the
``interface`` (``device:interface``) it is patched to. Everything goes through the same
services as the API, so the rules (unique slugs and labels, a feed not below the rack's
draw, one outlet per interface) hold for imports too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from inventory.dcim.interfaces import create_wall_outlet, update_wall_outlet
from inventory.dcim.racks import create_power_feed, update_power_feed
from inventory.dcim.sites import create_location, update_location
from inventory.io.context import ImportContext
from inventory.io.document import Item, items
from inventory.io.load_dcim import interface_by_ref
from inventory.models import Location, PowerFeed, Rack, Site, WallOutlet

LOCATION_FIELDS = frozenset({"site", "slug", "name", "kind", "parent", "description"})
FEED_FIELDS = frozenset({"site", "rack", "name", "status", "voltage", "amperage",
                         "max_utilization"})
OUTLET_FIELDS = frozenset({"site", "label", "location", "kind", "status", "interface", "opd",
                           "description"})


def _location(ctx: ImportContext, item: Item, site: Site, field_name: str) -> int | None:
    slug = item.text(field_name)
    if not slug:
        return None
    found = ctx.session.scalar(select(Location.id).where(Location.site_id == site.id,
                                                         Location.slug == slug))
    if found is None:
        raise item.fail(field_name, f"unknown location {slug!r} at site {site.slug}")
    return found


def load_locations(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync buildings, floors and rooms by (site, slug); parents first in the file."""
    for item in items(doc, "locations", "location", ("site", "slug"), ctx.file,
                      LOCATION_FIELDS):
        site = ctx.site(item)
        assert site is not None
        slug = item.text("slug")
        if not slug:
            raise item.fail("slug", "required")
        desired = {"site_id": site.id, "slug": slug, "name": item.text("name", slug),
                   "kind": item.text("kind", "room"),
                   "parent_id": _location(ctx, item, site, "parent"),
                   "description": item.text("description")}
        existing = ctx.session.scalar(select(Location).where(Location.site_id == site.id,
                                                             Location.slug == slug))
        ctx.sync(item, existing, desired, create_location, update_location,
                 fixed=frozenset({"site_id", "slug"}))


def load_power_feeds(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync a rack's feeds A/B by (site, rack, name)."""
    for item in items(doc, "power_feeds", "power feed", ("site", "rack", "name"), ctx.file,
                      FEED_FIELDS):
        site = ctx.site(item)
        assert site is not None
        rack_name = item.text("rack")
        rack = ctx.session.scalar(select(Rack).where(Rack.site_id == site.id,
                                                     Rack.name == rack_name))
        if rack is None:
            raise item.fail("rack", f"unknown rack {rack_name!r} at site {site.slug}")
        name = item.text("name")
        if not name:
            raise item.fail("name", "required")
        desired = {"rack_id": rack.id, "name": name, "status": item.text("status", "active"),
                   "voltage": item.integer("voltage", 230),
                   "amperage": item.integer("amperage", 16),
                   "max_utilization": item.integer("max_utilization", 80)}
        existing = ctx.session.scalar(select(PowerFeed).where(PowerFeed.rack_id == rack.id,
                                                              PowerFeed.name == name))
        ctx.sync(item, existing, desired, create_power_feed, update_power_feed,
                 fixed=frozenset({"rack_id", "name"}))


def load_wall_outlets(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync wall outlets and patch ports by (site, label)."""
    for item in items(doc, "wall_outlets", "wall outlet", ("site", "label"), ctx.file,
                      OUTLET_FIELDS):
        site = ctx.site(item)
        assert site is not None
        label = item.text("label")
        if not label:
            raise item.fail("label", "required")
        ref = item.get("interface")
        iface = interface_by_ref(ctx, item, "interface", ref) if ref else None
        desired = {"site_id": site.id, "label": label,
                   "location_id": _location(ctx, item, site, "location"),
                   "kind": item.text("kind", "wall-outlet"),
                   "status": item.text("status", "used" if iface is not None else "free"),
                   "interface_id": iface.id if iface is not None else None,
                   "opd_id": ctx.opd_id(item), "description": item.text("description")}
        existing = ctx.session.scalar(select(WallOutlet).where(WallOutlet.site_id == site.id,
                                                               WallOutlet.label == label))
        ctx.sync(item, existing, desired, create_wall_outlet, update_wall_outlet,
                 fixed=frozenset({"site_id", "label"}))
