"""asyncio syslog listeners: UDP, TCP (RFC 6587) and TLS (RFC 5425).

A receiver never parses and never touches the database: it frames bytes into records,
stamps arrival time and peer, and hands them to the queue. Anything a peer sends —
garbage, oversize lines, broken TLS — ends that peer's connection at worst, never the
listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from dataclasses import dataclass, field

from loguru import logger

from siem.framing import Framer
from siem.intake import RecordQueue
from siem.spool import FLAG_TRUNCATED, Record
from siem.stats import SourceStats

READ_SIZE = 65536


@dataclass
class ReceiverContext:
    """What every listener shares."""

    queue: RecordQueue
    stats: SourceStats
    max_message: int = 65536
    connections: set[asyncio.Task[None]] = field(default_factory=set)


class UdpReceiver(asyncio.DatagramProtocol):
    """One datagram is one message; a full queue means a counted drop."""

    def __init__(self, ctx: ReceiverContext) -> None:
        self.ctx = ctx

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        ip, port = addr[0], addr[1]
        flags = 0
        if len(data) > self.ctx.max_message:
            data, flags = data[:self.ctx.max_message], FLAG_TRUNCATED
        data = data.rstrip(b"\r\n\x00") or data.rstrip(b"\r\n")  # all-NUL is kept
        if not data:
            return
        rec = Record(data, time.time(), "udp", ip, port, "", flags)
        if self.ctx.queue.offer([rec]):
            self.ctx.stats.received(ip, "udp", 1, len(data), 1 if flags else 0)
        else:
            self.ctx.stats.dropped(ip, "udp")

    def error_received(self, exc: Exception) -> None:
        logger.debug("udp receive error: {}", exc)


async def handle_stream(ctx: ReceiverContext, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter, transport: str) -> None:
    """Read one TCP/TLS connection until EOF, accepting each chunk into the spool first."""
    peer = writer.get_extra_info("peername") or ("", 0)
    ip, port = str(peer[0]), int(peer[1]) if len(peer) > 1 else 0
    framer = Framer(ctx.max_message)
    try:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                await _accept(ctx, framer.finish(), ip, port, transport)
                break
            frames = framer.feed(data)
            if frames:
                await _accept(ctx, frames, ip, port, transport)
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError) as exc:
        logger.debug("{} connection from {} ended: {}", transport, ip, exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # never let one connection take the listener down
        logger.opt(exception=exc).error("{} connection from {} failed: {}", transport, ip, exc)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)


async def _accept(ctx: ReceiverContext, frames: list[tuple[bytes, int]], ip: str, port: int,
                  transport: str) -> None:
    if not frames:
        return
    now = time.time()
    records = [Record(data, now, transport, ip, port, "", flags) for data, flags in frames]
    fut = await ctx.queue.put(records)
    await fut  # accepted = in the spool; only now read more from the socket
    ctx.stats.received(ip, transport, len(records), sum(len(d) for d, _ in frames),
                       sum(1 for _, f in frames if f & FLAG_TRUNCATED))


def tls_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """A server context for RFC 5425: TLS 1.2 or newer, no client certificate required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


async def start_udp(ctx: ReceiverContext, host: str, port: int,
                    rcvbuf: int) -> asyncio.DatagramTransport:
    """Bind the UDP listener; return its transport."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    transport, _ = await loop.create_datagram_endpoint(lambda: UdpReceiver(ctx), sock=sock)
    return transport


async def start_stream(ctx: ReceiverContext, host: str, port: int,
                       ssl_context: ssl.SSLContext | None) -> asyncio.Server:
    """Bind a TCP (or, with *ssl_context*, TLS) listener; return the server."""
    transport = "tls" if ssl_context else "tcp"

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            ctx.connections.add(task)
        try:
            await handle_stream(ctx, reader, writer, transport)
        finally:
            if task is not None:
                ctx.connections.discard(task)

    return await asyncio.start_server(
        on_connect, host, port, ssl=ssl_context, limit=READ_SIZE, reuse_address=True,
        ssl_handshake_timeout=10 if ssl_context else None)


def bound_port(server: asyncio.Server | asyncio.DatagramTransport) -> int:
    """Return the port a listener actually bound (useful with port 0)."""
    if isinstance(server, asyncio.Server):
        return int(server.sockets[0].getsockname()[1])
    return int(server.get_extra_info("sockname")[1])
