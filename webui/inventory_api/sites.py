"""``/api/dcim/sites/`` and ``/api/dcim/locations/``."""

from __future__ import annotations

from inventory.dcim import sites as svc
from inventory.models import Location, Site
from inventory.queries import locations_query, sites_query
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field

SITE_FIELDS = (
    Field("name", required=True),
    Field("slug", required=True),
    Field("status", kind="choice"),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("area"),
    Field("physical_address"),
    Field("description"),
)

sites = Resource(
    "/api/dcim/sites/", Site, "Site", "dcim", SITE_FIELDS, query=sites_query,
    filters=(("id", "ids"), ("slug", "texts"), ("status", "texts"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=svc.create_site, update=svc.update_site, delete=svc.delete_site,
    brief=lambda s: {"slug": s.slug},
).register()

LOCATION_FIELDS = (
    Field("site", "site_id", "ref", Site, required=True),
    Field("parent", "parent_id", "ref", Location, nullable=True),
    Field("name", required=True),
    Field("slug", required=True),
    Field("kind", kind="choice"),
    Field("description"),
)

locations = Resource(
    "/api/dcim/locations/", Location, "Location", "dcim", LOCATION_FIELDS,
    query=locations_query,
    filters=(("id", "ids"), ("site_id", "ids"), ("site", "texts"), ("parent_id", "ids"),
             ("kind", "texts"), ("q", "text")),
    create=svc.create_location, update=svc.update_location, delete=svc.delete_location,
    brief=lambda loc: {"slug": loc.slug},
).register()
