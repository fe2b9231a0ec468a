"""The checks themselves: one coroutine per probe kind, each returning a CheckResult.

Every check is plain asyncio so hundreds run at once in one thread; the runner bounds
concurrency and applies the per-probe timeout, so a check only has to do its protocol.

ICMP: an unprivileged ``SOCK_DGRAM`` ICMP socket when ``net.ipv4.ping_group_range``
allows the process's group, otherwise the system ``ping`` binary (setuid or
``cap_net_raw``); no raw socket, so simpul never needs root for probing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

BODY_LIMIT = 256 * 1024
DEFAULT_CERT_MIN_DAYS = 14


@dataclass(frozen=True)
class ProbeSpec:
    """What one check needs, detached from the database row."""

    kind: str
    target: str
    port: int | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    timeout: float = 5.0


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: up or not, how fast, and why."""

    ok: bool
    rtt_ms: float | None
    detail: str
    cert_expires_at: datetime | None = None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _host_port(spec: ProbeSpec, default: int | None) -> tuple[str, int]:
    host = spec.target
    port = spec.port or default
    if port is None:
        raise ValueError(f"{spec.kind} probe of {host} needs a port")
    return host, port


def _why(exc: BaseException) -> str:
    """The reason of a socket error in words ("Connection refused"), not asyncio's wrapper."""
    if isinstance(exc, ssl.SSLError):
        return f"TLS {exc.reason or exc}"
    errno_ = getattr(exc, "errno", None)
    if isinstance(errno_, int) and errno_ > 0:
        return os.strerror(errno_)
    return str(exc) or type(exc).__name__


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()


# --- TCP and SMTP --------------------------------------------------------------------------

async def check_tcp(spec: ProbeSpec) -> CheckResult:
    """Up when a TCP connection to target:port is accepted."""
    host, port = _host_port(spec, None)
    started = time.perf_counter()
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return CheckResult(False, None, f"connect {host}:{port}: {_why(exc)}")
    rtt = _ms(started)
    await _close(writer)
    return CheckResult(True, rtt, f"connected to {host}:{port}")


async def check_smtp(spec: ProbeSpec) -> CheckResult:
    """Up when the server greets with 220 (and the banner contains ``banner_contains``)."""
    host, port = _host_port(spec, 25)
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return CheckResult(False, None, f"connect {host}:{port}: {_why(exc)}")
    try:
        lines: list[str] = []
        while True:  # multi-line greetings are "220-..." until "220 ..."
            raw = await reader.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-" or len(lines) > 20:
                break
        rtt = _ms(started)
        writer.write(b"QUIT\r\n")
        with contextlib.suppress(OSError):
            await writer.drain()
    finally:
        await _close(writer)
    banner = " | ".join(lines)
    if not lines or not lines[-1].startswith("220"):
        return CheckResult(False, rtt, f"no 220 greeting: {banner or 'connection closed'}"[:500])
    wanted = str(spec.expect.get("banner_contains") or "")
    if wanted and wanted not in banner:
        return CheckResult(False, rtt, f"banner lacks {wanted!r}: {banner}"[:500])
    return CheckResult(True, rtt, banner[:500])


# --- HTTP(S) -------------------------------------------------------------------------------

def _status_ok(status: int, expected: Any) -> bool:
    if expected in (None, ""):
        return 200 <= status < 400
    if isinstance(expected, list | tuple):
        return status in {int(s) for s in expected}
    return status == int(expected)


def _tls_context(expect: dict[str, Any]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=expect.get("ca_file") or None)
    if expect.get("verify_tls") is False:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _cert_expiry(writer: asyncio.StreamWriter) -> datetime | None:
    from cryptography import x509

    sslobj = writer.get_extra_info("ssl_object")
    der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    if not der:
        return None
    return x509.load_der_x509_certificate(der).not_valid_after_utc


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = (await reader.readline()).decode("latin-1").strip()
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    while True:
        line = (await reader.readline()).decode("latin-1").strip()
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.read(min(int(headers["content-length"]), BODY_LIMIT))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while len(body) < BODY_LIMIT:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.read(BODY_LIMIT)
    return int(parts[1]), headers, body


