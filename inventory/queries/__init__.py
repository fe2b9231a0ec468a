"""Filtered SELECTs over the inventory, with NetBox's filter names, and OPD tenancy scopes.

The API (and any other list view) builds its pages from these: each ``*_query`` returns
an ordered ``select()`` that the caller may paginate, count or narrow further, so the
count of a page and its rows always come from one statement. Parameter names follow
NetBox's filter sets (``site_id``, ``site`` = slug, ``tenant`` = OPD code, ``within``,
``parent``, ``q``…); list-valued ones match any of their values, as repeated query
parameters do in NetBox. Ordering always ends in a unique key, so pages never overlap.

``scope_to_opd`` holds the one definition of "what belongs to an OPD", used for every
list and every lookup by id an OPD user makes.
"""

from __future__ import annotations

from inventory.queries.base import scope_to_opd
from inventory.queries.dcim import (
    cables_query,
    device_types_query,
    devices_query,
    interfaces_query,
    locations_query,
    manufacturers_query,
    power_feeds_query,
    rack_power_draws,
    rack_reservations_query,
    rack_units_used,
    racks_query,
    sites_query,
    tenants_query,
    wall_outlets_query,
)
from inventory.queries.ipam import (
    bandwidth_allocations_query,
    ip_addresses_query,
    ip_ranges_query,
    prefixes_query,
    vlan_counts,
    vlan_groups_query,
    vlans_query,
    vrfs_query,
)

__all__ = [
    "bandwidth_allocations_query",
    "cables_query",
    "device_types_query",
    "devices_query",
    "interfaces_query",
    "ip_addresses_query",
    "ip_ranges_query",
    "locations_query",
    "manufacturers_query",
    "power_feeds_query",
    "prefixes_query",
    "rack_power_draws",
    "rack_reservations_query",
    "rack_units_used",
    "racks_query",
    "scope_to_opd",
    "sites_query",
    "tenants_query",
    "vlan_counts",
    "vlan_groups_query",
    "vlans_query",
    "vrfs_query",
    "wall_outlets_query",
]
