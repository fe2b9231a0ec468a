"""Loading the DCIM sections of a document: OPDs, sites, racks, types, devices, cables."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import select

from inventory.addressing import normalise_mac
from inventory.dcim.devices import create_device, update_device
from inventory.dcim.interfaces import cable_peer, create_cable, create_interface, update_interface
from inventory.dcim.racks import create_rack, update_rack
from inventory.dcim.sites import (
    create_device_type,
    create_manufacturer,
    create_site,
    get_site_by_slug,
    update_device_type,
    update_site,
)
from inventory.io.clab import slugify
from inventory.io.context import ImportContext
from inventory.io.document import Item, items
from inventory.models import Device, DeviceType, Interface, Manufacturer, Rack
from simpul.errors import SimpulError
from simpul.tenancy import create_opd, get_opd, get_operator

OPD_FIELDS = frozenset({"code", "name", "operator", "description"})
SITE_FIELDS = frozenset({"slug", "name", "status", "opd", "area", "physical_address",
                         "description"})
RACK_FIELDS = frozenset({"site", "name", "status", "u_height", "desc_units", "power_budget_w",
                         "opd", "description"})
TYPE_FIELDS = frozenset({"slug", "manufacturer", "model", "u_height", "power_draw_w",
                         "full_depth"})
DEVICE_FIELDS = frozenset({"name", "site", "device_type", "role", "platform", "status", "serial",
                           "rack", "position", "face", "opd", "description", "primary_ip4",
                           "primary_ip6", "interfaces"})
IFACE_FIELDS = frozenset({"name", "type", "enabled", "mac_address", "mtu", "speed_kbps", "lag",
                          "description", "addresses"})
CABLE_FIELDS = frozenset({"a", "b", "status", "label", "description"})


def load_opds(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Create missing OPDs (existing ones are left as they are: codes are their identity)."""
    for item in items(doc, "opds", "opd", "code", ctx.file, OPD_FIELDS):
        code = str(item.require("code")).upper()
        if get_opd(ctx.session, code) is not None:
            ctx.report.count("opd", "unchanged")
            continue
        operator = item.boolean("operator", False)
        if operator and ctx.report.format == "containerlab" and get_operator(ctx.session):
            operator = False  # only guessed from the lab's core nodes; keep the real one
        try:
            create_opd(ctx.session, ctx.actor, code, item.text("name", code),
                       is_operator=operator,
                       description=item.text("description"))
            ctx.session.flush()
        except SimpulError as exc:
            raise item.wrap(exc) from None
        ctx.report.count("opd", "created")


