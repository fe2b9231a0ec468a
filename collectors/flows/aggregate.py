"""In-memory aggregation of flow records into 1-minute buckets, per kind of key.

The reader thread folds every record straight into four small dicts — per source,
destination, service and conversation (see ``models``) — with both ends already
attributed to OPDs through a cache keyed by the raw decoded address, so no text is
made per record. The writer thread swaps the dicts out (``drain``), turns the few
thousand keys into rows and inserts them; the database can never make the collector
drop datagrams, and a flush costs in proportion to hosts and services, not flows.

Conversations are the only dimension whose key count grows with the flows: per flush,
at most ``max_conversations`` distinct conversations are tracked (existing ones keep
counting), and only the biggest ``conversations_per_minute`` of each minute are kept.
"""

from __future__ import annotations

import heapq
import ipaddress
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from collectors.flows.models import (
    KIND_CONVERSATION,
    KIND_DESTINATION,
    KIND_SERVICE,
    KIND_SOURCE,
    RES_MINUTE,
)
from collectors.flows.netflow import FlowRecord

MAX_SPREAD_BUCKETS = 60
MAX_FUTURE_S = 300
MAX_PAST_S = 86400
_MISS = object()


def service_port(protocol: int, src_port: int, dst_port: int) -> int:
    """Return the service side's port: the lower of the two (0 for non TCP/UDP/SCTP)."""
    if protocol not in (6, 17, 132):
        return 0
    if not src_port or not dst_port:
        return src_port or dst_port
    return src_port if src_port < dst_port else dst_port


def address_text(value: Any) -> str:
    """Return the text form of an address as decoded (int = IPv4, 16 bytes = IPv6)."""
    if isinstance(value, int):
        return str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if isinstance(value, bytes) and len(value) == 16:
        return str(ipaddress.IPv6Address(value))
    if isinstance(value, bytes) and len(value) == 4:
        return str(ipaddress.IPv4Address(value))
    return str(value)


def _add(acc: dict[Any, list[int]], key: Any, b: int, p: int, f: int) -> None:
    cur = acc.get(key)
    if cur is None:
        acc[key] = [b, p, f]
    else:
        cur[0] += b
        cur[1] += p
        cur[2] += f


