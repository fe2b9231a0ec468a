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
   ``SIMPUL_SYSLOG_HOST``:``SIMPUL_SYSLOG_TCP_PORT`` (octet counting);
3. otherwise (no service running) straight into the database, without rules.

Never raises for delivery problems: it returns where the message went
(``"queue"``, ``"tcp"``, ``"database"``) or ``"dropped"`` and logs why.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from loguru import logger

from siem.parsers.simpul_events import format_simpul_syslog
from siem.spool import Record

if TYPE_CHECKING:
    from siem.service import SiemService

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
    if _send_tcp(raw):
        return "tcp"
    try:
        _store_direct(raw, peer)
        return "database"
    except Exception as exc:
        logger.warning("siem submit: event not stored: {}", exc)
        return "dropped"


def _send_tcp(raw: bytes) -> bool:
    from siem.settings import load_siem_settings
    from simpul.settings import load_settings

    try:
        siem = load_siem_settings(load_settings())
    except Exception:
        return False
    if siem.tcp_port in (None, 0):
        return False
    host = "127.0.0.1" if siem.syslog_host in ("0.0.0.0", "::", "") else siem.syslog_host
    try:
        with socket.create_connection((host, siem.tcp_port), timeout=2) as sock:
            sock.sendall(str(len(raw)).encode() + b" " + raw)
        return True
    except OSError:
        return False


def _store_direct(raw: bytes, peer: str) -> None:
    from siem.enrich import build_registry
    from siem.normalise import NormaliseOptions
    from siem.settings import load_siem_settings
    from siem.writer import build_rows, store_rows
    from simpul.context import AppContext

    app = AppContext.create()
    siem = load_siem_settings(app.settings)
    rec = Record(raw=raw, received=time.time(), transport="internal", peer_ip=peer,
                 origin=f"submit:{time.time_ns()}:{threading.get_ident()}")
    rows = build_rows([rec], NormaliseOptions(), build_registry(siem.asset_map), None)
    store_rows(app.db, rows)
