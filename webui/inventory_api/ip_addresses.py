"""``/api/ipam/ip-addresses/`` and ``/api/ipam/ip-ranges/``.

An address is assigned to an interface as in NetBox: ``assigned_object_type`` is
``"dcim.interface"`` and ``assigned_object_id`` the interface's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from inventory.ipam import addresses as svc
from inventory.models import Interface, IpAddress, IpRange, Vrf
from inventory.queries import ip_addresses_query, ip_ranges_query
from simpul.audit import Actor
from simpul.errors import ValidationError
from simpul.models import Opd
from webui.inventory_api.resource import Resource
from webui.inventory_api.serializers import Field, brief, prefetch

INTERFACE_TYPE = "dcim.interface"

# What an address takes besides the address itself (also the body of available-ips).
ASSIGNMENT_FIELDS = (
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("status", kind="choice"),
    Field("role", kind="choice", nullable=True),
    Field("assigned_object_type", kind="virtual", nullable=True),
    Field("assigned_object_id", "interface_id", "int", nullable=True),
    Field("dns_name"),
    Field("description"),
    Field("expires_at", kind="datetime", nullable=True),
)
IP_FIELDS = (
    Field("address", required=True),
    Field("family", kind="family", mode="ro"),
    Field("vrf", "vrf_id", "ref", Vrf, nullable=True),
    *ASSIGNMENT_FIELDS,
)


def check_assignment(values: dict[str, Any]) -> dict[str, Any]:
    """Drop ``assigned_object_type`` after checking it names an interface (all we assign).

    Also reads NetBox's ``"role": null`` as no role (stored as "").
    """
    if "role" in values and values["role"] is None:
        values["role"] = ""
    kind = values.pop("assigned_object_type", INTERFACE_TYPE)
    if kind is None and values.get("interface_id") is None:
        return values
    if kind != INTERFACE_TYPE:
        raise ValidationError(f"assigned_object_type: only {INTERFACE_TYPE} is supported",
                              errors={"assigned_object_type": [f"must be {INTERFACE_TYPE}"]})
    return values


def _create(session: Session, actor: Actor, **values: Any) -> IpAddress:
    return svc.create_ip_address(session, actor, **check_assignment(values))


def _update(session: Session, actor: Actor, ip_id: int, **values: Any) -> IpAddress:
    return svc.update_ip_address(session, actor, ip_id, **check_assignment(values))


def _assigned(session: Session, rows: Sequence[IpAddress]) -> dict[int, dict[str, Any]]:
    """The interface each address sits on, with its device (two queries per page)."""
    prefetch(session, {Interface: {ip.interface_id for ip in rows if ip.interface_id}})
    out = {}
    for ip in rows:
        iface = session.get(Interface, ip.interface_id) if ip.interface_id else None
        out[ip.id] = {"assigned_object_type": INTERFACE_TYPE if iface else None,
                      "assigned_object": brief(session, iface)}
    return out


ip_addresses = Resource(
    "/api/ipam/ip-addresses/", IpAddress, "IPAddress", "ipam", IP_FIELDS,
    query=ip_addresses_query,
    filters=(("id", "ids"), ("vrf_id", "vrf"), ("family", "int"), ("parent", "texts"),
             ("address", "texts"), ("mask_length", "ids"), ("status", "texts"),
             ("role", "texts"), ("dns_name", "texts"), ("interface_id", "ids"),
             ("device_id", "ids"), ("assigned", "bool"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=_create, update=_update, delete=svc.delete_ip_address, what="IP address",
    brief=lambda ip: {"address": ip.address, "family": ip.family}, extra=_assigned,
).register()

RANGE_FIELDS = (
    Field("start_address", required=True),
    Field("end_address", required=True),
    Field("family", kind="family", mode="ro"),
    Field("vrf", "vrf_id", "ref", Vrf, nullable=True),
    Field("status", kind="choice"),
    Field("role"),
    Field("tenant", "opd_id", "ref", Opd, nullable=True),
    Field("description"),
)

ip_ranges = Resource(
    "/api/ipam/ip-ranges/", IpRange, "IPRange", "ipam", RANGE_FIELDS,
    query=ip_ranges_query,
    filters=(("id", "ids"), ("vrf_id", "vrf"), ("family", "int"), ("parent", "texts"),
             ("status", "texts"), ("role", "texts"), ("tenant_id", "ids"),
             ("tenant", "texts"), ("q", "text")),
    create=svc.create_ip_range, update=svc.update_ip_range, delete=svc.delete_ip_range,
    what="IP range",
    extra=lambda session, rows: {r.id: {"size": int(r.end_hex, 16) - int(r.start_hex, 16) + 1}
                                 for r in rows},
).register()
