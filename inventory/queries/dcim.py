"""Filtered SELECTs over OPDs and DCIM: sites, racks, devices, interfaces, cables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from inventory.models import (
    Cable,
    CableTermination,
    Device,
    DeviceType,
    DeviceUnit,
    Interface,
    Location,
    Manufacturer,
    PowerFeed,
    Rack,
    RackReservation,
    Site,
    WallOutlet,
)
from inventory.queries.base import Ids, Texts, in_, search, site_slug, tenant_of
from simpul.models import Opd


def tenants_query(*, id: Ids | None = None, q: str | None = None) -> Select[Any]:
    """OPDs, the operator first, then by code."""
    stmt = in_(select(Opd), Opd.id, id)
    return search(stmt, q, Opd.code, Opd.name).order_by(Opd.is_operator.desc(), Opd.code)


def sites_query(*, id: Ids | None = None, slug: Texts | None = None,
                status: Texts | None = None, tenant_id: Ids | None = None,
                tenant: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Sites by name."""
    stmt = in_(in_(in_(select(Site), Site.id, id), Site.slug, slug), Site.status, status)
    stmt = tenant_of(stmt, Site.opd_id, tenant_id, tenant)
    stmt = search(stmt, q, Site.name, Site.slug, Site.description, Site.physical_address)
    return stmt.order_by(Site.name, Site.id)


