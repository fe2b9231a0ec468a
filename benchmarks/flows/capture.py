"""A realistic NetFlow v9 / IPFIX capture, written as a pcap file and read back.

Traffic shape: 2,000 OPD hosts in 10.1-4.x.y, 5,000 outside peers chosen with a
Zipf-like skew (a few big services, a long tail); each host keeps a working set of 12
peers (each peer serves one service of the mix: https, http, dns, ntp, smtp, iperf3,
ssh, proxy) and opens many short connections to them with fresh ephemeral ports, as
browsers and resolvers do; flow sizes and durations are log-normal-ish. Exporter
layout follows softflowd: v9 template with 14 fields (36-byte records, 38 per datagram)
refreshed every 20 datagrams; IPFIX with millisecond times and 64-bit counters (27
records per datagram). Two exporters (source ports) per protocol, each with its own
sequence numbers and template cache.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

PCAP_HEADER = struct.Struct("<IHHiIII")
PCAP_RECORD = struct.Struct("<IIII")
SERVICES = [(6, 443, 40), (6, 80, 12), (17, 53, 15), (17, 123, 3), (6, 25, 3),
            (6, 5201, 5), (6, 22, 2), (6, 3128, 8), (17, 443, 7), (1, 0, 5)]
V9_TEMPLATE = [(8, 4), (12, 4), (21, 4), (22, 4), (1, 4), (2, 4), (10, 2), (14, 2),
               (7, 2), (11, 2), (4, 1), (6, 1), (60, 1), (5, 1)]
IPFIX_TEMPLATE = [(8, 4), (12, 4), (152, 8), (153, 8), (1, 8), (2, 8), (10, 2), (14, 2),
                  (7, 2), (11, 2), (4, 1), (6, 1), (5, 1)]
V9_PER_DATAGRAM = 38
IPFIX_PER_DATAGRAM = 27
TEMPLATE_EVERY = 20


class TrafficModel:
    """Draws flows with a fixed seed, so every run and both tools see the same capture."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.inside = [(10 << 24) | (a << 16) | (self.rng.randrange(256) << 8)
                       | self.rng.randrange(1, 255) for a in range(1, 5) for _ in range(500)]
        self.outside = [self.rng.randrange(0x01000000, 0xDF000000) for _ in range(5000)]
        self.weights = [1 / (i + 1) ** 0.9 for i in range(len(self.outside))]
        services = [(p, port) for p, port, _w in SERVICES]
        weights = [w for _p, _port, w in SERVICES]
        self.serves = dict(zip(self.outside, self.rng.choices(services, weights,
                                                              k=len(self.outside)),
                               strict=True))
        self.working_sets = [self.rng.choices(self.outside, self.weights, k=12)
                             for _ in self.inside]

    def flows(self, n: int) -> list[tuple[int, int, int, int, int, int, int]]:
        """Return *n* flows ``(src, dst, sport, dport, proto, bytes, packets)``."""
        rng = self.rng
        out = []
        for _ in range(n):
            h = rng.randrange(len(self.inside))
            host = self.inside[h]
            peer = self.working_sets[h][rng.randrange(12)]
            proto, port = self.serves[peer]
            eph = rng.randrange(32768, 61000) if proto != 1 else 0
            pkts = max(1, int(rng.lognormvariate(2.0, 1.6)))
            size = pkts * rng.randrange(60, 1500)
            if rng.random() < 0.5:  # request direction
                out.append((host, peer, eph, port, proto, size, pkts))
            else:  # reply direction
                out.append((peer, host, port, eph, proto, size, pkts))
        return out


def _set(set_id: int, body: bytes) -> bytes:
    return struct.pack("!HH", set_id, len(body) + 4) + body


def _template(tid: int, fields: list[tuple[int, int]]) -> bytes:
    return struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", *f)
                                                           for f in fields)


