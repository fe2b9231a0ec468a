"""``/api/ipam/vrfs/``."""

from __future__ import annotations

from inventory.ipam import vlans as svc
from inventory.models import Vrf
from inventory.queries import vrfs_query
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field

FIELDS = (
    Field("name", required=True),
    Field("rd", nullable=True),
    Field("enforce_unique", kind="bool"),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("description"),
)

vrfs = Resource(
    "/api/ipam/vrfs/", Vrf, "VRF", "ipam", FIELDS, query=vrfs_query,
    filters=(("id", "ids"), ("name", "texts"), ("rd", "texts"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=svc.create_vrf, update=svc.update_vrf, delete=svc.delete_vrf, what="VRF",
    brief=lambda v: {"rd": v.rd},
).register()
