"""NetFlow v5/v9 and IPFIX packets built byte by byte from RFC 3954 / RFC 7011 layouts.

Addresses are RFC 5737 documentation addresses; every expected value is literal.
"""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.flows.netflow import FlowDecoder, MalformedPacket

SRC = 0xC0000201  # 192.0.2.1
DST = 0xC6336402  # 198.51.100.2
EXPORTER = "203.0.113.9"
EXPORT_SECS = 1_700_000_000


def v5_packet(records: list[tuple[int, int, int, int, int, int, int, int, int]],
              uptime: int = 100_000) -> bytes:
    """A v5 datagram: 24-byte header, 48-byte records (Cisco NetFlow v5 format)."""
    head = struct.pack("!HHIIIIBBH", 5, len(records), uptime, EXPORT_SECS, 0, 42, 0, 0, 0)
    body = b"".join(
        struct.pack("!IIIHHIIIIHHBBBBHHBBH", src, dst, 0, 1, 2, pkts, octets, first, last,
                    sport, dport, 0, 0x18, proto, 0, 0, 0, 24, 24, 0)
        for src, dst, pkts, octets, first, last, sport, dport, proto in records)
    return head + body


def v9_header(count: int, uptime: int = 100_000, source_id: int = 7) -> bytes:
    """RFC 3954 §5.1: version, count, sysUpTime, UNIX secs, sequence, source ID."""
    return struct.pack("!HHIIII", 9, count, uptime, EXPORT_SECS, 1, source_id)


def flowset(set_id: int, body: bytes, pad_to: int = 4) -> bytes:
    """A FlowSet / Set: id, length (including the 4-byte header), body, zero padding."""
    pad = (-(len(body) + 4)) % pad_to
    return struct.pack("!HH", set_id, len(body) + 4 + pad) + body + b"\x00" * pad


V9_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4)]


def v9_template(tid: int = 256, fields: list[tuple[int, int]] = V9_FIELDS) -> bytes:
    """RFC 3954 §5.2: template ID, field count, (type, length) pairs."""
    return struct.pack("!HH", tid, len(fields)) + b"".join(
        struct.pack("!HH", t, n) for t, n in fields)


def v9_record(src: int, dst: int, sport: int, dport: int, proto: int, octets: int,
              pkts: int, first: int, last: int) -> bytes:
    return struct.pack("!IIHHBIIII", src, dst, sport, dport, proto, octets, pkts, first, last)


def test_v5_record_fields_and_times() -> None:
    dec = FlowDecoder()
    pkt = v5_packet([(SRC, DST, 10, 15000, 90_000, 99_000, 40000, 443, 6)])
    version, recs = dec.decode(pkt, EXPORTER)
    assert version == 5
    assert recs == [(SRC, DST, 6, 40000, 443, 15000, 10,
                     EXPORT_SECS - 10.0, EXPORT_SECS - 1.0)]


def test_v5_count_longer_than_datagram_is_malformed() -> None:
    dec = FlowDecoder()
    pkt = v5_packet([(SRC, DST, 1, 100, 0, 0, 1, 2, 17)])[:-1]
    with pytest.raises(MalformedPacket):
        dec.decode(pkt, EXPORTER)
    assert dec.stats.malformed == 1


def test_v9_template_then_data_with_padding() -> None:
    dec = FlowDecoder()
    tpl = flowset(0, v9_template())
    data = flowset(256, v9_record(SRC, DST, 51000, 5201, 6, 1_000_000, 700, 95_000, 99_500)
                   + v9_record(DST, SRC, 5201, 51000, 6, 2000, 30, 95_000, 99_500), pad_to=8)
    _, recs = dec.decode(v9_header(3) + tpl + data, EXPORTER)
    assert recs == [
        (SRC, DST, 6, 51000, 5201, 1_000_000, 700, EXPORT_SECS - 5.0, EXPORT_SECS - 0.5),
        (DST, SRC, 6, 5201, 51000, 2000, 30, EXPORT_SECS - 5.0, EXPORT_SECS - 0.5),
    ]
    assert dec.stats.templates == 1


def test_v9_data_before_template_is_counted_not_fatal() -> None:
    dec = FlowDecoder()
    data = flowset(256, v9_record(SRC, DST, 1, 2, 17, 100, 1, 0, 0))
    assert dec.decode(v9_header(1) + data, EXPORTER)[1] == []
    assert dec.stats.no_template == 1
    dec.decode(v9_header(1) + flowset(0, v9_template()), EXPORTER)
    assert len(dec.decode(v9_header(1) + data, EXPORTER)[1]) == 1


def test_v9_templates_are_per_exporter_and_source_id() -> None:
    dec = FlowDecoder()
    dec.decode(v9_header(1, source_id=1) + flowset(0, v9_template()), EXPORTER)
    data = flowset(256, v9_record(SRC, DST, 1, 2, 17, 100, 1, 0, 0))
    assert dec.decode(v9_header(1, source_id=2) + data, EXPORTER)[1] == []
    assert dec.decode(v9_header(1, source_id=1) + data, "203.0.113.10")[1] == []
    assert len(dec.decode(v9_header(1, source_id=1) + data, EXPORTER)[1]) == 1


