"""Building blocks of the inventory filters, and the one definition of OPD tenancy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import netaddr
from sqlalchemy import Select, and_, false, func, or_, select

from inventory.addressing import parse_network, to_hex
from inventory.models import (
    Cable,
    CableTermination,
    Device,
    DeviceType,
    Interface,
    Location,
    Manufacturer,
    PowerFeed,
    Rack,
    Site,
    VlanGroup,
)
from inventory.service import invalid
from simpul.models import Opd

Ids = Sequence[int]
Texts = Sequence[str]


def in_(stmt: Select[Any], column: Any, values: Sequence[Any] | None) -> Select[Any]:
    """Keep rows whose *column* is any of *values* (no condition when none are given)."""
    return stmt.where(column.in_(list(values))) if values else stmt


def site_slug(stmt: Select[Any], column: Any, slugs: Texts | None) -> Select[Any]:
    """NetBox's ``site=<slug>``: a subquery, so no extra round trip."""
    if not slugs:
        return stmt
    return stmt.where(column.in_(select(Site.id).where(Site.slug.in_(list(slugs)))))


def tenant_of(stmt: Select[Any], column: Any, ids: Ids | None, codes: Texts | None
              ) -> Select[Any]:
    """NetBox's ``tenant_id`` and ``tenant`` (here the OPD code, any case)."""
    stmt = in_(stmt, column, ids)
    if codes:
        upper = [c.strip().upper() for c in codes]
        stmt = stmt.where(column.in_(select(Opd.id).where(func.upper(Opd.code).in_(upper))))
    return stmt


def search(stmt: Select[Any], q: str | None, *columns: Any) -> Select[Any]:
    """Case-insensitive substring search over *columns* (``%`` and ``_`` taken literally)."""
    if not q or not q.strip():
        return stmt
    text = q.strip()
    return stmt.where(or_(*(c.icontains(text, autoescape=True) for c in columns)))


def networks(field: str, texts: Texts | None) -> list[netaddr.IPNetwork]:
    """Parse prefix filter values; a bad one is a 400 keyed by the parameter."""
    nets = []
    for text in texts or ():
        try:
            nets.append(parse_network(text))
        except ValueError as exc:
            raise invalid(field, str(exc)) from None
    return nets


def vrf_filter(stmt: Select[Any], key_column: Any, vrf_ids: Sequence[int | None] | None
               ) -> Select[Any]:
    """``vrf_id`` filter; None stands for the global table (NetBox's ``vrf_id=null``)."""
    if not vrf_ids:
        return stmt
    return stmt.where(key_column.in_([v or 0 for v in vrf_ids]))



def _opd_sites(opd_id: int) -> Select[Any]:
    return select(Site.id).where(Site.opd_id == opd_id)


def _opd_devices(opd_id: int) -> Select[Any]:
    return select(Device.id).where(Device.opd_id == opd_id)


def scope_to_opd(model: type, stmt: Select[Any], opd_id: int) -> Select[Any]:
    """Narrow *stmt* over *model* to what the OPD *opd_id* owns.

    Objects with a tenant column belong to that OPD; locations and VLAN groups to the
    OPD of their site, interfaces to the OPD of their device, cables to an OPD holding
    one of their ends, power feeds to the OPD of their rack. Manufacturers and device
    types are a shared catalogue that every signed-in user may read.
    """
    if model is Opd:
        return stmt.where(Opd.id == opd_id)
    if model in (Manufacturer, DeviceType):
        return stmt
    if model in (Location, VlanGroup):
        return stmt.where(model.site_id.in_(_opd_sites(opd_id)))
    if model is Interface:
        return stmt.where(Interface.device_id.in_(_opd_devices(opd_id)))
    if model is PowerFeed:
        return stmt.where(PowerFeed.rack_id.in_(select(Rack.id).where(Rack.opd_id == opd_id)))
    if model is Cable:
        ends = select(CableTermination.cable_id).join(
            Interface, CableTermination.interface_id == Interface.id).where(
            Interface.device_id.in_(_opd_devices(opd_id)))
        return stmt.where(Cable.id.in_(ends))
    column = getattr(model, "opd_id", None)
    if column is None:
        return stmt.where(false())  # unknown shape: show nothing rather than everything
    return stmt.where(column == opd_id)


def inside(family: Any, first: Any, last: Any, nets: list[netaddr.IPNetwork],
           strict_length: Any = None) -> Any:
    """OR of "the span [first, last] lies inside one of *nets*"."""
    terms = []
    for net in nets:
        term = [family == net.version, first >= to_hex(net.first), last <= to_hex(net.last)]
        if strict_length is not None:
            term.append(strict_length > net.prefixlen)
        terms.append(and_(*term))
    return or_(*terms)
