"""The OpenAPI document covers every inventory route and validates; pages cost O(1) queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import event

from inventory.dcim import devices, interfaces
from inventory.ipam import addresses
from simpul.audit import Actor
from simpul.context import AppContext

Auth = Callable[..., dict[str, str]]


# The document does not depend on the database: one backend is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_document_validates_and_covers_every_route(app: Flask, client: FlaskClient,
                                                   auth: Auth) -> None:
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routes = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "inventory_api":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", "{id}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes += 1
            assert (path, method.lower()) in documented, f"{method} {path} is not documented"
    assert routes >= 60
    index = client.get("/api/ipam/", headers=auth("noc")).get_json()
    assert index["prefixes"].endswith("/api/ipam/prefixes/") and "ip-addresses" in index
    operation_ids = [op["operationId"] for ops in document["paths"].values()
                     for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    prefix_list = document["paths"]["/api/ipam/prefixes/"]["get"]
    assert {"within", "parent", "q", "tenant"} <= {p["name"] for p in prefix_list["parameters"]}


@contextmanager
def _counting(app_context: AppContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(app_context.db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(app_context.db.engine, "before_cursor_execute", before)


def test_pages_do_not_query_per_row(client: FlaskClient, auth: Auth, world: dict[str, int],
                                    app_context: AppContext) -> None:
    h = auth("noc")
    client.get("/api/dcim/devices/", headers=h)  # warm up token lookup paths

    def queries(url: str) -> int:
        with _counting(app_context) as seen:
            assert client.get(url, headers=h).status_code == 200
        return len(seen)

    actor = Actor.system("test")

    def add(first: int, last: int) -> None:
        with app_context.db.session() as s:
            for n in range(first, last):
                dev = devices.create_device(s, actor, name=f"ap-{n}", role="access-point",
                                            device_type_id=world["dtype"],
                                            site_id=world["dinkes_site"],
                                            opd_id=world["dinkes_opd"])
                s.flush()
                iface = interfaces.create_interface(s, actor, device_id=dev.id, name="eth0")
                s.flush()
                addresses.create_ip_address(s, actor, address=f"10.1.0.{100 + n}/24",
                                            interface_id=iface.id, opd_id=world["dinkes_opd"])

    urls = ("/api/dcim/devices/", "/api/ipam/ip-addresses/", "/api/dcim/interfaces/")
    add(0, 1)
    small = {url: queries(url) for url in urls}
    add(1, 21)
    assert {url: queries(url) for url in urls} == small
