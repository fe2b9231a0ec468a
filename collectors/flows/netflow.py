"""NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) packet decoding.

The decoder turns one UDP payload into flow records ``(src, dst, protocol, src_port,
dst_port, bytes, packets, start, end)``: addresses as ``int`` (IPv4) or 16 ``bytes``
(IPv6) so that aggregation hashes cheap values and text is made only once per key at
flush time; times as UNIX seconds (float).

Templates are kept per exporter address and observation domain (v9 source ID, IPFIX
observation domain ID) and template ID; a newer template with the same ID replaces the
old one (template refresh), an IPFIX withdrawal removes it. Each template is compiled
once into a ``struct.Struct`` for its fixed-length records (variable-length IPFIX fields
take a slower path), so a data set decodes with one ``iter_unpack``. Options data is
read for the sampling rates it announces (``sampling.py``) and otherwise skipped; bytes
and packets of sampled exporters are scaled here, so everything downstream sees real
volumes. Anything inconsistent raises ``MalformedPacket``: the caller counts it and
goes on with the next datagram.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from collectors.flows import sampling
from collectors.flows.sampling import DomainSampling, OptionsReader, Rate

FlowRecord = tuple[Any, Any, int, int, int, int, int, float, float]

V5_HEADER = struct.Struct("!HHIIIIBBH")
V5_RECORD = struct.Struct("!IIIHHIIIIHHBBBBHHBBH")
V9_HEADER = struct.Struct("!HHIIII")
IPFIX_HEADER = struct.Struct("!HHIII")
SET_HEADER = struct.Struct("!HH")
FIELD_SPEC = struct.Struct("!HH")

# Information elements (NetFlow v9 field types are the same numbers below 128).
IN_BYTES, IN_PKTS, PROTOCOL, L4_SRC_PORT, IPV4_SRC, L4_DST_PORT, IPV4_DST = 1, 2, 4, 7, 8, 11, 12
LAST_SWITCHED, FIRST_SWITCHED, OUT_BYTES, OUT_PKTS, IPV6_SRC, IPV6_DST = 21, 22, 23, 24, 27, 28
OCTET_TOTAL, PACKET_TOTAL = 85, 86
START_S, END_S, START_MS, END_MS, START_US, END_US = 150, 151, 152, 153, 154, 155
START_DELTA_US, END_DELTA_US = 158, 159
VARIABLE = 65535
V9_SCOPE_TYPES = 5
NTP_EPOCH_OFFSET = 2_208_988_800
MAX_TEMPLATES_PER_EXPORTER = 4096
_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


class MalformedPacket(ValueError):
    """The datagram is not a well-formed NetFlow v5/v9 or IPFIX message."""


@dataclass
class Template:
    """A compiled data template: how to cut records and where the fields we use are."""

    fields: list[tuple[int | None, int]]
    options: bool = False
    record: struct.Struct | None = None
    length: int = 0
    index: dict[int, int] = field(default_factory=dict)
    widen: frozenset[int] = frozenset()

    @classmethod
    def compile(cls, fields: list[tuple[int | None, int]], options: bool = False) -> Template:
        """Build a template from ``(element id or None for enterprise, length)`` pairs."""
        tpl = cls(fields=fields, options=options)
        index: dict[int, int] = {}
        widen = set()
        for pos, (ie, n) in enumerate(fields):
            if ie is not None and ie not in index:
                index[ie] = pos
                if n not in _CODES and ie not in (IPV6_SRC, IPV6_DST):
                    widen.add(ie)  # reduced-size encoding: an odd length integer
        tpl.index, tpl.widen = index, frozenset(widen)
        if all(n != VARIABLE for _, n in fields):
            fmt = "!" + "".join(_CODES.get(n, f"{n}s") for _, n in fields)
            tpl.record = struct.Struct(fmt)
            tpl.length = tpl.record.size
        else:
            tpl.length = sum(n for _, n in fields if n != VARIABLE)
        return tpl


def _int(value: Any) -> int:
    return int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)


class Extractor:
    """Turns the raw tuples of one template into FlowRecords, given the header times."""

    def __init__(self, tpl: Template) -> None:
        ix = tpl.index
        self.v6 = IPV6_SRC in ix and IPV4_SRC not in ix
        src = ix.get(IPV6_SRC if self.v6 else IPV4_SRC)
        dst = ix.get(IPV6_DST if self.v6 else IPV4_DST)
        if src is None or dst is None:
            self.usable = False
            return
        self.usable = True
        byt = next((ix[i] for i in (IN_BYTES, OCTET_TOTAL, OUT_BYTES) if i in ix), None)
        pkt = next((ix[i] for i in (IN_PKTS, PACKET_TOTAL, OUT_PKTS) if i in ix), None)
        self.positions = [src, dst, ix.get(PROTOCOL), ix.get(L4_SRC_PORT),
                          ix.get(L4_DST_PORT), byt, pkt]
        self.time_kind, self.time_pos = "export", (None, None)
        for kind, a, b in (("ms", START_MS, END_MS), ("s", START_S, END_S),
                           ("ntp", START_US, END_US), ("uptime", FIRST_SWITCHED, LAST_SWITCHED),
                           ("delta", START_DELTA_US, END_DELTA_US)):
            if b in ix:
                self.time_kind, self.time_pos = kind, (ix.get(a, ix[b]), ix[b])
                break
        used = [p for p in self.positions if p is not None]
        used += [p for p in self.time_pos if p is not None]
        widen_pos = {ix[i] for i in tpl.widen}
        self.needs_widen = bool(widen_pos & set(used))
        self.getter: Callable[[tuple[Any, ...]], tuple[Any, ...]] = itemgetter(
            *[p if p is not None else 0 for p in self.positions], *self.time_pos
            if self.time_pos[0] is not None else (0, 0))
        self.missing = [i for i, p in enumerate(self.positions) if p is None]
        # Records that name their sampler (Cisco samplerId, PSAMP selectorId).
        self.sampler_pos = ix.get(sampling.FLOW_SAMPLER_ID, ix.get(sampling.SELECTOR_ID))

    def records(self, rows: Any, uptime_ms: int, export_s: float) -> list[FlowRecord]:
        """Return the FlowRecords for *rows* (tuples cut by the template)."""
        out: list[FlowRecord] = []
        kind = self.time_kind
        missing, widen = self.missing, self.needs_widen
        for row in rows:
            v = self.getter(row)
            if missing or widen:
                v = list(v)
                for i in missing:
                    v[i] = 0
                if widen:
                    v = [x if i < 2 or not isinstance(x, bytes) else _int(x)
                         for i, x in enumerate(v)]
            src, dst, proto, sport, dport, nbytes, npkts, t0, t1 = v
            if kind == "ms":
                start, end = t0 / 1000.0, t1 / 1000.0
            elif kind == "s":
                start, end = float(t0), float(t1)
            elif kind == "uptime" and uptime_ms:
                # Both relative to the exporter's boot; differences modulo 2^32 survive wrap.
                end = export_s - ((uptime_ms - t1) & 0xFFFFFFFF) / 1000.0
                start = end - ((t1 - t0) & 0xFFFFFFFF) / 1000.0
            elif kind == "ntp":
                start = (t0 >> 32) - NTP_EPOCH_OFFSET + (t0 & 0xFFFFFFFF) / 2**32
                end = (t1 >> 32) - NTP_EPOCH_OFFSET + (t1 & 0xFFFFFFFF) / 2**32
            elif kind == "delta":
                start, end = export_s - t0 / 1e6, export_s - t1 / 1e6
            else:
                start = end = export_s
            out.append((src, dst, proto, sport, dport, nbytes, npkts, start, end))
        return out


@dataclass
class DecodeStats:
    """What one decoder has seen since it started (or since the last reset)."""

    packets: int = 0
    records: int = 0
    malformed: int = 0
    no_template: int = 0
    options_records: int = 0
    templates: int = 0


class FlowDecoder:
    """Stateful decoder for every exporter that sends to one collector.

    Args:
        configured_rates: exporter address → ``(rate, forced)`` from
            ``SIMPUL_FLOW_SAMPLING``: the rate of exporters that announce none, or of
            every record when *forced*.
    """

    def __init__(self, configured_rates: dict[str, tuple[int, bool]] | None = None) -> None:
        self.templates: dict[tuple[str, int, int],
                             tuple[Template, Extractor | OptionsReader | None]] = {}
        self.per_exporter: dict[str, int] = {}
        self.stats = DecodeStats()
        self.configured = dict(configured_rates or {})
        self.announced: dict[tuple[str, int], DomainSampling] = {}
        # (rate, where it came from) applied to the last records of the last datagram.
        self.last_sampling: tuple[Rate, str] = (1, "")

    def decode(self, data: bytes, exporter: str) -> tuple[int, list[FlowRecord]]:
        """Return ``(version, records)`` of one datagram from *exporter*.

        Raises:
            MalformedPacket: the datagram cannot be decoded (nothing of it is returned).
        """
        self.stats.packets += 1
        self.last_sampling = (1, "")
        try:
            if len(data) < 4:
                raise MalformedPacket("datagram shorter than a header")
            version = (data[0] << 8) | data[1]
            if version == 5:
                recs = self._v5(data, exporter)
            elif version == 9:
                recs = self._v9(data, exporter)
            elif version == 10:
                recs = self._ipfix(data, exporter)
            else:
                raise MalformedPacket(f"unsupported NetFlow version {version}")
        except MalformedPacket:
            self.stats.malformed += 1
            raise
        except (struct.error, IndexError, ValueError, TypeError, OverflowError) as exc:
            self.stats.malformed += 1
            raise MalformedPacket(f"inconsistent datagram ({type(exc).__name__})") from None
        self.stats.records += len(recs)
        return version, recs

    # -- NetFlow v5 ------------------------------------------------------------------
    def _v5(self, data: bytes, exporter: str) -> list[FlowRecord]:
        _ver, count, uptime, secs, nsecs, _seq, _et, _eid, samp = V5_HEADER.unpack_from(data)
        if count == 0 or count > 30 or len(data) < 24 + count * 48:
            raise MalformedPacket(f"v5 count {count} does not match length {len(data)}")
        export_s = secs + nsecs / 1e9
        out: list[FlowRecord] = []
        body = data[24:24 + count * 48]
        for (src, dst, _nh, _in, _out, pkts, octets, first, last, sport, dport, _p1, _fl,
             proto, _tos, _sas, _das, _sm, _dm, _p2) in V5_RECORD.iter_unpack(body):
            end = export_s - ((uptime - last) & 0xFFFFFFFF) / 1000.0
            start = end - ((last - first) & 0xFFFFFFFF) / 1000.0
            out.append((src, dst, proto, sport, dport, octets, pkts, start, end))
        header = sampling.v5_rate(samp)
        forced = self.configured.get(exporter)
        if forced is not None and (forced[1] or header is None):
            self.last_sampling = (forced[0], sampling.FROM_SETTINGS)
        elif header is not None:
            self.last_sampling = (header, sampling.FROM_HEADER)
        if self.last_sampling[0] != 1:
            out = sampling.scale(out, self.last_sampling[0])
        return out

    # -- sampling --------------------------------------------------------------------
    def domain_rate(self, exporter: str, domain: int) -> tuple[Rate, str]:
        """Return ``(rate, source)`` for records of *exporter*'s *domain* that do not
        name a known sampler (``(1, "")``: not sampled as far as anyone said)."""
        conf = self.configured.get(exporter)
        if conf is not None and conf[1]:
            return conf[0], sampling.FROM_SETTINGS
        state = self.announced.get((exporter, domain))
        if state is not None:
            rate = state.fallback()
            if rate is not None:
                return rate, sampling.FROM_OPTIONS
        if conf is not None:
            return conf[0], sampling.FROM_SETTINGS
        return 1, ""

    def _scale(self, key: tuple[str, int, int], ext: Extractor, rows: list[tuple[Any, ...]],
               recs: list[FlowRecord]) -> list[FlowRecord]:
        """Scale the records of one data set by their exporter's sampling rate."""
        rate, source = self.domain_rate(key[0], key[1])
        state = self.announced.get((key[0], key[1]))
        forced = self.configured.get(key[0], (1, False))[1]
        if ext.sampler_pos is not None and state is not None and state.samplers and not forced:
            # Each record names its sampler: its rate, else the domain's (or configured).
            pos, known = ext.sampler_pos, state.samplers
            rates = [known.get(sampling.as_int(row[pos]), rate) for row in rows]
            self.last_sampling = (rates[-1] if rates else rate, sampling.FROM_OPTIONS)
            return sampling.scale_each(recs, rates)
        self.last_sampling = (rate, source)
        return recs if rate == 1 else sampling.scale(recs, rate)

    def _options(self, key: tuple[str, int, int], tpl: Template, reader: OptionsReader,
                 body: bytes) -> None:
        """Learn the sampling rates one options data set announces."""
        if tpl.length == 0:
            return
        try:
            if tpl.record is not None:
                rows: Any = tpl.record.iter_unpack(body[:len(body) - len(body) % tpl.length])
            else:
                rows = _variable_rows(tpl, body)
            announced = list(reader.announcements(rows))
        except (MalformedPacket, struct.error, IndexError, ValueError, OverflowError):
            return  # options are an aside: a bad one must not cost the flow records
        if announced:
            dom = (key[0], key[1])
            state = self.announced.get(dom)
            if state is None:
                state = self.announced[dom] = DomainSampling()
            sampling.learn(state, announced)

    # -- templates -------------------------------------------------------------------
    def _store(self, key: tuple[str, int, int], tpl: Template) -> None:
        if key not in self.templates:
            count = self.per_exporter.get(key[0], 0)
            if count >= MAX_TEMPLATES_PER_EXPORTER:
                raise MalformedPacket(f"exporter {key[0]} defines too many templates")
            self.per_exporter[key[0]] = count + 1
        ext: Extractor | OptionsReader = (
            OptionsReader(tpl.fields) if tpl.options else Extractor(tpl))
        self.templates[key] = (tpl, ext if ext.usable else None)
        self.stats.templates = len(self.templates)

    def _withdraw(self, key: tuple[str, int, int]) -> None:
        if self.templates.pop(key, None) is not None:
            self.per_exporter[key[0]] = max(0, self.per_exporter.get(key[0], 1) - 1)
            self.stats.templates = len(self.templates)

    def _data(self, key: tuple[str, int, int], body: bytes, uptime_ms: int,
              export_s: float, out: list[FlowRecord], ipfix: bool) -> None:
        entry = self.templates.get(key)
        if entry is None:
            self.stats.no_template += 1
            return
        tpl, ext = entry
        if tpl.options or ext is None:
            self.stats.options_records += 1
            if isinstance(ext, OptionsReader):
                self._options(key, tpl, ext, body)
            return
        assert isinstance(ext, Extractor)
        if tpl.record is not None:
            usable = len(body) - len(body) % tpl.length
            if tpl.length == 0:
                raise MalformedPacket("template with zero-length records")
            # Trailing bytes shorter than a record are padding (RFC 3954 §5.3, 7011 §3.3.1).
            rows: Any = tpl.record.iter_unpack(body[:usable])
        else:
            rows = _variable_rows(tpl, body)
        if not self.announced and not self.configured:  # the common case: nobody samples
            out.extend(ext.records(rows, uptime_ms, export_s))
            return
        rows = list(rows)
        out.extend(self._scale(key, ext, rows, ext.records(rows, uptime_ms, export_s)))

    # -- NetFlow v9 ------------------------------------------------------------------
    def _v9(self, data: bytes, exporter: str) -> list[FlowRecord]:
        _ver, _count, uptime, secs, _seq, source_id = V9_HEADER.unpack_from(data)
        out: list[FlowRecord] = []
        pos, end = 20, len(data)
        while pos + 4 <= end:
            set_id, length = SET_HEADER.unpack_from(data, pos)
            if length < 4 or pos + length > end:
                raise MalformedPacket(f"v9 flowset length {length} at offset {pos}")
            body = data[pos + 4:pos + length]
            if set_id == 0:
                self._v9_templates(body, (exporter, source_id))
            elif set_id == 1:
                self._v9_options(body, (exporter, source_id))
            elif set_id >= 256:
                self._data((exporter, source_id, set_id), body, uptime, float(secs), out, False)
            pos += length
        return out

    def _v9_templates(self, body: bytes, dom: tuple[str, int]) -> None:
        pos = 0
        while pos + 4 <= len(body):
            tid, count = FIELD_SPEC.unpack_from(body, pos)
            if tid == 0 and count == 0:
                break  # padding
            pos += 4
            if tid < 256 or count == 0 or pos + 4 * count > len(body):
                raise MalformedPacket(f"v9 template {tid} with {count} fields is truncated")
            fields = [FIELD_SPEC.unpack_from(body, pos + 4 * i) for i in range(count)]
            if any(n == 0 for _, n in fields):
                raise MalformedPacket(f"v9 template {tid} has a zero-length field")
            pos += 4 * count
            self._store((*dom, tid), Template.compile([(t, n) for t, n in fields]))

    def _v9_options(self, body: bytes, dom: tuple[str, int]) -> None:
        pos = 0
        while pos + 6 <= len(body):
            tid, scope_len, opt_len = struct.unpack_from("!HHH", body, pos)
            if tid < 256:
                break  # padding
            pos += 6
            if scope_len % 4 or opt_len % 4 or pos + scope_len + opt_len > len(body):
                raise MalformedPacket(f"v9 options template {tid} is truncated")
            n = (scope_len + opt_len) // 4
            fields = [FIELD_SPEC.unpack_from(body, pos + 4 * i) for i in range(n)]
            pos += scope_len + opt_len
            scopes = scope_len // 4
            # Scope types 1-5 (system, interface, line card, cache, template) are not
            # information elements; anything else in the scope (a samplerId) is.
            self._store((*dom, tid), Template.compile(
                [(None if i < scopes and t <= V9_SCOPE_TYPES else t, n)
                 for i, (t, n) in enumerate(fields)], True))

    # -- IPFIX -----------------------------------------------------------------------
    def _ipfix(self, data: bytes, exporter: str) -> list[FlowRecord]:
        _ver, length, export_time, _seq, domain = IPFIX_HEADER.unpack_from(data)
        if length < 16 or length > len(data):
            raise MalformedPacket(f"IPFIX message length {length} but {len(data)} bytes")
        out: list[FlowRecord] = []
        pos = 16
        while pos + 4 <= length:
            set_id, set_len = SET_HEADER.unpack_from(data, pos)
            if set_len < 4 or pos + set_len > length:
                raise MalformedPacket(f"IPFIX set length {set_len} at offset {pos}")
            body = data[pos + 4:pos + set_len]
            if set_id in (2, 3):
                self._ipfix_templates(body, (exporter, domain), options=set_id == 3)
            elif set_id >= 256:
                self._data((exporter, domain, set_id), body, 0, float(export_time), out, True)
            elif set_id != 0:
                pass  # 4..255 are reserved: skip the set (RFC 7011 §3.3.2)
            pos += set_len
        return out

    def _ipfix_templates(self, body: bytes, dom: tuple[str, int], options: bool) -> None:
        pos = 0
        head = 6 if options else 4
        while pos + 4 <= len(body):
            tid, count = FIELD_SPEC.unpack_from(body, pos)
            if count == 0:
                if tid >= 256:
                    self._withdraw((*dom, tid))  # template withdrawal (RFC 7011 §8.1)
                    pos += 4
                    continue
                break
            if tid < 256 or pos + head > len(body):
                raise MalformedPacket(f"IPFIX template {tid} is invalid")
            pos += head
            fields: list[tuple[int | None, int]] = []
            for _ in range(count):
                if pos + 4 > len(body):
                    raise MalformedPacket(f"IPFIX template {tid} is truncated")
                ie, n = FIELD_SPEC.unpack_from(body, pos)
                pos += 4
                if n == 0:
                    raise MalformedPacket(f"IPFIX template {tid} has a zero-length field")
                if ie & 0x8000:  # enterprise-specific: a 4-byte PEN follows; not ours
                    if pos + 4 > len(body):
                        raise MalformedPacket(f"IPFIX template {tid} is truncated")
                    pos += 4
                    fields.append((None, n))
                else:
                    fields.append((ie, n))
            self._store((*dom, tid), Template.compile(fields, options))


def _variable_rows(tpl: Template, body: bytes) -> list[tuple[Any, ...]]:
    """Cut records containing variable-length fields (RFC 7011 §7) into tuples."""
    rows: list[tuple[Any, ...]] = []
    pos, end = 0, len(body)
    minimum = sum(1 if n == VARIABLE else n for _, n in tpl.fields)
    while end - pos >= minimum:
        row: list[Any] = []
        for _, n in tpl.fields:
            if n == VARIABLE:
                n = body[pos]
                pos += 1
                if n == 255:
                    n = int.from_bytes(body[pos:pos + 2], "big")
                    pos += 2
            if pos + n > end:
                raise MalformedPacket("IPFIX variable-length field runs past the set")
            chunk = body[pos:pos + n]
            pos += n
            row.append(int.from_bytes(chunk, "big") if n in _CODES else chunk)
        rows.append(tuple(row))
    return rows
