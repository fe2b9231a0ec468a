"""``/api/ipam/vlan-groups/`` and ``/api/ipam/vlans/``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from inventory.ipam import vlans as svc
from inventory.ipam.utilisation import Utilisation
from inventory.models import Site, Vlan, VlanGroup
from inventory.queries import vlan_counts, vlan_groups_query, vlans_query
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field

GROUP_FIELDS = (
    Field("name", required=True),
    Field("slug", required=True),
    Field("site", "site_id", "ref", Site, nullable=True),
    Field("min_vid", kind="int"),
    Field("max_vid", kind="int"),
    Field("description"),
)


def _group_utilisation(session: Session, rows: Sequence[Any]) -> dict[int, dict[str, Any]]:
    """Used vids over the group's vid range, for a whole page in one query."""
    counts = dict(session.execute(vlan_counts([g.id for g in rows])).all()) if rows else {}
    return {g.id: {"utilization": Utilisation(counts.get(g.id, 0),
                                              g.max_vid - g.min_vid + 1).percent}
            for g in rows}


vlan_groups = Resource(
    "/api/ipam/vlan-groups/", VlanGroup, "VLANGroup", "ipam", GROUP_FIELDS,
    query=vlan_groups_query,
    filters=(("id", "ids"), ("slug", "texts"), ("site_id", "ids"), ("site", "texts"),
             ("q", "text")),
    create=svc.create_vlan_group, update=svc.update_vlan_group,
    delete=svc.delete_vlan_group, what="VLAN group", extra=_group_utilisation,
    brief=lambda g: {"slug": g.slug},
).register()

VLAN_FIELDS = (
    Field("group", "group_id", "ref", VlanGroup, nullable=True),
    Field("vid", kind="int", required=True),
    Field("name", required=True),
    Field("status", kind="choice"),
    Field("role"),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("description"),
)

vlans = Resource(
    "/api/ipam/vlans/", Vlan, "VLAN", "ipam", VLAN_FIELDS, query=vlans_query,
    filters=(("id", "ids"), ("vid", "ids"), ("group_id", "ids"), ("site_id", "ids"),
             ("status", "texts"), ("role", "texts"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=svc.create_vlan, update=svc.update_vlan, delete=svc.delete_vlan, what="VLAN",
    brief=lambda v: {"vid": v.vid},
).register()