class Aggregator:
    """Sums records per minute and dimension; thread-safe swap for the writer.

    Args:
        opd_of: address text → OPD id (the inventory resolver); answers are cached per
            raw address until ``reset_opds``.
    """

    def __init__(self, opd_of: Callable[[str], int | None] | None = None, *,
                 step: int = RES_MINUTE, max_conversations: int = 200_000,
                 conversations_per_minute: int = 1000) -> None:
        self.step = step
        self.opd_of = opd_of or (lambda _a: None)
        self.max_conversations = max_conversations
        self.conversations_per_minute = conversations_per_minute
        self._opd_cache: dict[Any, int | None] = {}
        self._lock = threading.Lock()
        self._new()
        self.records = 0
        self.clamped = 0
        self.conversations_dropped = 0

    def _new(self) -> None:
        self._src: dict[tuple[Any, ...], list[int]] = {}
        self._dst: dict[tuple[Any, ...], list[int]] = {}
        self._svc: dict[tuple[Any, ...], list[int]] = {}
        self._conv: dict[tuple[Any, ...], list[int]] = {}

    def __len__(self) -> int:
        return len(self._src) + len(self._dst) + len(self._svc) + len(self._conv)

    def reset_opds(self) -> None:
        """Forget cached OPD answers (after the inventory's prefixes were reloaded)."""
        self._opd_cache = {}

    def _opd(self, raw: Any) -> int | None:
        cache = self._opd_cache
        found = cache.get(raw, _MISS)
        if found is _MISS:
            if len(cache) >= 500_000:
                cache.clear()
            found = cache[raw] = self.opd_of(address_text(raw))
        return found  # type: ignore[return-value]

    def add(self, exporter: str, records: Iterable[FlowRecord], now: float) -> None:
        """Add *records* from *exporter*; *now* bounds implausible flow times."""
        step = self.step
        lo, hi = now - MAX_PAST_S, now + MAX_FUTURE_S
        cache = self._opd_cache
        opd = self._opd
        n = 0
        with self._lock:
            src_acc, dst_acc, svc_acc, conv = self._src, self._dst, self._svc, self._conv
            src_get, dst_get, svc_get, conv_get = (src_acc.get, dst_acc.get, svc_acc.get,
                                                   conv.get)
            cache_get = cache.get
            room = len(conv) < self.max_conversations
            for src, dst, proto, sport, dport, nbytes, npkts, start, end in records:
                n += 1
                if not lo <= end <= hi:
                    end = start = now  # exporter clock far off: count it at arrival
                    self.clamped += 1
                if proto == 6 or proto == 17 or proto == 132:
                    port = (sport if sport < dport else dport) if sport and dport else (
                        sport or dport)
                else:
                    port = 0
                so = cache_get(src, _MISS)
                if so is _MISS:
                    so = opd(src)
                do = cache_get(dst, _MISS)
                if do is _MISS:
                    do = opd(dst)
                ts = int(end)
                ts -= ts % step
                if start < ts and start >= end - MAX_SPREAD_BUCKETS * step:
                    # A flow that started in an earlier minute: share it out by time.
                    for bts, b, p, f in self._shares(nbytes, npkts, start, end, ts):
                        _add(src_acc, (bts, exporter, src, so, do), b, p, f)
                        _add(dst_acc, (bts, exporter, dst, so, do), b, p, f)
                        _add(svc_acc, (bts, exporter, proto, port, so, do), b, p, f)
                        self._add_conv(conv, (bts, exporter, src, dst, proto, port), b, p, f)
                    room = len(conv) < self.max_conversations
                    continue
                key = (ts, exporter, src, so, do)
                cur = src_get(key)
                if cur is None:
                    src_acc[key] = [nbytes, npkts, 1]
                else:
                    cur[0] += nbytes
                    cur[1] += npkts
                    cur[2] += 1
                key = (ts, exporter, dst, so, do)
                cur = dst_get(key)
                if cur is None:
                    dst_acc[key] = [nbytes, npkts, 1]
                else:
                    cur[0] += nbytes
                    cur[1] += npkts
                    cur[2] += 1
                key = (ts, exporter, proto, port, so, do)
                cur = svc_get(key)
                if cur is None:
                    svc_acc[key] = [nbytes, npkts, 1]
                else:
                    cur[0] += nbytes
                    cur[1] += npkts
                    cur[2] += 1
                key = (ts, exporter, src, dst, proto, port)
                cur = conv_get(key)
                if cur is not None:
                    cur[0] += nbytes
                    cur[1] += npkts
                    cur[2] += 1
                elif room:
                    conv[key] = [nbytes, npkts, 1]
                    room = len(conv) < self.max_conversations
                else:
                    self.conversations_dropped += 1
            self.records += n

    def _add_conv(self, conv: dict[tuple[Any, ...], list[int]], key: tuple[Any, ...],
                  b: int, p: int, f: int) -> None:
        if key in conv or len(conv) < self.max_conversations:
            _add(conv, key, b, p, f)
        elif f:
            self.conversations_dropped += 1

    def _shares(self, nbytes: int, npkts: int, start: float, end: float,
                last: int) -> list[tuple[int, int, int, int]]:
        """Share a long flow's counters between the buckets it overlaps, by time."""
        step = self.step
        first = int(start) - int(start) % step
        duration = end - start
        left_b, left_p = nbytes, npkts
        out = []
        bucket = first
        while bucket <= last:
            if bucket == last:
                out.append((bucket, left_b, left_p, 1))
                break
            overlap = min(end, bucket + step) - max(start, bucket)
            share_b, share_p = int(nbytes * overlap / duration), int(npkts * overlap / duration)
            left_b -= share_b
            left_p -= share_p
            out.append((bucket, share_b, share_p, 0))
            bucket += step
        return out

    def drain(self) -> list[dict[str, Any]]:
        """Take everything aggregated so far as ``flow_aggregates`` rows (minute rows)."""
        with self._lock:
            src_acc, dst_acc, svc_acc, conv = self._src, self._dst, self._svc, self._conv
            self._new()
        texts: dict[Any, str] = {}

        def text(value: Any) -> str:
            found = texts.get(value)
            if found is None:
                found = texts[value] = address_text(value)
            return found

        out: list[dict[str, Any]] = []

        def row(kind: str, ts: int, exp: str, s: str, d: str, proto: int, port: int,
                so: Any, do: Any, v: list[int]) -> None:
            out.append({"kind": kind, "resolution": RES_MINUTE, "ts": ts, "exporter": exp,
                        "src_addr": s, "dst_addr": d, "protocol": int(proto or 0),
                        "port": int(port or 0), "src_opd_id": so, "dst_opd_id": do,
                        "bytes": v[0], "packets": v[1], "flows": v[2]})

        for (ts, exp, addr, so, do), v in src_acc.items():
            row(KIND_SOURCE, ts, exp, text(addr), "", 0, 0, so, do, v)
        for (ts, exp, addr, so, do), v in dst_acc.items():
            row(KIND_DESTINATION, ts, exp, "", text(addr), 0, 0, so, do, v)
        for (ts, exp, proto, port, so, do), v in svc_acc.items():
            row(KIND_SERVICE, ts, exp, "", "", proto, port, so, do, v)
        time.sleep(0)  # give the reader thread the GIL between the heavier steps
        groups: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        for key in conv:
            groups.setdefault((key[0], key[1]), []).append(key)
        time.sleep(0)
        for keys in groups.values():
            top = keys if len(keys) <= self.conversations_per_minute else heapq.nlargest(
                self.conversations_per_minute, keys, key=lambda k: conv[k][0])
            for key in top:
                ts, exp, s, d, proto, port = key
                row(KIND_CONVERSATION, ts, exp, text(s), text(d), proto, port, self._opd(s),
                    self._opd(d), conv[key])
        return out
