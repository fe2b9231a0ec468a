"""``/api/dcim/manufacturers/``, ``/api/dcim/device-types/`` and ``/api/dcim/devices/``."""

from __future__ import annotations

from inventory.dcim import devices as device_svc
from inventory.dcim import sites as catalogue
from inventory.models import (
    Device,
    DeviceType,
    IpAddress,
    Location,
    Manufacturer,
    Rack,
    Site,
)
from inventory.queries import device_types_query, devices_query, manufacturers_query
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field

manufacturers = Resource(
    "/api/dcim/manufacturers/", Manufacturer, "Manufacturer", "dcim",
    (Field("name", required=True), Field("slug", required=True)),
    query=manufacturers_query, filters=(("id", "ids"), ("slug", "texts"), ("q", "text")),
    create=catalogue.create_manufacturer, update=catalogue.update_manufacturer,
    delete=catalogue.delete_manufacturer,
    brief=lambda m: {"slug": m.slug},
).register()

TYPE_FIELDS = (
    Field("manufacturer", "manufacturer_id", "ref", Manufacturer, required=True),
    Field("model", required=True),
    Field("slug", required=True),
    Field("u_height", kind="int"),
    Field("power_draw_w", kind="int"),
    Field("is_full_depth", kind="bool"),
)

device_types = Resource(
    "/api/dcim/device-types/", DeviceType, "DeviceType", "dcim", TYPE_FIELDS,
    query=device_types_query,
    filters=(("id", "ids"), ("manufacturer_id", "ids"), ("slug", "texts"), ("q", "text")),
    create=catalogue.create_device_type, update=catalogue.update_device_type,
    delete=catalogue.delete_device_type, what="device type",
    brief=lambda t: {"model": t.model, "slug": t.slug},
).register()

DEVICE_FIELDS = (
    Field("name", required=True),
    Field("device_type", "device_type_id", "ref", DeviceType, required=True),
    Field("role", kind="choice", required=True),
    Field("platform", kind="choice"),
    Field("status", kind="choice"),
    Field("serial"),
    Field("site", "site_id", "ref", Site, required=True),
    Field("location", "location_id", "ref", Location, nullable=True),
    Field("rack", "rack_id", "ref", Rack, nullable=True),
    Field("position", kind="int", nullable=True),
    Field("face", kind="choice", nullable=True),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("primary_ip4", "primary_ip4_id", "ref", IpAddress, nullable=True, mode="update"),
    Field("primary_ip6", "primary_ip6_id", "ref", IpAddress, nullable=True, mode="update"),
    Field("description"),
)

devices = Resource(
    "/api/dcim/devices/", Device, "Device", "dcim", DEVICE_FIELDS, query=devices_query,
    filters=(("id", "ids"), ("name", "texts"), ("site_id", "ids"), ("site", "texts"),
             ("location_id", "ids"), ("rack_id", "ids"), ("device_type_id", "ids"),
             ("role", "texts"), ("platform", "texts"), ("status", "texts"),
             ("serial", "texts"), ("tenant_id", "ids"), ("tenant", "texts"), ("q", "text")),
    create=device_svc.create_device, update=device_svc.update_device,
    delete=device_svc.delete_device,
).register()