def test_v9_template_refresh_replaces_layout() -> None:
    dec = FlowDecoder()
    dec.decode(v9_header(1) + flowset(0, v9_template()), EXPORTER)
    # Same ID, new layout: 8-byte counters, ports swapped in order.
    fields = [(8, 4), (12, 4), (11, 2), (7, 2), (4, 1), (1, 8), (2, 8)]
    dec.decode(v9_header(1) + flowset(0, v9_template(256, fields)), EXPORTER)
    rec = struct.pack("!IIHHBQQ", SRC, DST, 53, 33000, 17, 5_000_000_000, 4)
    _, recs = dec.decode(v9_header(1) + flowset(256, rec), EXPORTER)
    assert recs[0][:7] == (SRC, DST, 17, 33000, 53, 5_000_000_000, 4)
    assert recs[0][7] == recs[0][8] == float(EXPORT_SECS)  # no times: export time


def test_v9_options_sampling_interval_scales_the_records() -> None:
    dec = FlowDecoder()
    # RFC 3954 §6.1: template ID, scope length, option length, scope fields, option fields.
    # Scope System (1), SAMPLING_INTERVAL (34) = 100, SAMPLING_ALGORITHM (35) = 1.
    opt = struct.pack("!HHH", 257, 4, 8) + struct.pack("!HH", 1, 4) + struct.pack(
        "!HHHH", 34, 4, 35, 1)
    opt_data = struct.pack("!IIB", 1, 100, 1)
    pkt = v9_header(3) + flowset(1, opt) + flowset(0, v9_template()) + flowset(257, opt_data)
    pkt += flowset(256, v9_record(SRC, DST, 40000, 80, 6, 500, 5, 0, 100_000))
    _, recs = dec.decode(pkt, EXPORTER)
    assert [r[:7] for r in recs] == [(SRC, DST, 6, 40000, 80, 50_000, 500)]
    assert dec.stats.options_records == 1


def test_v9_uptime_wrap() -> None:
    dec = FlowDecoder()
    dec.decode(v9_header(1, uptime=1000) + flowset(0, v9_template()), EXPORTER)
    # Flow ended 3 s before export, but across the 2^32 ms uptime wrap.
    last = (1000 - 3000) & 0xFFFFFFFF
    first = (last - 2000) & 0xFFFFFFFF
    rec = v9_record(SRC, DST, 1, 2, 17, 10, 1, first, last)
    _, recs = dec.decode(v9_header(1, uptime=1000) + flowset(256, rec), EXPORTER)
    assert recs[0][7:] == (EXPORT_SECS - 5.0, EXPORT_SECS - 3.0)


def ipfix_message(sets: bytes, domain: int = 5) -> bytes:
    """RFC 7011 §3.1: version 10, length, export time, sequence, observation domain."""
    return struct.pack("!HHIII", 10, 16 + len(sets), EXPORT_SECS, 9, domain) + sets


def ipfix_template(tid: int, fields: list[tuple[int, int] | tuple[int, int, int]]) -> bytes:
    """RFC 7011 §3.4.1: template ID, count, IEs (enterprise bit + PEN when 3-tuple)."""
    out = struct.pack("!HH", tid, len(fields))
    for spec in fields:
        if len(spec) == 3:
            ie, n, pen = spec
            out += struct.pack("!HHI", ie | 0x8000, n, pen)
        else:
            out += struct.pack("!HH", *spec)
    return out


IPFIX_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]


def test_ipfix_template_and_data_with_ms_times() -> None:
    dec = FlowDecoder()
    rec = struct.pack("!IIHHBQQQQ", SRC, DST, 44000, 443, 6, 123456, 100,
                      (EXPORT_SECS - 30) * 1000, (EXPORT_SECS - 10) * 1000 + 500)
    msg = ipfix_message(flowset(2, ipfix_template(300, IPFIX_FIELDS)) + flowset(300, rec))
    version, recs = dec.decode(msg, EXPORTER)
    assert version == 10
    assert recs == [(SRC, DST, 6, 44000, 443, 123456, 100,
                     EXPORT_SECS - 30.0, EXPORT_SECS - 9.5)]


def test_ipfix_ipv6_enterprise_field_and_reduced_size() -> None:
    dec = FlowDecoder()
    src6 = bytes.fromhex("20010db8000000000000000000000001")
    dst6 = bytes.fromhex("20010db8000000000000000000000002")
    fields = [(27, 16), (28, 16), (4, 1), (7, 2), (11, 2), (1, 3), (2, 2), (999, 4, 29305),
              (150, 4), (151, 4)]
    rec = (src6 + dst6 + struct.pack("!BHH", 17, 5353, 53) + (70000).to_bytes(3, "big")
           + struct.pack("!H", 9) + b"\xde\xad\xbe\xef"
           + struct.pack("!II", EXPORT_SECS - 4, EXPORT_SECS - 2))
    msg = ipfix_message(flowset(2, ipfix_template(256, fields)) + flowset(256, rec))
    _, recs = dec.decode(msg, EXPORTER)
    assert recs == [(src6, dst6, 17, 5353, 53, 70000, 9,
                     float(EXPORT_SECS - 4), float(EXPORT_SECS - 2))]


