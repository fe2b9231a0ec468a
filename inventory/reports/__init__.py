"""Read-only view models for the inventory web pages (IPAM and DCIM), re-exported.

The pages need shapes the services do not return — a prefix with its depth and
utilisation, a rack with every device and reservation on it — built here in as few
queries as possible. Every ``opd_id`` argument scopes an answer to one tenant (None:
Diskominfo staff, who see everything).
"""

from __future__ import annotations

from inventory.reports.common import Page, paginate
from inventory.reports.dcim import (
    DeviceRow,
    InterfaceRow,
    RackDevice,
    RackHold,
    RackRow,
    RackView,
    SiteRow,
    device_page,
    interface_rows,
    rack_page,
    rack_rows,
    rack_view,
    site_page,
)
from inventory.reports.ipam import (
    IpRow,
    PrefixDetail,
    PrefixRow,
    RangeRow,
    VlanGroupView,
    VrfRow,
    ip_address_page,
    prefix_detail,
    prefix_tree,
    site_prefixes,
    utilisation_map,
    vlan_groups,
    vrf_rows,
)

__all__ = [
    "DeviceRow",
    "InterfaceRow",
    "IpRow",
    "Page",
    "PrefixDetail",
    "PrefixRow",
    "RackDevice",
    "RackHold",
    "RackRow",
    "RackView",
    "RangeRow",
    "SiteRow",
    "VlanGroupView",
    "VrfRow",
    "device_page",
    "interface_rows",
    "ip_address_page",
    "paginate",
    "prefix_detail",
    "prefix_tree",
    "rack_page",
    "rack_rows",
    "rack_view",
    "site_page",
    "site_prefixes",
    "utilisation_map",
    "vlan_groups",
    "vrf_rows",
]
