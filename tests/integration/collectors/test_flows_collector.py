"""The flow collector on loopback: v9 and IPFIX datagrams over real UDP into the database,
OPD attribution from the inventory, and the JSON API with OPD tenancy."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient

from collectors.flows import queries
from collectors.flows.collector import FlowCollector
from collectors.flows.settings import load_flow_settings
from simpul.context import AppContext
from simpul.db import Database
from simpul.errors import ConfigError
from tests.integration.collectors.flows_fixtures import *  # noqa: F403 (fixtures)
from tests.integration.collectors.flows_fixtures import (
    ipfix_datagram,
    v9_datagram,
    wait_for,
)

DISDIK_HOST, DINKES_HOST, INTERNET = "192.0.2.10", "198.51.100.20", "203.0.113.5"


@pytest.fixture
def collector(flows_inventory: Database) -> Iterator[FlowCollector]:
    settings = load_flow_settings({"SIMPUL_FLOW_PORT": "0", "SIMPUL_FLOW_FLUSH_S": "0.2"})
    col = FlowCollector(flows_inventory, settings)
    col.start()
    yield col
    col.stop()


def _send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for d in datagrams:
            sock.sendto(d, ("127.0.0.1", port))


def _fill(collector: FlowCollector) -> int:
    """Send a known mix of traffic; return the UNIX time the flows ended around."""
    now = int(time.time())
    port = collector.addresses[0][1]
    _send(port,
          b"\x00\x09garbage",  # malformed
          ipfix_datagram([(DISDIK_HOST, INTERNET, 40000, 5201, 6, 0, 0)], now=now,
                         with_template=False, domain=9),  # data before its template
          v9_datagram([(DISDIK_HOST, INTERNET, 51000, 5201, 6, 40_000_000, 27_000),
                       (INTERNET, DISDIK_HOST, 5201, 51000, 6, 1_000_000, 13_000)], now=now),
          ipfix_datagram([(DINKES_HOST, INTERNET, 443, 33000, 6, 5_000_000, 4000),
                          (DINKES_HOST, DISDIK_HOST, 53000, 53, 17, 20_000, 100)], now=now))
    assert wait_for(lambda: collector.stats.records == 4 and collector.stats.malformed == 1)
    assert wait_for(lambda: collector.stats.stored_rows >= 4)
    return now


def test_datagrams_become_top_talkers_with_opds(collector: FlowCollector,
                                                flows_inventory: Database) -> None:
    now = _fill(collector)
    assert collector.stats.no_template == 1
    from datetime import UTC, datetime, timedelta

    until = datetime.fromtimestamp(now, UTC) + timedelta(minutes=1)
    since = until - timedelta(minutes=10)
    with flows_inventory.session(write=False) as s:
        src = queries.top_talkers(s, by="source", since=since, until=until)
        assert [(t.key, t.bytes, t.opd_code) for t in src] == [
            (DISDIK_HOST, 40_000_000, "DISDIK"), (DINKES_HOST, 5_020_000, "DINKES"),
            (INTERNET, 1_000_000, None)]
        svc = queries.top_talkers(s, by="service", since=since, until=until)
        assert [(t.key, t.bytes) for t in svc] == [("tcp/5201", 41_000_000),
                                                  ("tcp/443", 5_000_000),
                                                  ("udp/53", 20_000)]
        opd = {r.opd_code: r for r in queries.opd_traffic(s, since=since, until=until)}
        assert (opd["DISDIK"].bytes_out, opd["DISDIK"].bytes_in) == (40_000_000, 1_020_000)
        exporters = {e.address: e for e in queries.list_exporters(s)}
        assert exporters["127.0.0.1"].malformed == 1
        assert exporters["127.0.0.1"].records == 4


def test_flows_api_with_opd_tenancy(collector: FlowCollector, app_context: AppContext,
                                    flows_client: FlaskClient,
                                    token_headers: Callable[[str], dict[str, str]]) -> None:
    _fill(collector)
    noc, opd_user = token_headers("noc1"), token_headers("dinkes1")
    assert flows_client.get("/api/flows/top-talkers/").status_code in (302, 401)
    body = flows_client.get("/api/flows/top-talkers/?by=destination&minutes=30",
                            headers=noc).get_json()
    assert body["by"] == "destination"
    assert [(r["key"], r["bytes"]) for r in body["results"]] == [
        (INTERNET, 45_000_000), (DISDIK_HOST, 1_020_000)]
    by_opd = flows_client.get("/api/flows/top-talkers/?by=opd", headers=noc).get_json()
    assert [r["label"] for r in by_opd["results"]] == ["DISDIK", "DINKES"]
    # The DINKES user sees only flows from or to DINKES prefixes.
    mine = flows_client.get("/api/flows/top-talkers/?by=source", headers=opd_user).get_json()
    assert [(r["key"], r["bytes"]) for r in mine["results"]] == [(DINKES_HOST, 5_020_000)]
    assert flows_client.get("/api/flows/top-talkers/?opd=DISDIK",
                            headers=opd_user).status_code == 404
    assert flows_client.get("/api/flows/exporters/", headers=opd_user).status_code == 403
    listed = flows_client.get("/api/flows/exporters/", headers=noc).get_json()["results"]
    assert [(e["address"], e["sampling_rate"], e["sampling_source"]) for e in listed] == [
        ("127.0.0.1", 1, None)]  # unsampled: nothing announced, nothing configured
    traffic = flows_client.get("/api/flows/opd-traffic/", headers=opd_user).get_json()
    assert [(r["opd"], r["bytes_out"]) for r in traffic["results"]] == [("DINKES", 5_020_000)]
    series = flows_client.get("/api/flows/series/?minutes=10&step=60", headers=noc).get_json()
    assert len(series["results"]) in (10, 11)
    assert sum(p["bytes"] for p in series["results"]) == 46_020_000
    bad = flows_client.get("/api/flows/top-talkers/?by=colour", headers=noc)
    assert bad.status_code == 400 and "colour" in bad.get_json()["detail"]
    assert flows_client.get("/api/flows/series/?step=61", headers=noc).status_code == 400


def test_busy_port_is_a_clear_error(collector: FlowCollector, flows_inventory: Database) -> None:
    port = collector.addresses[0][1]
    other = FlowCollector(flows_inventory, load_flow_settings({"SIMPUL_FLOW_PORT": str(port)}))
    with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
        other.start()