def load_sites(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync sites by slug."""
    for item in items(doc, "sites", "site", "slug", ctx.file, SITE_FIELDS):
        slug = item.text("slug")
        if not slug:
            raise item.fail("slug", "required")
        desired = {"slug": slug, "name": item.text("name", slug),
                   "status": item.text("status", "active"), "opd_id": ctx.opd_id(item),
                   "area": item.text("area"), "physical_address": item.text("physical_address"),
                   "description": item.text("description")}
        site = get_site_by_slug(ctx.session, slug)
        ctx.sync(item, site, desired, create_site, update_site, fixed=frozenset({"slug"}))


def load_racks(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync racks by (site, name)."""
    for item in items(doc, "racks", "rack", ("site", "name"), ctx.file, RACK_FIELDS):
        site = ctx.site(item)
        assert site is not None
        name = item.text("name")
        desired = {"site_id": site.id, "name": name, "status": item.text("status", "active"),
                   "u_height": item.integer("u_height", 42),
                   "desc_units": item.boolean("desc_units", False),
                   "power_budget_w": item.integer("power_budget_w"), "opd_id": ctx.opd_id(item),
                   "description": item.text("description")}
        rack = ctx.session.scalar(select(Rack).where(Rack.site_id == site.id, Rack.name == name))
        ctx.sync(item, rack, desired, create_rack, update_rack,
                 fixed=frozenset({"site_id", "name"}))


def _manufacturer(ctx: ImportContext, item: Item) -> int:
    name = item.text("manufacturer")
    if not name:
        raise item.fail("manufacturer", "required")
    maker = ctx.session.scalar(select(Manufacturer).where(
        (Manufacturer.name == name) | (Manufacturer.slug == slugify(name))).limit(1))
    if maker is None:
        try:
            maker = create_manufacturer(ctx.session, ctx.actor, name=name, slug=slugify(name))
            ctx.session.flush()
        except SimpulError as exc:
            raise item.wrap(exc, "manufacturer.") from None
        ctx.report.count("manufacturer", "created")
    return maker.id


def load_device_types(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync device types by slug (their manufacturer is created when missing)."""
    for item in items(doc, "device_types", "device type", "slug", ctx.file, TYPE_FIELDS):
        slug = item.text("slug")
        desired = {"manufacturer_id": _manufacturer(ctx, item), "model": item.text("model", slug),
                   "slug": slug, "u_height": item.integer("u_height", 1),
                   "power_draw_w": item.integer("power_draw_w", 0),
                   "is_full_depth": item.boolean("full_depth", True)}
        dtype = ctx.session.scalar(select(DeviceType).where(DeviceType.slug == slug))
        ctx.sync(item, dtype, desired, create_device_type, update_device_type,
                 fixed=frozenset({"slug"}))


def _device_desired(ctx: ImportContext, item: Item, site_id: int) -> dict[str, Any]:
    type_slug = item.text("device_type")
    if not type_slug:
        raise item.fail("device_type", "required")
    dtype = ctx.session.scalar(select(DeviceType).where(DeviceType.slug == type_slug))
    if dtype is None:
        raise item.fail("device_type", f"unknown device type {type_slug!r}")
    rack_id = None
    if item.text("rack"):
        rack = ctx.session.scalar(select(Rack).where(Rack.site_id == site_id,
                                                     Rack.name == item.text("rack")))
        if rack is None:
            raise item.fail("rack", f"unknown rack {item.text('rack')!r} at the device's site")
        rack_id = rack.id
    position = item.integer("position")
    face = item.text("face") or ("front" if position is not None else None)
    return {"device_type_id": dtype.id, "role": item.text("role"),
            "platform": item.text("platform"), "status": item.text("status", "active"),
            "serial": item.text("serial"), "rack_id": rack_id, "position": position,
            "face": face, "opd_id": ctx.opd_id(item), "description": item.text("description")}


def load_devices(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Sync devices by (site, name) and their interfaces by name."""
    for item in items(doc, "devices", "device", "name", ctx.file, DEVICE_FIELDS):
        name = item.text("name")
        if not name:
            raise item.fail("name", "required")
        if name in ctx.devices:
            raise item.fail("name", f"device {name} appears twice in the file")
        site = ctx.site(item)
        assert site is not None
        desired = {"name": name, "site_id": site.id, **_device_desired(ctx, item, site.id)}
        device = ctx.session.scalar(select(Device).where(Device.site_id == site.id,
                                                         Device.name == name))
        device = ctx.sync(item, device, desired, create_device, update_device,
                          fixed=frozenset({"name", "site_id"}))
        ctx.devices[name] = device
        _load_interfaces(ctx, item, device)


def interface_items(item: Item) -> list[Item]:
    raw = item.get("interfaces", [])
    if not isinstance(raw, list):
        raise item.fail("interfaces", "must be a list")
    found = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise item.fail(f"interfaces[{index}]", "must be a mapping")
        line = getattr(entry, "line", 0)
        where = f"{item.where.rpartition(':')[0]}:{line}" if line else item.where
        sub = Item("interface", f"{item.key}:{entry.get('name', index)}", where, dict(entry))
        unknown = sorted(set(entry) - IFACE_FIELDS)
        if unknown:
            raise sub.fail(unknown[0], "unknown field (allowed: "
                           f"{', '.join(sorted(IFACE_FIELDS))})")
        found.append(sub)
    return found


def _load_interfaces(ctx: ImportContext, item: Item, device: Device) -> None:
    subs = interface_items(item)
    lags: list[tuple[Item, Interface]] = []
    for sub in subs:
        name = sub.text("name")
        if not name:
            raise sub.fail("name", "required")
        desired = {"name": name, "type": sub.text("type", "1000base-t"),
                   "enabled": sub.boolean("enabled", True),
                   "mac_address": sub.get("mac_address"), "mtu": sub.integer("mtu"),
                   "speed_kbps": sub.integer("speed_kbps"),
                   "description": sub.text("description")}
        iface = ctx.session.scalar(select(Interface).where(Interface.device_id == device.id,
                                                           Interface.name == name))
        if iface is not None and desired["mac_address"] is not None:
            with contextlib.suppress(ValueError):  # a bad MAC: the service names it
                desired["mac_address"] = normalise_mac(str(desired["mac_address"]))

        def create(session: Any, actor: Any, **values: Any) -> Interface:
            return create_interface(session, actor, device_id=device.id, **values)

        iface = ctx.sync(sub, iface, desired, create, update_interface)
        if sub.text("lag"):
            lags.append((sub, iface))
    for sub, iface in lags:  # after all interfaces exist, so a LAG may come later
        lag = ctx.session.scalar(select(Interface).where(Interface.device_id == device.id,
                                                         Interface.name == sub.text("lag")))
        if lag is None:
            raise sub.fail("lag", f"{device.name} has no interface {sub.text('lag')!r}")
        if iface.lag_id != lag.id:
            try:
                update_interface(ctx.session, ctx.actor, iface.id, lag_id=lag.id)
            except SimpulError as exc:
                raise sub.wrap(exc) from None


def interface_by_ref(ctx: ImportContext, item: Item, field_name: str,
                     ref: Any) -> Interface:
    """Return the interface a ``device:interface`` reference names."""
    if not isinstance(ref, str) or ":" not in ref:
        raise item.fail(field_name, "must be 'device:interface'")
    device_ref, _sep, ifname = ref.rpartition(":")
    device = ctx.device(item, device_ref, field_name)
    iface = ctx.session.scalar(select(Interface).where(Interface.device_id == device.id,
                                                       Interface.name == ifname))
    if iface is None:
        raise item.fail(field_name, f"{device.name} has no interface {ifname!r}")
    return iface


def load_cables(ctx: ImportContext, doc: dict[str, Any]) -> None:
    """Create cables that do not exist yet (``links`` is accepted for ``cables``)."""
    section = "cables" if "cables" in doc else "links"
    for item in items(doc, section, "cable", ("a", "b"), ctx.file, CABLE_FIELDS):
        a = interface_by_ref(ctx, item, "a", item.get("a"))
        b = interface_by_ref(ctx, item, "b", item.get("b"))
        peer = cable_peer(ctx.session, a.id)
        if peer is not None and peer.id == b.id:
            ctx.report.count("cable", "unchanged")
            continue
        try:
            create_cable(ctx.session, ctx.actor, a_interface_id=a.id, b_interface_id=b.id,
                         status=item.text("status", "connected"), label=item.text("label"),
                         description=item.text("description"))
            ctx.session.flush()
        except SimpulError as exc:
            raise item.wrap(exc) from None
        ctx.report.count("cable", "created")
