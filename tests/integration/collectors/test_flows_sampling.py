"""Sampled exporters over real UDP into the database: top talkers show the real volume
(scaled by the announced 1-in-N rate) and the exporter listing says "sampled 1:N"."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from collectors.cli import collectors
from collectors.flows import queries
from collectors.flows.collector import FlowCollector
from collectors.flows.settings import load_flow_settings
from simpul.context import AppContext
from simpul.db import Database
from tests.integration.collectors.flows_fixtures import *  # noqa: F403 (fixtures)
from tests.integration.collectors.flows_fixtures import (
    _set,
    ip4,
    ipfix_datagram,
    wait_for,
)

DISDIK_HOST, DINKES_HOST, INTERNET = "192.0.2.10", "198.51.100.20", "203.0.113.5"
V5_EXPORTER, IPFIX_EXPORTER = "127.0.0.31", "127.0.0.32"


@pytest.fixture
def collector(flows_inventory: Database) -> Iterator[FlowCollector]:
    # 127.0.0.33 samples without saying so: 1 in 50 from the setting.
    settings = load_flow_settings({"SIMPUL_FLOW_PORT": "0", "SIMPUL_FLOW_FLUSH_S": "0.2",
                                   "SIMPUL_FLOW_SAMPLING": "127.0.0.33=50"})
    col = FlowCollector(flows_inventory, settings)
    col.start()
    yield col
    col.stop()


def _send(port: int, source: str, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for d in datagrams:
            sock.sendto(d, ("127.0.0.1", port))


def _v5(now: int, octets: int, pkts: int, sampling: int) -> bytes:
    """One v5 record DISDIK → internet, tcp/443, ended 1 s before *now*."""
    uptime = 3_600_000
    head = struct.pack("!HHIIIIBBH", 5, 1, uptime, now, 0, 1, 0, 0, sampling)
    return head + struct.pack("!IIIHHIIIIHHBBBBHHBBH", ip4(DISDIK_HOST), ip4(INTERNET), 0, 1,
                              2, pkts, octets, uptime - 3000, uptime - 1000, 50000, 443, 0,
                              0x18, 6, 0, 0, 0, 24, 24, 0)


def _ipfix_psamp(now: int) -> bytes:
    """PSAMP options (scope observationDomainId 149; samplingPacketInterval 305 = 1,
    samplingPacketSpace 306 = 999: 1 in 1000) and their data, no flow records."""
    opts = struct.pack("!HHH", 400, 3, 1) + struct.pack("!HHHHHH", 149, 4, 305, 4, 306, 4)
    sets = _set(3, opts) + _set(400, struct.pack("!III", 1, 1, 999))
    return struct.pack("!HHIII", 10, 16 + len(sets), now, 0, 1) + sets


def test_sampled_exporters_show_real_volumes(collector: FlowCollector,
                                             app_context: AppContext) -> None:
    now = int(time.time())
    port = collector.addresses[0][1]
    flow = (DINKES_HOST, INTERNET, 443, 33000, 6, 5_000, 4)
    # v5 announcing 1 in 100 (mode 1) in its header.
    _send(port, V5_EXPORTER, _v5(now, 12_000, 10, 0x4000 | 100))
    # IPFIX: data before its template (no_template), data before the sampling options
    # (counted as is), the options, then data scaled 1 000 times.
    _send(port, IPFIX_EXPORTER,
          ipfix_datagram([flow], now=now, with_template=False),
          ipfix_datagram([flow], now=now),
          _ipfix_psamp(now),
          ipfix_datagram([flow], now=now, with_template=False))
    # IPFIX that announces nothing, from the exporter configured 1 in 50.
    _send(port, "127.0.0.33", ipfix_datagram([(INTERNET, DISDIK_HOST, 443, 50000, 6, 700, 1)],
                                             now=now))
    assert wait_for(lambda: collector.stats.records == 4)
    until = datetime.fromtimestamp(now, UTC) + timedelta(minutes=1)
    since = until - timedelta(minutes=10)

    def by_exporter() -> dict[str, tuple[int, int, int]]:
        with app_context.db.session(write=False) as s:
            return {t.key: (t.bytes, t.packets, t.flows) for t in queries.top_talkers(
                s, by="exporter", since=since, until=until)}

    expected = {V5_EXPORTER: (1_200_000, 1000, 1),
                IPFIX_EXPORTER: (5_000 + 5_000_000, 4 + 4000, 2),
                "127.0.0.33": (35_000, 50, 1)}
    wait_for(lambda: by_exporter() == expected)
    assert by_exporter() == expected
    with app_context.db.session(write=False) as s:
        opd = {r.opd_code: r for r in queries.opd_traffic(s, since=since, until=until)}
        assert opd["DISDIK"].bytes_out == 1_200_000 and opd["DISDIK"].bytes_in == 35_000
        exporters = {e.address: e for e in queries.list_exporters(s)}
        assert (exporters[V5_EXPORTER].sampling_rate,
                exporters[V5_EXPORTER].sampling_source) == (100, "header")
        assert (exporters[IPFIX_EXPORTER].sampling_rate,
                exporters[IPFIX_EXPORTER].sampling_source) == (1000, "announced")
        assert exporters[IPFIX_EXPORTER].no_template == 1
        assert exporters["127.0.0.33"].sampling_rate == 50
    result = CliRunner().invoke(collectors, ["flows", "exporters"], obj={"app": app_context},
                                catch_exceptions=False)
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "sampled 1:100 (header)" in lines[V5_EXPORTER]
    assert "sampled 1:1000 (announced)" in lines[IPFIX_EXPORTER]
    assert "sampled 1:50 (configured)" in lines["127.0.0.33"]


def test_unsampled_exporter_is_listed_as_unsampled(collector: FlowCollector,
                                                   app_context: AppContext) -> None:
    now = int(time.time())
    _send(collector.addresses[0][1], "127.0.0.34",
          ipfix_datagram([(DISDIK_HOST, INTERNET, 40000, 443, 6, 900, 3)], now=now))
    assert wait_for(lambda: collector.stats.stored_rows >= 4)
    with app_context.db.session(write=False) as s:
        exp = {e.address: e for e in queries.list_exporters(s)}["127.0.0.34"]
        assert (exp.sampling_rate, exp.sampling_source, exp.records) == (1, None, 1)
