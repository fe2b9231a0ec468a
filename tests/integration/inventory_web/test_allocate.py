"""The "allocate next IP" form: allocates through the service, with CSRF and roles."""

from __future__ import annotations

import re

from flask import Flask

from inventory.ipam.addresses import list_ip_addresses
from inventory.models import Prefix
from simpul.audit import list_entries
from simpul.context import AppContext
from tests.integration.inventory_web.conftest import Seed, csrf, signed_in


def _addresses(app_context: AppContext, prefix_id: int) -> list[str]:
    with app_context.db.session() as s:
        parent = s.get(Prefix, prefix_id)
        return [ip.address for ip in list_ip_addresses(s, parent=parent)]


def test_allocates_next_address_and_shows_it(app: Flask, app_context: AppContext,
                                             seed: Seed) -> None:
    client = signed_in(app, "infra")
    path = f"/ipam/prefixes/{seed['mgmt']}"
    page = client.get(path).get_data(as_text=True)
    assert "Allocate next IP" in page and "<code>10.10.1.2</code>" in page
    response = client.post(f"{path}/allocate", data={
        "csrf_token": csrf(client, path), "description": "kamera <CCTV>",
        "dns_name": "cctv1.dc", "status": "active", "expires_at": "2099-01-01T08:00"})
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'role="status">[^<]*10\.10\.1\.2/24', shown)
    assert "kamera &lt;CCTV&gt;" in shown and "<code>10.10.1.3</code>" in shown
    assert _addresses(app_context, seed["mgmt"]) == ["10.10.1.1/24", "10.10.1.2/24"]
    with app_context.db.session() as s:
        entry = list_entries(s, action="ipaddress.allocate")[0]
        assert entry.channel == "web" and entry.actor_name == "infra"
        assert entry.after["dns_name"] == "cctv1.dc"
        assert entry.after["expires_at"].startswith("2099-01-01T01:00")  # 08:00 WIB in UTC


def test_refuses_without_csrf_past_expiry_and_for_requester(app: Flask, app_context: AppContext,
                                                             seed: Seed) -> None:
    infra = signed_in(app, "infra")
    path = f"/ipam/prefixes/{seed['mgmt']}"
    no_token = infra.post(f"{path}/allocate", data={"status": "active"})
    assert no_token.status_code == 400
    past = infra.post(f"{path}/allocate", data={"csrf_token": csrf(infra, path),
                                                "status": "active",
                                                "expires_at": "2001-01-01T00:00"})
    assert past.status_code == 400 and "must be in the future" in past.get_data(as_text=True)
    container = infra.post(f"/ipam/prefixes/{seed['top']}/allocate", data={
        "csrf_token": csrf(infra, path), "status": "active"})
    assert container.status_code == 400 and "is a container" in container.get_data(as_text=True)
    rina = signed_in(app, "rina")
    own = f"/ipam/prefixes/{seed['pdk']}"
    refused = rina.post(f"{own}/allocate", data={"csrf_token": csrf(rina, own),
                                                 "status": "active"})
    assert refused.status_code == 403
    assert _addresses(app_context, seed["mgmt"]) == ["10.10.1.1/24"]
    assert _addresses(app_context, seed["pdk"]) == ["10.10.2.10/24"]
