"""Real sockets on 127.0.0.1: good and hostile input over UDP, TCP and TLS."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
from collections.abc import Callable

from siem import store
from siem.service import SiemService
from simpul.context import AppContext
from tests.integration.siem.conftest import wait_for_events

GOOD = b"<38>Nov 23 10:15:01 bastion sshd[2211]: Failed password for invalid user admin " \
       b"from 198.51.100.7 port 52144 ssh2"

HOSTILE = [
    os.urandom(3000),
    b"\x00" * 200,
    b"<999>bad pri",
    b"<>empty pri",
    b"no pri at all",
    b"\xff\xfe invalid utf-8 \xc3\x28",
    b"<13>1 9999-12-31T23:59:59Z future - - - far future",
    b"<13>1 0001-01-01T00:00:00Z past - - - far past",
    b"<13>" + b"L" * 70000,
]


def tcp_send(port: int, payload: bytes, *, tls: bool = False) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock)
    with sock:
        sock.sendall(payload)


def stored_messages(app: AppContext) -> list:
    with app.db.session(write=False) as session:
        return store.list_events(session, limit=1000).events


def test_udp_hostile_then_good(start_service: Callable[..., SiemService],
                               lite_app: AppContext) -> None:
    service = start_service()
    port = service.ports["udp"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for payload in [*HOSTILE[:-1], b"<13>" + b"L" * 65000]:
            sock.sendto(payload, ("127.0.0.1", port))
        sock.sendto(GOOD, ("127.0.0.1", port))
    assert wait_for_events(lite_app.db, len(HOSTILE) + 1) == len(HOSTILE) + 1
    events = stored_messages(lite_app)
    good = [e for e in events if e.action == "ssh_login"]
    assert len(good) == 1 and good[0].source_ip == "198.51.100.7"
    assert any(e.raw_encoding == "base64" for e in events)
    assert sum("parse_error" in e.doc.get("tags", []) for e in events) >= 5
    assert any("timestamp_out_of_range" in e.doc.get("tags", []) for e in events)


def test_tcp_hostile_streams_then_good(start_service: Callable[..., SiemService],
                                       lite_app: AppContext) -> None:
    service = start_service(max_message=65536)
    port = service.ports["tcp"]
    tcp_send(port, os.urandom(20000))                   # garbage, newline-framed by chance
    tcp_send(port, b"<13>" + b"A" * 200000 + b"\n")    # 200 KB line: truncated, kept
    tcp_send(port, b"99999999 <13>lie about the length")  # count lie, then EOF
    tcp_send(port, b"12 <13>1 - - - -x 5 <13>1")        # octet counting, short frames
    tcp_send(port, b"\x00\x00\x00\n\xff\n")
    tcp_send(port, GOOD + b"\n")
    tcp_send(port, str(len(GOOD)).encode() + b" " + GOOD)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        good = [e for e in stored_messages(lite_app) if e.action == "ssh_login"]
        if len(good) == 2:
            break
        time.sleep(0.1)
    assert len(good) == 2
    events = stored_messages(lite_app)
    assert any("truncated" in e.doc.get("tags", []) for e in events)
    truncated = [e for e in events if "truncated" in e.doc.get("tags", [])]
    assert all(len(e.raw) <= 65536 for e in truncated)


def test_tls_hostile_then_good(start_service: Callable[..., SiemService],
                               lite_app: AppContext, tls_pair: tuple[str, str]) -> None:
    cert, key = tls_pair
    service = start_service(tls_cert=cert, tls_key=key)
    port = service.ports["tls"]
    # Plain bytes at the TLS port: the handshake fails, the listener carries on.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(os.urandom(4000))
        with contextlib.suppress(OSError):
            raw.recv(100)
    tcp_send(port, b"\xff\x00 garbage inside tls\n", tls=True)
    tcp_send(port, str(len(GOOD)).encode() + b" " + GOOD, tls=True)
    deadline = time.monotonic() + 20
    good: list = []
    while time.monotonic() < deadline and not good:
        good = [e for e in stored_messages(lite_app) if e.action == "ssh_login"]
        time.sleep(0.1)
    assert len(good) == 1
    assert good[0].doc["input.type"] == "tls"


def test_counters_are_kept_per_source(start_service: Callable[..., SiemService],
                                      lite_app: AppContext) -> None:
    service = start_service()
    tcp_send(service.ports["tcp"], GOOD + b"\n" + b"<13>unknown thing\n")
    assert wait_for_events(lite_app.db, 2) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        live = service.stats.snapshot().get("127.0.0.1", {})
        if live.get("parsed") == 1 and live.get("unparsed") == 1:
            break
        time.sleep(0.05)
    assert live["received"] == 2 and live["parsed"] == 1 and live["unparsed"] == 1
    assert live["bytes"] == len(GOOD) + len(b"<13>unknown thing")
    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline:
        with lite_app.db.session(write=False) as session:
            rows = [r for r in store.list_sources(session) if r.parsed == 1]
        if rows:
            break
        time.sleep(0.1)
    assert rows and rows[0].key == "127.0.0.1"


def test_backpressure_slows_a_fast_tcp_sender_without_loss(
        start_service: Callable[..., SiemService], lite_app: AppContext) -> None:
    # A queue of 16 records and a 4 KiB spool budget: the database sets the pace.
    service = start_service(queue_records=16, spool_max_bytes=4096, batch_records=50)
    total = 30000
    pad = b"p" * 250  # 9 MB in all: more than the kernel's socket buffers can hide
    payload = b"".join(b"<13>1 - loadgen bench - - - message %06d %s\n" % (i, pad)
                       for i in range(total))
    started = time.monotonic()
    tcp_send(service.ports["tcp"], payload)
    send_seconds = time.monotonic() - started
    with lite_app.db.session(write=False) as session:
        stored_when_sent = store.count_events(session)
    assert wait_for_events(lite_app.db, total, timeout=60) == total
    assert service.stats.snapshot()["127.0.0.1"]["dropped"] == 0
    assert service.spool is not None and service.spool.backlog_bytes <= 4096 + 200 * 16 + 8192
    # The sender could not finish before the database had caught up with most of it.
    assert send_seconds > 0.2
    assert stored_when_sent > total // 6, (stored_when_sent, send_seconds)