async def check_http(spec: ProbeSpec) -> CheckResult:
    """Up when the status is expected, the body contains ``contains`` and the cert is valid.

    ``expect`` keys: ``status`` (int or list; default any 2xx/3xx), ``contains``,
    ``verify_tls`` (default true), ``ca_file``, ``cert_min_days`` (default 14), ``proxy``
    (``host:port`` of an HTTP proxy to go through, plain http only), ``host_header``.
    """
    url = urlsplit(spec.target)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"not an http(s) URL: {spec.target}")
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    expect = spec.expect
    proxy = str(expect.get("proxy") or "")
    host_header = str(expect.get("host_header") or url.netloc)
    if proxy:
        if tls:
            raise ValueError("an https probe through a proxy is not supported")
        phost, _, pport = proxy.rpartition(":")
        connect_to, request_target = (phost, int(pport)), spec.target
    else:
        connect_to, request_target = (url.hostname, port), path
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(
            *connect_to, ssl=_tls_context(expect) if tls else None,
            server_hostname=url.hostname if tls else None)
    except ssl.SSLCertVerificationError as exc:
        return CheckResult(False, None, f"TLS certificate rejected: {exc.verify_message}")
    except (OSError, ssl.SSLError) as exc:
        return CheckResult(False, None, f"connect {connect_to[0]}:{connect_to[1]}: "
                                        f"{_why(exc)}")
    cert_expires = _cert_expiry(writer) if tls else None
    try:
        writer.write((f"GET {request_target} HTTP/1.1\r\nHost: {host_header}\r\n"
                      "User-Agent: simpul-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
                      ).encode())
        await writer.drain()
        status, _headers, body = await _read_response(reader)
    except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
        return CheckResult(False, _ms(started), f"bad response: {exc}"[:500], cert_expires)
    finally:
        await _close(writer)
    rtt = _ms(started)
    if not _status_ok(status, expect.get("status")):
        wanted_status = expect.get("status") or "2xx/3xx"
        return CheckResult(False, rtt, f"HTTP {status}, expected {wanted_status}", cert_expires)
    wanted = str(expect.get("contains") or "")
    if wanted and wanted.encode() not in body:
        return CheckResult(False, rtt, f"HTTP {status} but the body lacks {wanted!r}", cert_expires)
    if cert_expires is not None:
        days = (cert_expires - datetime.now(UTC)).total_seconds() / 86400
        minimum = float(expect.get("cert_min_days", DEFAULT_CERT_MIN_DAYS))
        if days < minimum:
            state = "expired" if days < 0 else f"expires in {days:.1f} days"
            return CheckResult(False, rtt, f"HTTP {status}; certificate {state} "
                                           f"({cert_expires:%Y-%m-%d %H:%M} UTC, minimum "
                                           f"{minimum:g} days)", cert_expires)
        return CheckResult(True, rtt, f"HTTP {status}; certificate valid {days:.0f} more days",
                           cert_expires)
    return CheckResult(True, rtt, f"HTTP {status}")


# --- DNS -----------------------------------------------------------------------------------

