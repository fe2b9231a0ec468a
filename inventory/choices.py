"""Allowed values of the inventory's choice fields, with NetBox's names where they match.

Plain tuples (no import-* of choice classes): services validate against them and the
API will publish them in its OpenAPI document.
"""

from __future__ import annotations

SITE_STATUS = ("planned", "staging", "active", "decommissioning", "retired")
LOCATION_KINDS = ("building", "floor", "room", "area")
RACK_STATUS = ("reserved", "available", "planned", "active", "deprecated")
FACES = ("front", "rear")
DEVICE_STATUS = ("offline", "active", "planned", "staged", "failed", "inventory",
                 "decommissioning")
DEVICE_ROLES = ("core", "distribution", "access", "edge", "firewall", "router", "switch",
                "server", "vpn", "radius", "wireless-controller", "access-point", "host",
                "storage", "pdu", "patch-panel", "other")
PLATFORMS = ("ios", "iosxe", "nxos", "eos", "junos", "frr", "routeros", "vyos", "linux",
             "windows", "other")
INTERFACE_TYPES = ("virtual", "lag", "100base-tx", "1000base-t", "10gbase-t", "1000base-x-sfp",
                   "10gbase-x-sfpp", "25gbase-x-sfp28", "40gbase-x-qsfpp", "100gbase-x-qsfp28",
                   "ieee802.11ac", "ieee802.11ax", "other")
CABLE_STATUS = ("connected", "planned", "decommissioning")
OUTLET_KINDS = ("wall-outlet", "patch-port")
OUTLET_STATUS = ("free", "used", "reserved")
FEED_NAMES = ("A", "B")
FEED_STATUS = ("offline", "active", "planned", "failed")

VLAN_STATUS = ("active", "reserved", "deprecated")
PREFIX_STATUS = ("container", "active", "reserved", "deprecated")
RANGE_STATUS = ("active", "reserved", "deprecated")
IP_STATUS = ("active", "reserved", "deprecated", "dhcp")
IP_ROLES = ("", "loopback", "secondary", "anycast", "vip", "vrrp", "hsrp", "glbp", "carp")

VID_MIN, VID_MAX = 1, 4094

# REQUIREMENTS.md: bandwidth is planned at 5 Mbps per user; the leased capacity grows in
# these steps (Mbps).
MBPS_PER_USER = 5
CAPACITY_STEPS_MBPS = (200, 300, 1000)