def v9_datagrams(model: TrafficModel, records: int, *, source_id: int, start: int
                 ) -> Iterator[bytes]:
    """NetFlow v9 datagrams carrying *records* flows (export time from *start*)."""
    seq, made, n = 0, 0, 0
    uptime = 86_400_000
    rec = struct.Struct("!IIIIIIHHHHBBBB")
    while made < records:
        count = min(V9_PER_DATAGRAM, records - made)
        secs = start + made // 50_000
        body = b"".join(rec.pack(s, d, uptime - 500, uptime - 500 - 40 * p, b, p, 1, 2, sp,
                                 dp, pr, 0x1B if pr == 6 else 0, 4, 0)
                        for s, d, sp, dp, pr, b, p in model.flows(count))
        sets = _set(0, _template(256, V9_TEMPLATE)) if n % TEMPLATE_EVERY == 0 else b""
        sets += _set(256, body)
        yield struct.pack("!HHIIII", 9, count + (1 if n % TEMPLATE_EVERY == 0 else 0),
                          uptime, secs, seq, source_id) + sets
        seq += 1
        made += count
        n += 1
        uptime += 20


def ipfix_datagrams(model: TrafficModel, records: int, *, domain: int, start: int
                    ) -> Iterator[bytes]:
    """IPFIX messages carrying *records* flows."""
    seq, made, n = 0, 0, 0
    rec = struct.Struct("!IIQQQQHHHHBBB")
    while made < records:
        count = min(IPFIX_PER_DATAGRAM, records - made)
        secs = start + made // 50_000
        ms = secs * 1000
        body = b"".join(rec.pack(s, d, ms - 500 - 40 * p, ms - 500, b, p, 1, 2, sp, dp, pr,
                                 0x1B if pr == 6 else 0, 0)
                        for s, d, sp, dp, pr, b, p in model.flows(count))
        sets = _set(2, _template(300, IPFIX_TEMPLATE)) if n % TEMPLATE_EVERY == 0 else b""
        sets += _set(300, body)
        yield struct.pack("!HHIII", 10, 16 + len(sets), secs, seq, domain) + sets
        seq += count
        made += count
        n += 1


def build_capture(records: int, start: int, seed: int = 7) -> list[tuple[int, bytes]]:
    """Return ``[(exporter_index, datagram)]``: half v9, half IPFIX, interleaved."""
    model = TrafficModel(seed)
    quarter = records // 4
    streams = [
        [(0, d) for d in v9_datagrams(model, quarter, source_id=1, start=start)],
        [(1, d) for d in v9_datagrams(model, quarter, source_id=2, start=start)],
        [(2, d) for d in ipfix_datagrams(model, quarter, domain=1, start=start)],
        [(3, d) for d in ipfix_datagrams(model, records - 3 * quarter, domain=2,
                                         start=start)],
    ]
    out: list[tuple[int, bytes]] = []
    longest = max(len(s) for s in streams)
    for i in range(longest):
        for s in streams:
            if i < len(s):
                out.append(s[i])
    return out


def write_pcap(path: Path, datagrams: list[tuple[int, bytes]], port: int = 2055) -> None:
    """Write the datagrams as IPv4/UDP packets 127.0.0.1:(40000+exporter) → :port."""
    with path.open("wb") as fh:
        fh.write(PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # LINKTYPE_RAW
        for i, (exp, data) in enumerate(datagrams):
            udp = struct.pack("!HHHH", 40000 + exp, port, 8 + len(data), 0) + data
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17,
                             0, b"\x7f\x00\x00\x01", b"\x7f\x00\x00\x01") + udp
            fh.write(PCAP_RECORD.pack(i // 1000, (i % 1000) * 1000, len(ip), len(ip)) + ip)


def read_pcap(path: Path) -> list[tuple[int, bytes]]:
    """Read back ``[(exporter_index, datagram)]`` from a capture written by write_pcap."""
    data = path.read_bytes()
    pos = PCAP_HEADER.size
    out = []
    while pos + PCAP_RECORD.size <= len(data):
        _s, _us, caplen, _len = PCAP_RECORD.unpack_from(data, pos)
        pos += PCAP_RECORD.size
        pkt = data[pos:pos + caplen]
        pos += caplen
        sport = struct.unpack_from("!H", pkt, 20)[0]
        out.append((sport - 40000, pkt[28:]))
    return out
