"""A small inventory in simpul's own YAML (RFC 5737 / RFC 3849 documentation addresses)."""

from __future__ import annotations

SAMPLE = """\
format: simpul-inventory/1
opds:
- code: DISKOMINFO
  name: Dinas Komunikasi dan Informatika
  operator: true
- code: DINKES
  name: Dinas Kesehatan
sites:
- slug: dc-diskominfo
  name: DC Diskominfo
  opd: DISKOMINFO
- slug: opd-dinkes
  name: Kantor Dinkes
  opd: DINKES
  area: B
racks:
- site: dc-diskominfo
  name: R01
  power_budget_w: 3000
device_types:
- slug: frr-1u
  manufacturer: FRRouting
  model: FRR router 1U
  power_draw_w: 150
- slug: server-2u
  manufacturer: Generic
  model: Server 2U
  u_height: 2
  power_draw_w: 400
vrfs:
- name: opd
  rd: '65000:1'
vlan_groups:
- slug: dinkes-vlans
  site: opd-dinkes
vlans:
- group: dinkes-vlans
  vid: 10
  name: staff
  opd: DINKES
prefixes:
- prefix: 192.0.2.0/24
  status: container
- prefix: 192.0.2.0/26
  role: management
- prefix: 198.51.100.0/24
  role: lan
  site: opd-dinkes
  opd: DINKES
  vlan: 10
  vlan_group: dinkes-vlans
- prefix: 203.0.113.0/31
  role: p2p
- prefix: 203.0.113.64/26
  vrf: opd
- prefix: 2001:db8:1::/64
  role: lan
devices:
- name: core1
  site: dc-diskominfo
  device_type: frr-1u
  role: core
  platform: frr
  rack: R01
  position: 10
  opd: DISKOMINFO
  primary_ip4: 192.0.2.11
  interfaces:
  - name: eth0
    description: management
    addresses:
    - 192.0.2.11/26
  - name: eth1
    addresses:
    - 203.0.113.0/31
- name: acc-b
  site: opd-dinkes
  device_type: frr-1u
  role: access
  platform: frr
  opd: DINKES
  primary_ip4: 192.0.2.32
  interfaces:
  - name: eth0
    addresses:
    - 192.0.2.32/26
  - name: eth1
    addresses:
    - 203.0.113.1/31
  - name: br0
    type: virtual
    addresses:
    - address: 198.51.100.1/24
      dns_name: gw.dinkes.example
    - 2001:db8:1::1/64
- name: srv1
  site: dc-diskominfo
  device_type: server-2u
  role: server
  platform: linux
  rack: R01
  position: 1
  primary_ip4: 192.0.2.51
  interfaces:
  - name: eth0
    addresses:
    - 192.0.2.51/26
ip_addresses:
- address: 198.51.100.200/24
  status: reserved
  opd: DINKES
  description: printer
- address: 203.0.113.70/26
  vrf: opd
cables:
- a: core1:eth1
  b: acc-b:eth1
"""


def line_of(text: str, needle: str) -> int:
    """Return the 1-based line of the first line of *text* containing *needle*."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the sample")
