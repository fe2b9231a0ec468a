"""Sampled NetFlow v5/v9 and IPFIX: bytes and packets scaled by the announced 1-in-N rate.

Packets are built byte by byte (RFC 3954 §5-6, RFC 7011 §3, RFC 5477 PSAMP elements);
addresses are RFC 5737 documentation addresses and every expected value is literal.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.flows.collector import FlowCollector
from collectors.flows.models import KIND_SOURCE
from collectors.flows.netflow import FlowDecoder, MalformedPacket
from collectors.flows.sampling import normal_rate, rate_text, v5_rate
from collectors.flows.settings import load_flow_settings
from simpul.errors import ConfigError

SRC = 0xC0000201  # 192.0.2.1
DST = 0xC6336402  # 198.51.100.2
EXPORTER = "203.0.113.9"
OTHER = "203.0.113.10"
NOW = 1_700_000_000


def flowset(set_id: int, body: bytes) -> bytes:
    """A FlowSet / Set: id, length including the 4-byte header, body padded to 4."""
    pad = (-(len(body) + 4)) % 4
    return struct.pack("!HH", set_id, len(body) + 4 + pad) + body + b"\x00" * pad


def fields(spec: list[tuple[int, int]]) -> bytes:
    return b"".join(struct.pack("!HH", ie, n) for ie, n in spec)


# --- NetFlow v5 -----------------------------------------------------------------------

def v5(records: list[tuple[int, int]], sampling: int = 0, uptime: int = 100_000) -> bytes:
    """A v5 datagram whose records are ``(bytes, packets)``; *sampling* is the raw
    16-bit header field (2 bits mode, 14 bits interval)."""
    head = struct.pack("!HHIIIIBBH", 5, len(records), uptime, NOW, 0, 1, 0, 0, sampling)
    return head + b"".join(
        struct.pack("!IIIHHIIIIHHBBBBHHBBH", SRC, DST, 0, 1, 2, pkts, octets, 90_000,
                    99_000, 40000, 443, 0, 0x18, 6, 0, 0, 0, 24, 24, 0)
        for octets, pkts in records)


def volumes(recs: list[tuple]) -> list[tuple[int, int]]:
    return [(r[5], r[6]) for r in recs]


@pytest.mark.parametrize(("field", "expected"), [
    (0, [(1500, 3)]),                  # not sampled
    (0x4000 | 100, [(150_000, 300)]),  # mode 1 (deterministic), 1 in 100
    (0x8000 | 512, [(768_000, 1536)]),  # mode 2 (random), 1 in 512
    (0x3FFF, [(1500 * 16383, 3 * 16383)]),  # the largest 14-bit interval
])
def test_v5_header_sampling_interval(field: int, expected: list[tuple[int, int]]) -> None:
    dec = FlowDecoder()
    assert volumes(dec.decode(v5([(1500, 3)], sampling=field), EXPORTER)[1]) == expected
    assert dec.last_sampling == ((field & 0x3FFF or 1), "header" if field else "")


def test_v5_configured_rate_when_not_announced_and_forced() -> None:
    dec = FlowDecoder({EXPORTER: (1000, False), OTHER: (10, True)})
    # Announces nothing: the configured 1:1000.
    assert volumes(dec.decode(v5([(100, 1)]), EXPORTER)[1]) == [(100_000, 1000)]
    assert dec.last_sampling == (1000, "configured")
    # Announces 1:64: the exporter knows best, unless the setting is forced.
    assert volumes(dec.decode(v5([(100, 1)], sampling=0x4000 | 64), EXPORTER)[1]) == [
        (6400, 64)]
    assert volumes(dec.decode(v5([(100, 1)], sampling=0x4000 | 64), OTHER)[1]) == [(1000, 10)]
    # Another exporter is left alone.
    assert volumes(dec.decode(v5([(100, 1)]), "203.0.113.11")[1]) == [(100, 1)]


# --- NetFlow v9 -----------------------------------------------------------------------

V9_DATA = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4)]
V9_DATA_SAMPLER = [*V9_DATA, (48, 1)]  # FLOW_SAMPLER_ID in every record


def v9(*sets: bytes, source_id: int = 7) -> bytes:
    return struct.pack("!HHIIII", 9, len(sets), 100_000, NOW, 1, source_id) + b"".join(sets)


def v9_template(tid: int, spec: list[tuple[int, int]]) -> bytes:
    return flowset(0, struct.pack("!HH", tid, len(spec)) + fields(spec))


def v9_options_template(tid: int, scope: list[tuple[int, int]],
                        options: list[tuple[int, int]]) -> bytes:
    """RFC 3954 §6.1: template ID, scope length, option length (bytes), fields."""
    return flowset(1, struct.pack("!HHH", tid, 4 * len(scope), 4 * len(options))
                   + fields(scope) + fields(options))


def v9_flow(octets: int, pkts: int, sampler: int | None = None) -> bytes:
    rec = struct.pack("!IIHHBIIII", SRC, DST, 51000, 5201, 6, octets, pkts, 95_000, 99_000)
    return rec if sampler is None else rec + struct.pack("!B", sampler)


# Cisco's random sampler table: scope System, FLOW_SAMPLER_ID (48), FLOW_SAMPLER_MODE (49),
# FLOW_SAMPLER_RANDOM_INTERVAL (50).
SAMPLER_TABLE = v9_options_template(258, [(1, 4)], [(48, 1), (49, 1), (50, 4)])


def sampler_rows(*rows: tuple[int, int]) -> bytes:
    return flowset(258, b"".join(struct.pack("!IBBI", 0, sid, 2, n) for sid, n in rows))


def test_v9_sampling_interval_before_and_after_the_options_arrive() -> None:
    dec = FlowDecoder()
    flow = flowset(256, v9_flow(1000, 2))
    # Options data before its template: nothing learnt, counted as without template.
    interval = flowset(257, struct.pack("!II", 0, 100))
    dec.decode(v9(v9_template(256, V9_DATA), interval), EXPORTER)
    assert dec.stats.no_template == 1
    # Flow records before the rate is known are counted as they are (as nfdump does).
    assert volumes(dec.decode(v9(flow), EXPORTER)[1]) == [(1000, 2)]
    # Scope System (1), SAMPLING_INTERVAL (34): from now on, 1 in 100.
    dec.decode(v9(v9_options_template(257, [(1, 4)], [(34, 4)]), interval), EXPORTER)
    assert volumes(dec.decode(v9(flow, flow), EXPORTER)[1]) == [(100_000, 200)] * 2
    assert dec.last_sampling == (100, "announced")
    # Other source IDs and other exporters have their own options.
    assert volumes(dec.decode(v9(v9_template(256, V9_DATA), flow, source_id=8),
                              EXPORTER)[1]) == [(1000, 2)]
    assert volumes(dec.decode(v9(v9_template(256, V9_DATA), flow), OTHER)[1]) == [(1000, 2)]
    # A new announcement (sampling reconfigured) replaces the old rate.
    dec.decode(v9(flowset(257, struct.pack("!II", 0, 10))), EXPORTER)
    assert volumes(dec.decode(v9(flow), EXPORTER)[1]) == [(10_000, 20)]


def test_v9_records_naming_their_sampler() -> None:
    dec = FlowDecoder()
    dec.decode(v9(v9_template(256, V9_DATA_SAMPLER), SAMPLER_TABLE,
                  sampler_rows((1, 100), (2, 1000))), EXPORTER)
    data = flowset(256, v9_flow(500, 1, sampler=1) + v9_flow(500, 1, sampler=2)
                   + v9_flow(500, 1, sampler=9))  # 9: never announced
    assert volumes(dec.decode(v9(data), EXPORTER)[1]) == [
        (50_000, 100), (500_000, 1000), (500, 1)]


def test_v9_one_sampler_applies_to_records_that_do_not_name_it() -> None:
    dec = FlowDecoder()
    # Template, then flow data, then the sampler table, then more data, in one datagram.
    pkt = v9(v9_template(256, V9_DATA), flowset(256, v9_flow(700, 7)), SAMPLER_TABLE,
             sampler_rows((3, 50)), flowset(256, v9_flow(700, 7)))
    assert volumes(dec.decode(pkt, EXPORTER)[1]) == [(700, 7), (35_000, 350)]


def test_v9_sampler_id_in_the_scope_and_forced_setting() -> None:
    # Some exporters put FLOW_SAMPLER_ID in the scope: read it, not as a scope type.
    table = v9_options_template(259, [(48, 2)], [(50, 2)])
    rows = flowset(259, struct.pack("!HH", 4, 256) + struct.pack("!HH", 5, 2))
    data = flowset(256, v9_flow(10, 1, sampler=4) + v9_flow(10, 1, sampler=5))
    dec = FlowDecoder()
    dec.decode(v9(v9_template(256, V9_DATA_SAMPLER), table, rows), EXPORTER)
    assert volumes(dec.decode(v9(data), EXPORTER)[1]) == [(2560, 256), (20, 2)]
    forced = FlowDecoder({EXPORTER: (8, True)})
    forced.decode(v9(v9_template(256, V9_DATA_SAMPLER), table, rows), EXPORTER)
    assert volumes(forced.decode(v9(data), EXPORTER)[1]) == [(80, 8), (80, 8)]
    assert forced.last_sampling == (8, "configured")


# --- IPFIX ----------------------------------------------------------------------------

IPFIX_DATA = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]
IPFIX_DATA_SELECTOR = [*IPFIX_DATA, (302, 4)]  # selectorId in every record


def ipfix(*sets: bytes, domain: int = 1) -> bytes:
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), NOW, 1, domain) + body


def ipfix_template(tid: int, spec: list[tuple[int, int]]) -> bytes:
    return flowset(2, struct.pack("!HH", tid, len(spec)) + fields(spec))


def ipfix_options_template(tid: int, scope: list[tuple[int, int]],
                           options: list[tuple[int, int]]) -> bytes:
    """RFC 7011 §3.4.2.2: template ID, field count, scope field count, scope first."""
    return flowset(3, struct.pack("!HHH", tid, len(scope) + len(options), len(scope))
                   + fields(scope) + fields(options))


def ipfix_flow(octets: int, pkts: int, selector: int | None = None) -> bytes:
    rec = struct.pack("!IIHHBQQQQ", SRC, DST, 44000, 443, 6, octets, pkts,
                      (NOW - 5) * 1000, (NOW - 1) * 1000)
    return rec if selector is None else rec + struct.pack("!I", selector)


# PSAMP systematic count-based selector (RFC 5477): scope selectorId (302),
# samplingPacketInterval (305) packets taken, samplingPacketSpace (306) skipped.
PSAMP = ipfix_options_template(400, [(302, 4)], [(305, 4), (306, 4)])


def psamp_rows(*rows: tuple[int, int, int]) -> bytes:
    return flowset(400, b"".join(struct.pack("!III", *r) for r in rows))


def test_ipfix_sampling_interval_per_observation_domain() -> None:
    dec = FlowDecoder()
    # Scope observationDomainId (149), samplingInterval (34) = 1 in 1000.
    opts = ipfix_options_template(401, [(149, 4)], [(34, 4)])
    flow = flowset(300, ipfix_flow(1500, 1))
    dec.decode(ipfix(flowset(401, struct.pack("!II", 1, 1000))), EXPORTER)  # too early
    assert dec.stats.no_template == 1
    assert volumes(dec.decode(ipfix(ipfix_template(300, IPFIX_DATA), flow), EXPORTER)[1]) \
        == [(1500, 1)]
    dec.decode(ipfix(opts, flowset(401, struct.pack("!II", 1, 1000))), EXPORTER)
    assert volumes(dec.decode(ipfix(flow), EXPORTER)[1]) == [(1_500_000, 1000)]
    # Domain 2 of the same exporter announced nothing.
    assert volumes(dec.decode(ipfix(ipfix_template(300, IPFIX_DATA), flow, domain=2),
                              EXPORTER)[1]) == [(1500, 1)]


def test_ipfix_psamp_selectors_named_by_records() -> None:
    dec = FlowDecoder()
    dec.decode(ipfix(PSAMP, psamp_rows((7, 1, 511), (8, 2, 3))), EXPORTER)
    data = flowset(310, ipfix_flow(1000, 2, selector=7) + ipfix_flow(1000, 2, selector=8)
                   + ipfix_flow(1000, 2, selector=99))
    _, recs = dec.decode(ipfix(ipfix_template(310, IPFIX_DATA_SELECTOR), data), EXPORTER)
    # 1 taken, 511 skipped: 1 in 512; 2 taken, 3 skipped: 1 in 2.5; 99 unknown: as is.
    assert volumes(recs) == [(512_000, 1024), (2500, 5), (1000, 2)]


def test_ipfix_sampler_random_interval_with_sampler_id() -> None:
    dec = FlowDecoder({EXPORTER: (4, False)})
    # Cisco IOS XE: scope samplerId (48), samplerMode (49), samplerRandomInterval (50).
    opts = ipfix_options_template(402, [(48, 4)], [(49, 1), (50, 4)])
    rows = flowset(402, struct.pack("!IBI", 1, 2, 32))
    tpl = ipfix_template(311, [*IPFIX_DATA, (48, 4)])
    data = flowset(311, ipfix_flow(100, 1, selector=1) + ipfix_flow(100, 1, selector=2))
    # Before the options: the configured 1 in 4 for every record.
    assert volumes(dec.decode(ipfix(tpl, data), EXPORTER)[1]) == [(400, 4), (400, 4)]
    assert dec.last_sampling == (4, "configured")
    dec.decode(ipfix(opts, rows), EXPORTER)
    # Sampler 1 is known; sampler 2 falls back to the only sampler announced.
    assert volumes(dec.decode(ipfix(data), EXPORTER)[1]) == [(3200, 32), (3200, 32)]


def test_options_without_rates_or_implausible_rates_change_nothing() -> None:
    dec = FlowDecoder()
    opts = ipfix_options_template(403, [(149, 4)], [(34, 4)])
    flow = flowset(300, ipfix_flow(10, 1))
    dec.decode(ipfix(ipfix_template(300, IPFIX_DATA), opts,
                     flowset(403, struct.pack("!II", 1, 50_000_000))), EXPORTER)
    assert volumes(dec.decode(ipfix(flow), EXPORTER)[1]) == [(10, 1)]
    # 0 means "every packet".
    dec.decode(ipfix(flowset(403, struct.pack("!II", 1, 0))), EXPORTER)
    assert volumes(dec.decode(ipfix(flow), EXPORTER)[1]) == [(10, 1)]
    assert dec.last_sampling == (1, "announced")


def test_rate_helpers() -> None:
    assert v5_rate(0) is None and v5_rate(0x4000) is None and v5_rate(0x4000 | 10) == 10
    assert normal_rate(0) == 1 and normal_rate(512.0) == 512 and normal_rate(2.5) == 2.5
    assert normal_rate(2_000_000) is None and normal_rate(float("nan")) is None
    assert (rate_text(1), rate_text(1000), rate_text(2.5)) == ("unsampled", "1:1000", "1:2.5")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_sampled_packets_never_crash(data: st.DataObject) -> None:
    dec = FlowDecoder()
    good = ipfix(PSAMP, psamp_rows((7, 1, 99)), ipfix_template(310, IPFIX_DATA_SELECTOR),
                 flowset(310, ipfix_flow(1000, 2, selector=7)))
    pos = data.draw(st.integers(0, len(good) - 1))
    cut = data.draw(st.integers(1, len(good)))
    packet = (good[:pos] + bytes([data.draw(st.integers(0, 255))]) + good[pos + 1:])[:cut]
    with contextlib.suppress(MalformedPacket):
        _, recs = dec.decode(packet, EXPORTER)
        for rec in recs:
            assert len(rec) == 9 and rec[5] >= 0 and rec[6] >= 0


# --- settings and the collector -------------------------------------------------------

def test_sampling_setting() -> None:
    s = load_flow_settings({"SIMPUL_FLOW_SAMPLING":
                            "192.0.2.1=1000, 2001:DB8::1 = 64!, 192.0.2.1=100"})
    assert s.sampling_map() == {"192.0.2.1": (100, False), "2001:db8::1": (64, True)}
    assert load_flow_settings({}).sampling == ()
    for bad in ("192.0.2.1", "192.0.2.1=0", "192.0.2.1=fast", "router1=100",
                "192.0.2.1=2000000"):
        with pytest.raises(ConfigError, match="SIMPUL_FLOW_SAMPLING"):
            load_flow_settings({"SIMPUL_FLOW_SAMPLING": bad})


def _source_totals(col: FlowCollector) -> tuple[int, int, int]:
    rows = [r for r in col.aggregator.drain() if r["kind"] == KIND_SOURCE]
    return (sum(r["bytes"] for r in rows), sum(r["packets"] for r in rows),
            sum(r["flows"] for r in rows))


def test_collector_scales_totals_and_remembers_the_rate_per_exporter() -> None:
    col = FlowCollector(None, load_flow_settings({"SIMPUL_FLOW_PORT": "0",
                                                  "SIMPUL_FLOW_SAMPLING": f"{OTHER}=10"}))
    now = int(time.time())
    col.handle(v5([(1500, 3), (500, 1)], sampling=0x4000 | 100), EXPORTER, now=now)
    col.handle(v5([(1500, 3)]), OTHER, now=now)
    # Flows stay the number of records received; bytes and packets are scaled.
    assert _source_totals(col) == (200_000 + 15_000, 400 + 30, 3)
    assert (col._deltas[EXPORTER].sampling_rate, col._deltas[EXPORTER].sampling_source) == (
        100, "header")
    assert col._deltas[OTHER].sampling_rate == 10
    assert col._deltas[OTHER].sampling_source == "configured"


def test_collector_over_udp_before_and_after_the_sampler_table() -> None:
    col = FlowCollector(None, load_flow_settings({"SIMPUL_FLOW_PORT": "0"}))
    col.start()
    try:
        port = col.addresses[0][1]
        flow = flowset(256, v9_flow(1000, 1, sampler=1))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(v9(v9_template(256, V9_DATA_SAMPLER), flow), ("127.0.0.1", port))
            deadline = time.monotonic() + 5
            while col.aggregator.records < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            s.sendto(v9(SAMPLER_TABLE, sampler_rows((1, 100)), flow), ("127.0.0.1", port))
            while col.aggregator.records < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
        assert col.stats.records == col.aggregator.records == 2
        assert _source_totals(col) == (1000 + 100_000, 1 + 100, 2)
        assert col._deltas["127.0.0.1"].sampling_rate == 100
    finally:
        col.stop()
