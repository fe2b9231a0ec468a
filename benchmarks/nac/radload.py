"""A small asyncio RADIUS load generator: MAB Access-Requests, per-request latency.

radclient (``-p`` parallel) reports only totals, so the benchmark measures with this
client and cross-checks the rate with radclient. Every packet gets a fresh Request
Authenticator (FreeRADIUS would otherwise answer a resent ID+authenticator from its
duplicate cache, which is not a decision). Requests are spread over several UDP
sockets so that more than 256 can be outstanding.

Two modes: *closed* loop (``concurrency`` requests always in flight: the maximum
rate) and *open* loop (a fixed offered rate, the way switches send: latency at that
rate, unaffected by the client waiting for answers).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import socket
import statistics
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

ACCEPT, REJECT = 2, 3


def _attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!BB", kind, len(value) + 2) + value


def access_request(ident: int, secret: bytes, mac: str, nas_port: str = "Gi1/0/7"
                   ) -> bytes:
    """One MAB Access-Request as a switch sends it (PAP, Message-Authenticator)."""
    authenticator = os.urandom(16)
    user = mac.replace(":", "").lower().encode()
    padded = user + b"\0" * (-len(user) % 16)
    digest = hashlib.md5(secret + authenticator).digest()  # RFC 2865 §5.2 demands MD5
    password = bytes(a ^ b for a, b in zip(padded[:16], digest, strict=True))
    attrs = (_attr(1, user) + _attr(2, password)
             + _attr(31, mac.upper().replace(":", "-").encode())
             + _attr(4, socket.inet_aton("127.0.0.1")) + _attr(87, nas_port.encode())
             + _attr(6, struct.pack("!I", 10)))  # Service-Type Call-Check
    length = 20 + len(attrs) + 18
    header = struct.pack("!BBH", 1, ident, length) + authenticator
    mac_value = hmac.new(secret, header + attrs + _attr(80, b"\0" * 16), hashlib.md5).digest()
    return header + attrs + _attr(80, mac_value)


@dataclass
class LoadResult:
    """What one run measured."""

    mode: str
    sent: int = 0
    answered: int = 0
    accepts: int = 0
    rejects: int = 0
    timeouts: int = 0
    wrong: int = 0  # answers that differ from the expected Accept/Reject
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Answered requests per second."""
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The *p*-th percentile latency in ms (nearest rank)."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def summary(self) -> dict[str, float | int | str]:
        """JSON-ready numbers."""
        return {"mode": self.mode, "sent": self.sent, "answered": self.answered,
                "accepts": self.accepts, "rejects": self.rejects, "timeouts": self.timeouts,
                "wrong_answers": self.wrong, "seconds": round(self.seconds, 3),
                "decisions_per_s": round(self.rate, 1),
                "p50_ms": round(statistics.median(self.latencies_ms), 2)
                if self.latencies_ms else None,
                "p99_ms": round(self.percentile(99), 2) if self.latencies_ms else None,
                "max_ms": round(max(self.latencies_ms), 2) if self.latencies_ms else None}


class _Channel(asyncio.DatagramProtocol):
    """One UDP socket with up to 256 outstanding IDs."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[float, asyncio.Future[int]]] = {}
        self.free: list[int] = list(range(256))
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        entry = self.waiting.pop(data[1], None)
        if entry is not None and not entry[1].done():
            entry[1].set_result(data[0])


class RadiusLoad:
    """Fires MAB requests at ``127.0.0.1:port`` and records the answers."""

    def __init__(self, port: int, secret: str, macs: Sequence[tuple[str, int]],
                 sockets: int = 8, timeout: float = 3.0) -> None:
        self.addr = ("127.0.0.1", port)
        self.secret = secret.encode()
        self.macs = macs  # (mac, expected code)
        self.timeout = timeout
        self.n_sockets = sockets
        self.channels: list[_Channel] = []

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.n_sockets):
            _t, proto = await loop.create_datagram_endpoint(_Channel, remote_addr=self.addr)
            self.channels.append(proto)

    def _close(self) -> None:
        for ch in self.channels:
            if ch.transport is not None:
                ch.transport.close()
        self.channels = []

    async def _one(self, index: int, result: LoadResult) -> None:
        channel = min(self.channels, key=lambda c: len(c.waiting))
        while not channel.free:
            await asyncio.sleep(0.001)
        ident = channel.free.pop()
        mac, expected = self.macs[index % len(self.macs)]
        packet = access_request(ident, self.secret, mac)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        channel.waiting[ident] = (started, future)
        assert channel.transport is not None
        channel.transport.sendto(packet)
        result.sent += 1
        try:
            code = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            channel.waiting.pop(ident, None)
            result.timeouts += 1
            code = 0
        else:
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.answered += 1
            result.accepts += code == ACCEPT
            result.rejects += code == REJECT
            result.wrong += code != expected
        finally:
            channel.free.append(ident)

    async def closed(self, total: int, concurrency: int) -> LoadResult:
        """Keep *concurrency* requests in flight until *total* were answered."""
        result = LoadResult(f"closed loop, {concurrency} in flight")
        await self._open()
        counter = iter(range(total))

        async def worker() -> None:
            for index in counter:
                await self._one(index, result)

        started = time.perf_counter()
        try:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        finally:
            result.seconds = time.perf_counter() - started
            self._close()
        return result

    async def open(self, rate: float, seconds: float) -> LoadResult:
        """Offer *rate* requests per second for *seconds*, whatever the answers do."""
        result = LoadResult(f"open loop, {rate:.0f}/s offered")
        await self._open()
        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        total = int(rate * seconds)
        try:
            for index in range(total):
                due = started + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._one(index, result)))
            await asyncio.gather(*tasks)
        finally:
            result.seconds = time.perf_counter() - started
            self._close()
        return result


def run_closed(port: int, secret: str, macs: Sequence[tuple[str, int]], total: int,
               concurrency: int) -> LoadResult:
    """Synchronous wrapper of ``RadiusLoad.closed``."""
    return asyncio.run(RadiusLoad(port, secret, macs).closed(total, concurrency))


def run_open(port: int, secret: str, macs: Sequence[tuple[str, int]], rate: float,
             seconds: float) -> LoadResult:
    """Synchronous wrapper of ``RadiusLoad.open``."""
    return asyncio.run(RadiusLoad(port, secret, macs).open(rate, seconds))
