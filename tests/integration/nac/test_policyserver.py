"""The dedicated policy server speaks rlm_rest's HTTP: keep-alive, 100-continue, chunked.

Served in-process on a loopback socket over the parametrised database (SQLite and
PostgreSQL); FreeRADIUS itself talks to it in ``test_freeradius.py``.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nac.decisionlog import DecisionWriter
from nac.models import NacDecision
from nac.policydata import PolicyCache
from nac.policyserver import PolicyApp, PolicyServer, listen, read_request
from nac.radiusapi import RadiusEndpoints
from nac.register import create_device
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.models.base import utcnow
from tests.integration.nac.conftest import seed

SECRET = "policy-server-test-secret"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"freeradius:{SECRET}".encode()).decode(),
        "Content-Type": "application/json"}
ACTIVE, BLOCKED, EXPIRED = "02:00:5e:00:53:01", "02:00:5e:00:53:03", "02:00:5e:00:53:04"


def _rest(mac: str) -> bytes:
    attrs = {"User-Name": mac.replace(":", ""), "Calling-Station-Id": mac.upper()
             .replace(":", "-"), "NAS-IP-Address": "192.0.2.1", "NAS-Port-Id": "Gi1/0/7"}
    return json.dumps({k: {"type": "string", "value": [v]} for k, v in attrs.items()}).encode()


@pytest.fixture
def server(app_context: AppContext) -> Iterator[tuple[int, DecisionWriter]]:
    seed(app_context)
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_device(s, actor, ACTIVE, opd="DINKES")
        create_device(s, actor, BLOCKED, opd="DINKES", status="blocked")
        create_device(s, actor, EXPIRED, opd="DINKES", expires_at=utcnow() - timedelta(hours=1))
    writer = DecisionWriter(app_context.db, interval=0.05)
    app = PolicyApp(RadiusEndpoints(app_context.db, PolicyCache(0), writer), SECRET.encode())
    srv = PolicyServer(listen(), app)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield srv.socket.getsockname()[1], writer
    finally:
        srv.shutdown()
        srv.server_close()
        writer.close()


def test_decisions_over_one_kept_alive_connection(server: tuple[int, DecisionWriter],
                                                  app_context: AppContext) -> None:
    port, writer = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    answers = []
    for mac in (ACTIVE, BLOCKED, EXPIRED, "02:00:5e:00:53:99") * 5:
        conn.request("POST", "/api/nac/radius/authorize", body=_rest(mac), headers=AUTH)
        response = conn.getresponse()
        answers.append((response.status, json.loads(response.read())))
    conn.close()
    assert answers[0] == (200, {"control:Auth-Type": "Accept", "reply:Tunnel-Type": "VLAN",
                                "reply:Tunnel-Medium-Type": "IEEE-802",
                                "reply:Tunnel-Private-Group-Id": "110"})
    assert answers[1:4] == [(401, {"reply:Reply-Message": "device is blocked"}),
                            (401, {"reply:Reply-Message": "registration expired"}),
                            (401, {"reply:Reply-Message": "unregistered MAC"})]
    assert answers[4:8] == answers[:4]
    writer.close()  # what SIGTERM does: every queued decision is written
    with app_context.db.session() as s:
        assert s.scalar(select(func.count()).select_from(NacDecision)) == 20
        assert s.scalar(select(func.count()).select_from(NacDecision)
                        .where(NacDecision.result == "accept", NacDecision.vid == 110)) == 5


def test_wrong_or_missing_secret_is_401_and_unknown_paths_404(
        server: tuple[int, DecisionWriter]) -> None:
    port, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for headers in ({}, {"X-Simpul-Nac-Secret": "guess"},
                    {"Authorization": "Basic " + base64.b64encode(b"x:guess").decode()}):
        conn.request("POST", "/api/nac/radius/authorize", body=_rest(ACTIVE), headers=headers)
        response = conn.getresponse()
        assert response.status == 401 and b"Accept" not in response.read()
    conn.request("POST", "/api/nac/radius/authorize", body=_rest(ACTIVE),
                 headers={"X-Simpul-Nac-Secret": SECRET})
    response = conn.getresponse()
    assert response.status == 200 and b"Accept" in response.read()
    conn.request("POST", "/api/nac/devices/", body=b"{}", headers=AUTH)
    response = conn.getresponse()
    assert response.status == 404
    response.read()
    conn.request("GET", "/api/nac/radius/authorize", headers=AUTH)
    response = conn.getresponse()
    assert response.status == 405
    response.read()
    conn.close()


def test_expect_continue_and_chunked_bodies_as_libcurl_sends_them(
        server: tuple[int, DecisionWriter]) -> None:
    port, _ = server
    body = _rest(ACTIVE)
    head = ("POST /api/nac/radius/authorize HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {AUTH['Authorization']}\r\nContent-Type: application/json\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((head + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n")
                     .encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200 OK") and b'"110"' in first
        chunks = body[:10], body[10:]
        sock.sendall((head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
                     + b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
                     + b"0\r\n\r\n")
        second = b""
        while chunk := sock.recv(4096):
            second += chunk
        assert second.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in second


def test_garbage_gets_400_and_the_connection_closed() -> None:
    import io

    out = io.BytesIO()
    with pytest.raises(Exception, match="bad request line"):
        read_request(io.BytesIO(b"hello\r\n\r\n"), out)
    assert read_request(io.BytesIO(b""), out) is None
    with pytest.raises(Exception, match="too large"):
        read_request(io.BytesIO(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"), out)
