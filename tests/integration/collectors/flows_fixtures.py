"""Fixtures for the flow collector and trap receiver tests (helper C2).

Imported by ``test_flows*.py`` / ``test_traps*.py``: an inventory with OPDs, prefixes and
devices on loopback addresses; a web client with a Diskominfo NOC user and an OPD user;
and builders for NetFlow v9 / IPFIX datagrams (RFC 3954 / 7011 layouts).
"""

from __future__ import annotations

import struct
import subprocess
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simpul.audit import Actor
from simpul.context import AppContext
from simpul.db import Database
from simpul.tokens import create_token
from simpul.users import create_user
from webui import create_app

# Star-imported by the test modules so pytest sees the fixtures (helpers are imported by name).
__all__ = ["flows_app", "flows_client", "flows_inventory", "token_headers"]

TRAP_DEVICE_ADDRESS = "127.0.0.71"  # the "router" a trap comes from (snmptrap --clientaddr)
V3 = ("simpul", "simpul-lab-auth", "simpul-lab-priv")
COMMUNITY = "simpul-lab"

INVENTORY = {
    "format": "simpul-inventory/1",
    "opds": [{"code": "DISKOMINFO", "name": "Diskominfo", "operator": True},
             {"code": "DISDIK", "name": "Dinas Pendidikan"},
             {"code": "DINKES", "name": "Dinas Kesehatan"}],
    "sites": [{"slug": "dc-test", "opd": "DISKOMINFO"},
              {"slug": "opd-disdik", "opd": "DISDIK"},
              {"slug": "opd-dinkes", "opd": "DINKES"}],
    "prefixes": [{"prefix": "192.0.2.0/24", "role": "lan", "site": "opd-disdik"},
                 {"prefix": "198.51.100.0/24", "role": "lan", "site": "opd-dinkes"},
                 {"prefix": "127.0.0.0/24", "role": "management"}],
    "device_types": [{"slug": "frr", "manufacturer": "FRRouting", "model": "FRR",
                      "u_height": 1}],
    "devices": [{"name": "acc-x", "site": "opd-disdik", "device_type": "frr",
                 "role": "access", "platform": "frr", "primary_ip4": TRAP_DEVICE_ADDRESS,
                 "interfaces": [{"name": "eth0",
                                 "addresses": [f"{TRAP_DEVICE_ADDRESS}/32"]}]}],
}


def load_inventory(db: Database, doc: dict | None = None) -> None:
    """Import the test inventory (OPDs, sites, prefixes, one device) into *db*."""
    from inventory.importer import import_document

    with db.session(write=True) as session:
        import_document(session, Actor.system("test"), doc or INVENTORY, file="flows.yml")


@pytest.fixture
def flows_inventory(db: Database) -> Database:
    """A migrated database holding the test inventory."""
    load_inventory(db)
    return db


@pytest.fixture
def flows_app(app_context: AppContext, flows_inventory: Database) -> Flask:
    """The web app with a Diskominfo NOC user and a DINKES requester."""
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_user(s, actor, "noc1", role="noc", opd_code="DISKOMINFO",
                    password="noc-password-123")
        create_user(s, actor, "dinkes1", role="requester", opd_code="DINKES",
                    password="opd-password-123")
    return create_app({"TESTING": True}, context=app_context)


@pytest.fixture
def flows_client(flows_app: Flask) -> FlaskClient:
    return flows_app.test_client()


@pytest.fixture
def token_headers(app_context: AppContext) -> Callable[[str], dict[str, str]]:
    """``token_headers(username)`` → an Authorization header for that user."""

    def make(username: str) -> dict[str, str]:
        with app_context.db.session() as s:
            key = create_token(s, Actor.system("test"), username).key
        return {"Authorization": f"Token {key}"}

    return make


def send_trap(port: int, args: list[str], *, version: str = "2c", host: str = "127.0.0.1",
              clientaddr: str | None = TRAP_DEVICE_ADDRESS, engine_id: str = "0x80001f8880c2",
              auth: str = V3[1], prefix: list[str] | None = None) -> None:
    """Send one trap with net-snmp's snmptrap (optionally inside a lab namespace)."""
    cmd = [*(prefix or []), "snmptrap"]
    if clientaddr:
        cmd.append(f"--clientaddr={clientaddr}")
    if version == "3":
        user, _auth, priv = V3
        cmd += ["-v", "3", "-e", engine_id, "-u", user, "-l", "authPriv", "-a", "SHA",
                "-A", auth, "-x", "AES", "-X", priv]
    else:
        cmd += ["-v", "2c", "-c", COMMUNITY]
    subprocess.run([*cmd, f"{host}:{port}", "", *args], check=True, capture_output=True,
                   timeout=10)


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll *check* until true or *timeout* seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


# --- NetFlow v9 / IPFIX builders ---------------------------------------------------------

V9_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4)]
IPFIX_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]


def _set(set_id: int, body: bytes) -> bytes:
    return struct.pack("!HH", set_id, len(body) + 4) + body


def _template(tid: int, fields: list[tuple[int, int]]) -> bytes:
    return struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", *f)
                                                           for f in fields)


def ip4(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def v9_datagram(records: list[tuple[str, str, int, int, int, int, int]], *, now: int,
                uptime: int = 3_600_000, with_template: bool = True,
                source_id: int = 1) -> bytes:
    """A v9 datagram; records ``(src, dst, sport, dport, proto, bytes, packets)`` ended 1 s
    before *now* and lasted 2 s."""
    sets = _set(0, _template(256, V9_FIELDS)) if with_template else b""
    body = b"".join(struct.pack("!IIHHBIIII", ip4(s), ip4(d), sp, dp, pr, by, pk,
                                uptime - 3000, uptime - 1000)
                    for s, d, sp, dp, pr, by, pk in records)
    if body:
        sets += _set(256, body)
    count = (1 if with_template else 0) + len(records)
    return struct.pack("!HHIIII", 9, count, uptime, now, 1, source_id) + sets


def ipfix_datagram(records: list[tuple[str, str, int, int, int, int, int]], *, now: int,
                   with_template: bool = True, domain: int = 1, seq: int = 0) -> bytes:
    """An IPFIX message with millisecond flow times (ended 1 s before *now*)."""
    sets = _set(2, _template(300, IPFIX_FIELDS)) if with_template else b""
    body = b"".join(struct.pack("!IIHHBQQQQ", ip4(s), ip4(d), sp, dp, pr, by, pk,
                                (now - 3) * 1000, (now - 1) * 1000)
                    for s, d, sp, dp, pr, by, pk in records)
    if body:
        sets += _set(300, body)
    return struct.pack("!HHIII", 10, 16 + len(sets), now, seq, domain) + sets
