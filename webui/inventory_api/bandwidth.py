"""``/api/ipam/bandwidth-allocations/``: each OPD's internet quota (users, committed Mbps).

Not a NetBox object, so the path follows NetBox's naming under ``ipam`` and the
payload its conventions (``tenant``/``site`` as nested refs, ``?tenant=CODE``). The
read-only ``planned_mbps`` is the plan's 5 Mbps per user (REQUIREMENTS.md), beside the
committed figure. OPD users see only their OPD's quotas; writing is for Diskominfo's
infrastructure staff, like the rest of IPAM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from inventory.ipam import utilisation as svc
from inventory.models import BandwidthAllocation, Site
from inventory.queries import bandwidth_allocations_query
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field

FIELDS = (
    Field("tenant", "opd_id", "ref", Opd, required=True),
    Field("site", "site_id", "ref", Site, nullable=True),
    Field("users", kind="int", required=True),
    Field("committed_mbps", kind="int"),
    Field("description"),
)


def _planned(session: Session, rows: Sequence[BandwidthAllocation]
             ) -> dict[int, dict[str, Any]]:
    return {row.id: {"planned_mbps": svc.planned_mbps(row.users)} for row in rows}


bandwidth_allocations = Resource(
    "/api/ipam/bandwidth-allocations/", BandwidthAllocation, "BandwidthAllocation", "ipam",
    FIELDS, query=bandwidth_allocations_query,
    filters=(("id", "ids"), ("site_id", "ids"), ("site", "texts"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=svc.create_bandwidth_allocation, update=svc.update_bandwidth_allocation,
    delete=svc.delete_bandwidth_allocation, extra=_planned, what="bandwidth allocation",
    brief=lambda b: {"users": b.users, "committed_mbps": b.committed_mbps},
).register()
