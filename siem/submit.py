"""The SIEM's intake for the rest of simpul: one entry point, stable for other parts.

    from siem.submit import submit

    submit("<13>Nov 23 10:00:00 sw1 %LINK-3-UPDOWN: ...", source="10.0.0.5")  # raw line
    submit({"event.action": "trap_link_down", "host.name": "sw1",            # an event
            "message": "linkDown ifIndex 3", "event.severity": 3})

A raw line is parsed exactly like one received over syslog from *source* (an address,
or any label). An event (flat ECS-style dotted keys) is carried as a simpul ``event``
line, so it takes the same path: spool, normalise, enrich, store, rules, incidents.

Where it goes:

1. the SIEM service running in this process (``simpul up``): into its queue, and so
   into the durable spool;
2. otherwise the service of another process on this host, over TCP to
   ``SIMPUL_SYSLOG_HOST``:``SIMPUL_SYSLOG_TCP_PORT`` (octet counting), on one kept-open
   connection per process (``TcpSubmitter``: settings re-read only when their variables
   change, concurrent callers batched into one write, reconnect when the service
   restarted);
3. otherwise (no service running) straight into the database, without rules.

Never raises for delivery problems: it returns where the message went
(``"queue"``, ``"tcp"``, ``"database"``) or ``"dropped"`` and logs why.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import select
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from loguru import logger

from siem.parsers.simpul_events import format_simpul_syslog
from siem.spool import Record

if TYPE_CHECKING:
    from siem.service import SiemService

SEND_TIMEOUT_S = 30.0
_ACTIVE: SiemService | None = None
_LOCK = threading.Lock()


def register_service(service: SiemService | None) -> None:
    """The in-process service (set by ``SiemService.start``, cleared by ``stop``)."""
    global _ACTIVE
    with _LOCK:
        _ACTIVE = service


def _line(item: str | bytes | dict[str, Any]) -> bytes:
    if isinstance(item, dict):
        data = {k: v for k, v in item.items() if isinstance(k, str)}
        return format_simpul_syslog("event", json.loads(json.dumps(data, default=str)))
    if isinstance(item, str):
        return item.encode("utf-8", "surrogateescape")
    if isinstance(item, bytes):
        return item
    raise TypeError("submit() takes a raw line (str/bytes) or an event (dict)")


def submit(item: str | bytes | dict[str, Any], *, source: str = "simpul") -> str:
    """Hand one raw line or normalised event to the SIEM; return where it went."""
    raw = _line(item).rstrip(b"\r\n")
    try:
        peer = str(ipaddress.ip_address(source))
    except ValueError:
        peer = ""
    service = _ACTIVE
    if service is not None and service.offer(Record(raw=raw, received=time.time(),
                                                    transport="internal", peer_ip=peer)):
        return "queue"
    submitter = default_submitter()
    if submitter is not None and submitter.send(raw):
        return "tcp"
    try:
        _store_direct(raw, peer)
        return "database"
    except Exception as exc:
        logger.warning("siem submit: event not stored: {}", exc)
        return "dropped"


class TcpSubmitter:
    """One kept-open octet-counting TCP connection to a SIEM service, shared by threads.

    Callers append their frame to a queue and then take turns at the socket: whoever
    holds it sends everything queued in one ``sendall``, so concurrent submitters are
    batched. Before each send the connection is checked for a close by the peer (the
    receiver never sends anything, so a readable socket means EOF or reset: the service
    restarted); then it reconnects, and a failed send is retried once on a fresh
    connection. ``send`` returns False only when no connection can be made, and the
    caller stores the event another way — a frame is never silently dropped. A frame
    half-written when the connection broke is sent again whole (the receiver keeps the
    broken piece as a ``framing_error`` event).
    """

    def __init__(self, host: str, port: int, *, timeout: float = 2.0,
                 retry_after: float = 1.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.retry_after = retry_after
        self.connects = 0
        self.sent = 0
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[tuple[bytes, list[bool | None]]] = []
        self._down_until = 0.0

    def send(self, raw: bytes) -> bool:
        """Send one message (batched with other threads' messages); True once it is sent."""
        slot: list[bool | None] = [None]
        with self._queue_lock:
            self._queue.append((str(len(raw)).encode() + b" " + raw, slot))
        with self._send_lock:
            if slot[0] is None:  # nobody sent it for us meanwhile
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                ok = False
                try:
                    ok = self._send_batch(b"".join(frame for frame, _ in batch))
                finally:
                    for _, other in batch:
                        other[0] = ok
        return bool(slot[0])

    def _send_batch(self, blob: bytes) -> bool:
        for attempt in (1, 2):
            sock = self._connected()
            if sock is None:
                return False
            try:
                sock.sendall(blob)
                self.sent += 1
                return True
            except OSError as exc:
                logger.debug("siem submit: send to {}:{} failed ({}); reconnecting",
                             self.host, self.port, exc)
                self._close()
                if attempt == 2:
                    return False
        return False

    def _connected(self) -> socket.socket | None:
        sock = self._sock
        if sock is not None and not _peer_closed(sock):
            return sock
        self._close()
        now = time.monotonic()
        if now < self._down_until:  # refused a moment ago: don't stall every caller
            return None
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            self._down_until = now + self.retry_after
            logger.debug("siem submit: no service at {}:{} ({})", self.host, self.port, exc)
            return None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A service that is behind holds senders back (TCP back-pressure): wait for it
        # rather than give up half-way through a write.
        sock.settimeout(max(self.timeout, SEND_TIMEOUT_S))
        self._sock = sock
        self.connects += 1
        return sock

    def _close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Close the connection (a later ``send`` opens a new one)."""
        with self._send_lock:
            self._close()


def _peer_closed(sock: socket.socket) -> bool:
    """True when the peer closed or reset the connection (it never sends us data)."""
    # select() first: a socket with a timeout waits in recv() even with MSG_DONTWAIT.
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except (OSError, ValueError):
        return True


_SUBMITTER: TcpSubmitter | None = None
_SUBMITTER_KEY: tuple[str | None, ...] | None = None
# What decides where TCP goes: re-read the settings only when one of these changes (a
# long-lived process keeps its connection; a changed environment is honoured at once).
_SETTINGS_ENV = ("SIMPUL_SYSLOG_HOST", "SIMPUL_SYSLOG_TCP_PORT", "SIMPUL_CONFIG",
                 "SIMPUL_DATA_DIR")


def default_submitter() -> TcpSubmitter | None:
    """The process's submitter for ``SIMPUL_SYSLOG_HOST``:``SIMPUL_SYSLOG_TCP_PORT``.

    Settings are read the first time a message needs TCP and again only when the
    variables that locate them change; None when TCP is off or the settings are
    unusable. ``reset_submitter`` forgets them.
    """
    global _SUBMITTER, _SUBMITTER_KEY
    key = tuple(os.environ.get(name) for name in _SETTINGS_ENV)
    if key == _SUBMITTER_KEY:
        return _SUBMITTER
    with _LOCK:
        if key != _SUBMITTER_KEY:
            if _SUBMITTER is not None:
                _SUBMITTER.close()
            _SUBMITTER = _submitter_from_settings()
            _SUBMITTER_KEY = key
    return _SUBMITTER


def _submitter_from_settings() -> TcpSubmitter | None:
    from siem.settings import load_siem_settings
    from simpul.settings import load_settings

    try:
        siem = load_siem_settings(load_settings())
    except Exception as exc:
        logger.warning("siem submit: settings unusable, TCP hand-off off: {}", exc)
        return None
    if siem.tcp_port in (None, 0):
        return None
    host = "127.0.0.1" if siem.syslog_host in ("0.0.0.0", "::", "") else siem.syslog_host
    return TcpSubmitter(host, int(siem.tcp_port))  # type: ignore[arg-type]


def reset_submitter() -> None:
    """Close the connection and forget the settings (tests; after a settings change)."""
    global _SUBMITTER, _SUBMITTER_KEY
    with _LOCK:
        if _SUBMITTER is not None:
            _SUBMITTER.close()
        _SUBMITTER, _SUBMITTER_KEY = None, None


def _store_direct(raw: bytes, peer: str) -> None:
    from siem.enrich import build_registry
    from siem.normalise import NormaliseOptions
    from siem.settings import load_siem_settings
    from siem.writer import build_rows, store_rows
    from simpul.context import AppContext

    app = AppContext.create()
    try:
        siem = load_siem_settings(app.settings)
        rec = Record(raw=raw, received=time.time(), transport="internal", peer_ip=peer,
                     origin=f"submit:{time.time_ns()}:{threading.get_ident()}")
        rows = build_rows([rec], NormaliseOptions(), build_registry(siem.asset_map), None)
        store_rows(app.db, rows)
    finally:
        app.db.dispose()
