"""A prefix page holding 1,000 child prefixes and 1,000 ranges renders, with all of them.

Not a timed assertion (timings vary by machine); the time is printed for the report and
``benchmarks/``. Utilisation is batched (``inventory.reports.ipam.utilisation_map``), so
the page costs a handful of queries, not thousands.
"""

from __future__ import annotations

import time

import netaddr
from flask import Flask

from inventory.addressing import to_hex
from inventory.ipam.prefixes import create_prefix, prefix_columns
from inventory.models import IpAddress, IpRange, Prefix
from simpul.audit import Actor
from simpul.context import AppContext
from tests.integration.inventory_web.conftest import Seed, signed_in

CHILDREN = 1000


def test_prefix_page_with_1000_children_and_ranges(app: Flask, app_context: AppContext,
                                                   seed: Seed) -> None:
    with app_context.db.session() as s:
        parent = create_prefix(s, Actor.system("test"), prefix="172.16.0.0/16",
                               status="container", description="perf")
        s.flush()
        parent_id = parent.id
        # Bulk rows (the services' checks are covered elsewhere; 2,000 of them would
        # only slow the suite): /28 leaves, each with a range .2-.5 and one address .1.
        subnets = list(netaddr.IPNetwork("172.16.0.0/16").subnet(28))[:CHILDREN]
        s.add_all(Prefix(vrf_id=None, vrf_key=0, status="active", **prefix_columns(net))
                  for net in subnets)
        s.add_all(IpRange(start_address=f"{net[2]}/28", end_address=f"{net[5]}/28",
                          family=4, start_hex=to_hex(int(net[2])), end_hex=to_hex(int(net[5])),
                          vrf_key=0, status="active") for net in subnets)
        s.add_all(IpAddress(address=f"{net[1]}/28", family=4, ip_hex=to_hex(int(net[1])),
                            vrf_key=0, unique_key=0, status="active") for net in subnets)
    client = signed_in(app, "noc")
    timings = []
    for _attempt in range(2):  # the first also compiles the templates
        started = time.perf_counter()
        response = client.get(f"/ipam/prefixes/{parent_id}")
        timings.append((time.perf_counter() - started) * 1000)
    html = response.get_data(as_text=True)
    print(f"\nprefix page with {CHILDREN} children and ranges ({app_context.db.backend}): "
          f"first {timings[0]:.0f} ms, again {timings[1]:.0f} ms")
    assert response.status_code == 200
    assert html.count('class="depth-0"') == CHILDREN
    assert html.count('class="ip-range"') == CHILDREN
    assert "172.16.62.112/28" in html and "172.16.62.114/28" in html  # the 1,000th
    # each /28: .1 plus the 4-address range = 5 of 14 usable
    assert html.count('<span class="pct">35.7%</span>') == CHILDREN
    assert "<code>172.16.62.128/25</code>" in html  # first free space after the children