def locations_query(*, id: Ids | None = None, site_id: Ids | None = None,
                    site: Texts | None = None, parent_id: Ids | None = None,
                    kind: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Locations by site and name."""
    stmt = in_(in_(select(Location), Location.id, id), Location.site_id, site_id)
    stmt = in_(in_(site_slug(stmt, Location.site_id, site), Location.parent_id, parent_id),
               Location.kind, kind)
    stmt = search(stmt, q, Location.name, Location.slug, Location.description)
    return stmt.order_by(Location.site_id, Location.name, Location.id)


def racks_query(*, id: Ids | None = None, site_id: Ids | None = None,
                site: Texts | None = None, location_id: Ids | None = None,
                status: Texts | None = None, tenant_id: Ids | None = None,
                tenant: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Racks by site and name."""
    stmt = in_(in_(select(Rack), Rack.id, id), Rack.site_id, site_id)
    stmt = in_(in_(site_slug(stmt, Rack.site_id, site), Rack.location_id, location_id),
               Rack.status, status)
    stmt = search(tenant_of(stmt, Rack.opd_id, tenant_id, tenant), q, Rack.name,
                  Rack.description)
    return stmt.order_by(Rack.site_id, Rack.name, Rack.id)


def power_feeds_query(*, id: Ids | None = None, rack_id: Ids | None = None,
                      status: Texts | None = None) -> Select[Any]:
    """Power feeds by rack and name (A before B)."""
    stmt = in_(in_(in_(select(PowerFeed), PowerFeed.id, id), PowerFeed.rack_id, rack_id),
               PowerFeed.status, status)
    return stmt.order_by(PowerFeed.rack_id, PowerFeed.name, PowerFeed.id)


def rack_units_used(rack_ids: Ids) -> Select[Any]:
    """Rows (rack_id, face, units held) for many racks at once (a page's utilisation)."""
    return (select(DeviceUnit.rack_id, DeviceUnit.face, func.count())
            .where(DeviceUnit.rack_id.in_(list(rack_ids)))
            .group_by(DeviceUnit.rack_id, DeviceUnit.face))


def rack_power_draws(rack_ids: Ids) -> Select[Any]:
    """Rows (rack_id, summed typical draw in W) for many racks at once."""
    return (select(Device.rack_id, func.coalesce(func.sum(DeviceType.power_draw_w), 0))
            .join(DeviceType, Device.device_type_id == DeviceType.id)
            .where(Device.rack_id.in_(list(rack_ids))).group_by(Device.rack_id))


def manufacturers_query(*, id: Ids | None = None, slug: Texts | None = None,
                        q: str | None = None) -> Select[Any]:
    """Manufacturers by name."""
    stmt = in_(in_(select(Manufacturer), Manufacturer.id, id), Manufacturer.slug, slug)
    return search(stmt, q, Manufacturer.name).order_by(Manufacturer.name, Manufacturer.id)


def device_types_query(*, id: Ids | None = None, manufacturer_id: Ids | None = None,
                       slug: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Device types by model."""
    stmt = in_(in_(select(DeviceType), DeviceType.id, id), DeviceType.manufacturer_id,
               manufacturer_id)
    stmt = search(in_(stmt, DeviceType.slug, slug), q, DeviceType.model, DeviceType.slug)
    return stmt.order_by(DeviceType.model, DeviceType.id)


def devices_query(*, id: Ids | None = None, name: Texts | None = None,
                  site_id: Ids | None = None, site: Texts | None = None,
                  location_id: Ids | None = None, rack_id: Ids | None = None,
                  device_type_id: Ids | None = None, role: Texts | None = None,
                  platform: Texts | None = None, status: Texts | None = None,
                  serial: Texts | None = None, tenant_id: Ids | None = None,
                  tenant: Texts | None = None, q: str | None = None) -> Select[Any]:
    """Devices by name (then id: names repeat across sites)."""
    stmt = select(Device)
    for column, values in ((Device.id, id), (Device.name, name), (Device.site_id, site_id),
                           (Device.location_id, location_id), (Device.rack_id, rack_id),
                           (Device.device_type_id, device_type_id), (Device.role, role),
                           (Device.platform, platform), (Device.status, status),
                           (Device.serial, serial)):
        stmt = in_(stmt, column, values)
    stmt = tenant_of(site_slug(stmt, Device.site_id, site), Device.opd_id, tenant_id, tenant)
    stmt = search(stmt, q, Device.name, Device.serial, Device.description)
    return stmt.order_by(Device.name, Device.id)


def interfaces_query(*, id: Ids | None = None, device_id: Ids | None = None,
                     device: Texts | None = None, name: Texts | None = None,
                     type: Texts | None = None, enabled: bool | None = None,
                     mac_address: Texts | None = None, lag_id: Ids | None = None,
                     q: str | None = None) -> Select[Any]:
    """Interfaces by device and name."""
    stmt = select(Interface)
    for column, values in ((Interface.id, id), (Interface.device_id, device_id),
                           (Interface.name, name), (Interface.type, type),
                           (Interface.lag_id, lag_id)):
        stmt = in_(stmt, column, values)
    if device:
        stmt = stmt.where(Interface.device_id.in_(
            select(Device.id).where(Device.name.in_(list(device)))))
    if enabled is not None:
        stmt = stmt.where(Interface.enabled.is_(enabled))
    if mac_address:
        stmt = stmt.where(func.lower(Interface.mac_address).in_(
            [m.lower() for m in mac_address]))
    stmt = search(stmt, q, Interface.name, Interface.description)
    return stmt.order_by(Interface.device_id, Interface.name, Interface.id)


def cables_query(*, id: Ids | None = None, device_id: Ids | None = None,
                 interface_id: Ids | None = None, status: Texts | None = None,
                 q: str | None = None) -> Select[Any]:
    """Cables by id; ``device_id``/``interface_id`` keep cables with an end there."""
    stmt = in_(in_(select(Cable), Cable.id, id), Cable.status, status)
    if interface_id:
        stmt = stmt.where(Cable.id.in_(select(CableTermination.cable_id).where(
            CableTermination.interface_id.in_(list(interface_id)))))
    if device_id:
        stmt = stmt.where(Cable.id.in_(select(CableTermination.cable_id).join(
            Interface, CableTermination.interface_id == Interface.id).where(
            Interface.device_id.in_(list(device_id)))))
    return search(stmt, q, Cable.label, Cable.description).order_by(Cable.id)


def rack_reservations_query(*, id: Ids | None = None, rack_id: Ids | None = None,
                            tenant_id: Ids | None = None, tenant: Texts | None = None,
                            q: str | None = None) -> Select[Any]:
    """Rack reservations by rack, oldest first."""
    stmt = in_(in_(select(RackReservation), RackReservation.id, id), RackReservation.rack_id,
               rack_id)
    stmt = search(tenant_of(stmt, RackReservation.opd_id, tenant_id, tenant), q,
                  RackReservation.description)
    return stmt.order_by(RackReservation.rack_id, RackReservation.id)


def wall_outlets_query(*, id: Ids | None = None, site_id: Ids | None = None,
                       site: Texts | None = None, location_id: Ids | None = None,
                       kind: Texts | None = None, status: Texts | None = None,
                       tenant_id: Ids | None = None, tenant: Texts | None = None,
                       q: str | None = None) -> Select[Any]:
    """Wall outlets and patch ports by site and label (``status=free`` for colocation)."""
    stmt = select(WallOutlet)
    for column, values in ((WallOutlet.id, id), (WallOutlet.site_id, site_id),
                           (WallOutlet.location_id, location_id), (WallOutlet.kind, kind),
                           (WallOutlet.status, status)):
        stmt = in_(stmt, column, values)
    stmt = tenant_of(site_slug(stmt, WallOutlet.site_id, site), WallOutlet.opd_id, tenant_id,
                     tenant)
    stmt = search(stmt, q, WallOutlet.label, WallOutlet.description)
    return stmt.order_by(WallOutlet.site_id, WallOutlet.label, WallOutlet.id)