def test_ipfix_variable_length_field() -> None:
    dec = FlowDecoder()
    # applicationName (96) variable length: one short and one long (255 + 2 bytes) form.
    fields = [(8, 4), (12, 4), (96, 65535), (4, 1), (1, 4), (2, 4)]
    rec1 = struct.pack("!II", SRC, DST) + b"\x03dns" + struct.pack("!BII", 17, 80, 1)
    name = b"x" * 300
    rec2 = struct.pack("!II", DST, SRC) + b"\xff" + struct.pack("!H", 300) + name + \
        struct.pack("!BII", 6, 9000, 6)
    msg = ipfix_message(flowset(2, ipfix_template(400, fields)) + flowset(400, rec1 + rec2))
    _, recs = dec.decode(msg, EXPORTER)
    assert [r[:7] for r in recs] == [(SRC, DST, 17, 0, 0, 80, 1), (DST, SRC, 6, 0, 0, 9000, 6)]


def test_ipfix_options_template_skipped_and_withdrawal() -> None:
    dec = FlowDecoder()
    # RFC 7011 §3.4.2.2: template ID, field count, scope field count, fields.
    opt = struct.pack("!HHH", 260, 2, 1) + struct.pack("!HHHH", 149, 4, 160, 8)
    rec = struct.pack("!IQ", 5, 1_699_000_000_000)
    tpl = ipfix_template(300, IPFIX_FIELDS)
    data = struct.pack("!IIHHBQQQQ", SRC, DST, 1, 2, 17, 10, 1, 0, 0)
    msg = ipfix_message(flowset(3, opt) + flowset(260, rec) + flowset(2, tpl)
                        + flowset(300, data))
    _, recs = dec.decode(msg, EXPORTER)
    assert len(recs) == 1 and dec.stats.options_records == 1
    # Withdraw template 300 (field count 0), then its data has no template.
    dec.decode(ipfix_message(flowset(2, struct.pack("!HH", 300, 0))), EXPORTER)
    assert dec.decode(ipfix_message(flowset(300, data)), EXPORTER)[1] == []
    assert dec.stats.no_template == 1


def test_ipfix_domains_are_separate() -> None:
    dec = FlowDecoder()
    dec.decode(ipfix_message(flowset(2, ipfix_template(300, IPFIX_FIELDS)), domain=1),
               EXPORTER)
    data = flowset(300, struct.pack("!IIHHBQQQQ", SRC, DST, 1, 2, 17, 10, 1, 0, 0))
    assert dec.decode(ipfix_message(data, domain=2), EXPORTER)[1] == []
    assert len(dec.decode(ipfix_message(data, domain=1), EXPORTER)[1]) == 1


@pytest.mark.parametrize("packet", [
    b"", b"\x00", b"\x00\x09", b"\x00\x07" + b"\x00" * 30,
    v9_header(1) + struct.pack("!HH", 0, 2),            # flowset length below 4
    v9_header(1) + struct.pack("!HH", 256, 400),        # flowset longer than datagram
    v9_header(1) + flowset(0, struct.pack("!HH", 256, 50)),  # template truncated
    v9_header(1) + flowset(0, struct.pack("!HHHH", 256, 1, 8, 0)),  # zero-length field
    struct.pack("!HHIII", 10, 200, 0, 0, 0),            # IPFIX length > datagram
    ipfix_message(flowset(2, struct.pack("!HHHH", 300, 1, 0x8008, 4))),  # PEN missing
])
def test_malformed_packets_raise_and_are_counted(packet: bytes) -> None:
    dec = FlowDecoder()
    with pytest.raises(MalformedPacket):
        dec.decode(packet, EXPORTER)
    assert dec.stats.malformed == 1


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([5, 9, 10]))
def test_fuzz_random_bytes_never_crash(payload: bytes, version: int) -> None:
    dec = FlowDecoder()
    # Give v9/IPFIX a template so random data sets reach the record decoder too.
    dec.decode(v9_header(1, source_id=0) + flowset(0, v9_template()), EXPORTER)
    dec.decode(ipfix_message(flowset(2, ipfix_template(256, IPFIX_FIELDS)), domain=0), EXPORTER)
    packet = struct.pack("!H", version) + payload
    try:
        _, recs = dec.decode(packet, EXPORTER)
    except MalformedPacket:
        return
    for rec in recs:
        assert len(rec) == 9


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_valid_packets_never_crash(data: st.DataObject) -> None:
    dec = FlowDecoder()
    good = ipfix_message(flowset(2, ipfix_template(300, IPFIX_FIELDS)) + flowset(
        300, struct.pack("!IIHHBQQQQ", SRC, DST, 1, 2, 17, 10, 1, 0, 0)))
    pos = data.draw(st.integers(0, len(good) - 1))
    byte = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(good)))
    packet = (good[:pos] + bytes([byte]) + good[pos + 1:])[:cut]
    with contextlib.suppress(MalformedPacket):
        dec.decode(packet, EXPORTER)
