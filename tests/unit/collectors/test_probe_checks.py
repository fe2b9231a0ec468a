"""Probe checks against real servers this test starts on loopback: TCP, SMTP, HTTP, HTTPS
with a generated short-lived certificate, DNS (a minimal dnspython server) and ICMP."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from collectors.probes.checks import ProbeSpec, icmp_dgram_allowed, run_check
from collectors.probes.service import run_specs


def check(spec: ProbeSpec):
    return asyncio.run(run_check(spec))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            threading.Event().wait(2)
        status = 503 if self.path == "/broken" else 200
        body = f"hello from simpul test {self.path}\n".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, *_args: object) -> None:  # a probe that gave up hung up on us
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def http_server() -> Iterator[ThreadingHTTPServer]:
    yield from _serve(_Quiet(("127.0.0.1", 0), _Handler))


def make_cert(tmp: Path, days: float) -> tuple[Path, Path, dt.datetime]:
    """A self-signed certificate for 127.0.0.1/localhost valid for *days* from now."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    until = now + dt.timedelta(days=days)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(until)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / f"cert{days}.pem", tmp / f"key{days}.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, until.replace(microsecond=0)


@pytest.fixture(params=[3.0, 90.0], ids=["expiring", "fresh"])
def tls_server(request: pytest.FixtureRequest, tmp_path: Path
               ) -> Iterator[tuple[ThreadingHTTPServer, Path, dt.datetime, float]]:
    cert, key, until = make_cert(tmp_path, request.param)
    server = _Quiet(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    for s in _serve(server):
        yield s, cert, until, request.param


def test_http_status_and_content(http_server: ThreadingHTTPServer) -> None:
    port = http_server.server_address[1]
    ok = check(ProbeSpec("http", f"http://127.0.0.1:{port}/index",
                         expect={"status": 200, "contains": "simpul test /index"}))
    assert ok.ok and ok.detail == "HTTP 200" and ok.rtt_ms is not None and ok.rtt_ms > 0
    wrong_text = check(ProbeSpec("http", f"http://127.0.0.1:{port}/",
                                 expect={"contains": "welcome"}))
    assert not wrong_text.ok and "lacks 'welcome'" in wrong_text.detail
    broken = check(ProbeSpec("http", f"http://127.0.0.1:{port}/broken"))
    assert not broken.ok and broken.detail.startswith("HTTP 503")
    assert check(ProbeSpec("http", f"http://127.0.0.1:{port}/broken",
                           expect={"status": [200, 503]})).ok


def test_http_timeout_and_refused(http_server: ThreadingHTTPServer) -> None:
    port = http_server.server_address[1]
    slow = check(ProbeSpec("http", f"http://127.0.0.1:{port}/slow", timeout=0.5))
    assert not slow.ok and slow.detail == "timed out after 0.5s"
    refused = check(ProbeSpec("http", f"http://127.0.0.1:{free_port()}/"))
    assert not refused.ok and "refused" in refused.detail.lower()


def test_https_certificate_expiry(tls_server: tuple[ThreadingHTTPServer, Path, dt.datetime,
                                                    float]) -> None:
    server, cert, until, days = tls_server
    url = f"https://127.0.0.1:{server.server_address[1]}/"
    result = check(ProbeSpec("http", url, expect={"ca_file": str(cert), "cert_min_days": 14}))
    assert result.cert_expires_at is not None
    assert abs((result.cert_expires_at - until).total_seconds()) < 2
    if days < 14:
        assert not result.ok and "certificate expires in 3.0 days" in result.detail
    else:
        assert result.ok and "certificate valid" in result.detail


def test_https_untrusted_certificate_fails_unless_verification_is_off(
        tls_server: tuple[ThreadingHTTPServer, Path, dt.datetime, float]) -> None:
    server, _cert, _until, _days = tls_server
    url = f"https://127.0.0.1:{server.server_address[1]}/"
    untrusted = check(ProbeSpec("http", url))
    assert not untrusted.ok and "certificate rejected" in untrusted.detail
    lax = check(ProbeSpec("http", url, expect={"verify_tls": False, "cert_min_days": 1}))
    assert lax.ok and lax.cert_expires_at is not None


def test_tcp_connect(http_server: ThreadingHTTPServer) -> None:
    assert check(ProbeSpec("tcp", "127.0.0.1", http_server.server_address[1])).ok
    down = check(ProbeSpec("tcp", "127.0.0.1", free_port()))
    assert not down.ok and down.rtt_ms is None


class _Smtp(threading.Thread):
    """Greets like Postfix (multi-line), then waits for QUIT."""

    def __init__(self, greeting: bytes) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.greeting = greeting
        self.quit_seen = threading.Event()

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(self.greeting)
                if conn.recv(100).startswith(b"QUIT"):
                    self.quit_seen.set()
                    conn.sendall(b"221 bye\r\n")


def test_smtp_banner() -> None:
    good = _Smtp(b"220-mail.sidoarjokab.go.id ESMTP\r\n220 ready\r\n")
    bad = _Smtp(b"554 no service\r\n")
    good.start()
    bad.start()
    try:
        ok = check(ProbeSpec("smtp", "127.0.0.1", good.port,
                             expect={"banner_contains": "ESMTP"}))
        assert ok.ok and ok.detail == "220-mail.sidoarjokab.go.id ESMTP | 220 ready"
        assert good.quit_seen.wait(2)
        assert not check(ProbeSpec("smtp", "127.0.0.1", good.port,
                                   expect={"banner_contains": "Exim"})).ok
        refused = check(ProbeSpec("smtp", "127.0.0.1", bad.port))
        assert not refused.ok and "no 220 greeting: 554 no service" in refused.detail
    finally:
        good.sock.close()
        bad.sock.close()


class _Dns(threading.Thread):
    """Answers A queries for www.sidoarjokab.go.id; NXDOMAIN for everything else."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            question = query.question[0]
            if question.name.to_text() == "www.sidoarjokab.go.id.":
                reply.answer.append(dns.rrset.from_text(question.name, 300, "IN", "A",
                                                        "192.0.2.80"))
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(reply.to_wire(), peer)


def test_dns() -> None:
    server = _Dns()
    server.start()
    try:
        ok = check(ProbeSpec("dns", "127.0.0.1", server.port,
                             expect={"name": "www.sidoarjokab.go.id", "address": "192.0.2.80"}))
        assert ok.ok and ok.detail == "www.sidoarjokab.go.id A: 192.0.2.80"
        wrong = check(ProbeSpec("dns", "127.0.0.1", server.port,
                                expect={"name": "www.sidoarjokab.go.id",
                                        "address": "192.0.2.81"}))
        assert not wrong.ok and "expected 192.0.2.81" in wrong.detail
        nx = check(ProbeSpec("dns", "127.0.0.1", server.port,
                             expect={"name": "nope.sidoarjokab.go.id"}))
        assert not nx.ok and nx.detail == "nope.sidoarjokab.go.id A: NXDOMAIN"
    finally:
        server.sock.close()
    silent = check(ProbeSpec("dns", "127.0.0.1", free_port(), timeout=0.5,
                             expect={"name": "www.sidoarjokab.go.id"}))
    assert not silent.ok


def test_icmp_loopback() -> None:
    # Unanswered echo is proven on the lab (tests/integration/collectors/test_probes_lab.py):
    # unit tests send nothing beyond loopback, and every loopback address answers.
    up = check(ProbeSpec("icmp", "127.0.0.1", timeout=2))
    assert up.ok and up.detail == "echo reply from 127.0.0.1" and up.rtt_ms is not None


def test_icmp_reports_which_method() -> None:
    # The binary path is always there; the datagram path only where ping_group_range allows.
    assert check(ProbeSpec("icmp", "127.0.0.1", expect={"method": "binary"}, timeout=2)).ok
    assert isinstance(icmp_dgram_allowed(), bool)


def test_concurrency_bound_keeps_slow_targets_from_delaying_others(
        http_server: ThreadingHTTPServer) -> None:
    port = http_server.server_address[1]
    specs = {i: ProbeSpec("http", f"http://127.0.0.1:{port}/slow", timeout=0.5)
             for i in range(10)}
    specs[99] = ProbeSpec("http", f"http://127.0.0.1:{port}/fast")
    loop_started = dt.datetime.now()
    results = asyncio.run(run_specs(specs, concurrency=50))
    elapsed = (dt.datetime.now() - loop_started).total_seconds()
    assert results[99].ok
    assert all(not results[i].ok for i in range(10))
    assert elapsed < 1.5  # ten 0.5 s timeouts ran side by side, not one after another


def test_unknown_kind_and_bad_target() -> None:
    assert check(ProbeSpec("gopher", "x")).detail == "unknown probe kind 'gopher'"
    bad = check(ProbeSpec("http", "ftp://example.test/"))
    assert not bad.ok and "not an http(s) URL" in bad.detail