async def check_dns(spec: ProbeSpec) -> CheckResult:
    """Up when the server answers ``name``/``type`` with NOERROR (and the expected address).

    ``target`` is the DNS server's address; ``expect``: ``name`` (required), ``type``
    (default A), ``address`` (an answer that must be among the records).
    """
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rcode

    name = str(spec.expect.get("name") or "")
    if not name:
        raise ValueError("a dns probe needs expect.name (the name to resolve)")
    rdtype = str(spec.expect.get("type") or "A").upper()
    host, port = _host_port(spec, 53)
    query = dns.message.make_query(name, rdtype)
    started = time.perf_counter()
    try:
        answer = await dns.asyncquery.udp(query, host, port=port, timeout=spec.timeout)
    except dns.exception.Timeout:
        return CheckResult(False, None, f"no answer from {host}:{port}")
    except (OSError, dns.exception.DNSException) as exc:
        return CheckResult(False, None, f"query to {host}:{port} failed: {exc}")
    rtt = _ms(started)
    rcode = dns.rcode.to_text(answer.rcode())
    if answer.rcode() != dns.rcode.NOERROR:
        return CheckResult(False, rtt, f"{name} {rdtype}: {rcode}")
    records = [rd.to_text() for rrset in answer.answer for rd in rrset]
    if not records:
        return CheckResult(False, rtt, f"{name} {rdtype}: no records")
    wanted = str(spec.expect.get("address") or "")
    if wanted and wanted not in records:
        return CheckResult(False, rtt, f"{name} {rdtype}: {', '.join(records)} (expected {wanted})")
    return CheckResult(True, rtt, f"{name} {rdtype}: {', '.join(records)}"[:500])


# --- ICMP ----------------------------------------------------------------------------------

def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp_dgram_allowed() -> bool:
    """True when this process may open an unprivileged ICMP socket (ping_group_range)."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    except OSError:
        return False
    sock.close()
    return True


async def _ping_dgram(host: str, timeout: float) -> CheckResult:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, family=socket.AF_INET)
    address = infos[0][4][0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    try:
        seq = os.getpid() & 0xFFFF
        payload = b"simpul-probe"
        header = struct.pack("!BBHHH", 8, 0, 0, 0, seq)
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), 0, seq) + payload
        started = time.perf_counter()
        try:
            await loop.sock_sendto(sock, packet, (address, 0))
        except OSError as exc:
            return CheckResult(False, None, f"echo to {address}: {_why(exc)}")
        deadline = started + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return CheckResult(False, None, f"no echo reply from {address}")
            try:
                data, _peer = await asyncio.wait_for(loop.sock_recvfrom(sock, 2048), remaining)
            except TimeoutError:
                return CheckResult(False, None, f"no echo reply from {address}")
            if len(data) >= 8 and data[0] == 0 and struct.unpack("!H", data[6:8])[0] == seq:
                return CheckResult(True, _ms(started), f"echo reply from {address}")
    finally:
        sock.close()


_PING_TIME = re.compile(r"time[=<]([\d.]+) ?ms")


async def _ping_binary(host: str, timeout: float) -> CheckResult:
    ping = shutil.which("ping")
    if ping is None:
        raise ValueError("ICMP needs net.ipv4.ping_group_range to include simpul's group, "
                         "or the ping binary")
    proc = await asyncio.create_subprocess_exec(
        ping, "-n", "-c", "1", "-W", str(max(1, int(timeout + 0.999))), host,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    text = out.decode("utf-8", "replace")
    found = _PING_TIME.search(text)
    if proc.returncode == 0 and found:
        return CheckResult(True, float(found.group(1)), f"echo reply from {host}")
    last = text.strip().splitlines()[-1] if text.strip() else "no output"
    return CheckResult(False, None, f"no echo reply from {host} ({last})"[:500])


async def check_icmp(spec: ProbeSpec) -> CheckResult:
    """Up when the target answers one echo request within the timeout."""
    if spec.expect.get("method") != "binary" and icmp_dgram_allowed():
        return await _ping_dgram(spec.target, spec.timeout)
    return await _ping_binary(spec.target, spec.timeout)


CHECKS = {"icmp": check_icmp, "tcp": check_tcp, "http": check_http, "dns": check_dns,
          "smtp": check_smtp}


async def run_check(spec: ProbeSpec) -> CheckResult:
    """Run one check under its timeout; never raises for a down or misbehaving target."""
    check = CHECKS.get(spec.kind)
    if check is None:
        return CheckResult(False, None, f"unknown probe kind {spec.kind!r}")
    try:
        return await asyncio.wait_for(check(spec), spec.timeout)
    except TimeoutError:
        return CheckResult(False, None, f"timed out after {spec.timeout:g}s")
    except (ValueError, OSError, ssl.SSLError, UnicodeError) as exc:
        return CheckResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
