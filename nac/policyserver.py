"""The policy server: a small dedicated HTTP/1.1 process that answers FreeRADIUS' rlm_rest.

Why a process of its own: through the web app every decision paid for waitress, Flask,
the session/CSRF/tenancy hooks and the GIL shared with the UI and the other background
services — 160–400 decisions/s on two cores. This server speaks just enough HTTP/1.1
for rlm_rest (persistent connections, ``Content-Length`` or chunked bodies,
``Expect: 100-continue``), one thread per rlm_rest connection, and calls the very same
``nac.radiusapi.RadiusEndpoints`` as the web routes: same secret check, same decisions,
same batched decision log.

``simpul up`` (``nac.services``) binds the loopback socket itself and hands the file
descriptor to ``python -m nac.policyserver --fd N``, so there is no port race and
connections queue in the backlog while a crashed server is restarted. SIGTERM stops
accepting, then writes every queued decision before exiting.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import socketserver
import sys
import threading
import time
from typing import Any, BinaryIO
from urllib.parse import parse_qs

from loguru import logger

from nac.decisionlog import DecisionWriter
from nac.policydata import PolicyCache
from nac.radiusapi import ENDPOINTS, RadiusEndpoints, offered_secret, secret_matches
from nac.settings import api_secret, load_nac_settings
from simpul.db import Database
from simpul.logging import setup_logging
from simpul.settings import load_settings

PREFIX = "/api/nac/radius/"
MAX_LINE = 8192
MAX_HEADERS = 100
MAX_BODY = 1 << 20
IDLE_TIMEOUT = 300.0  # rlm_rest closes idle connections after 60 s itself
REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 500: "Internal Server Error"}


class BadRequest(Exception):
    """The bytes on the connection are not an HTTP request we can answer; close it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _line(rfile: BinaryIO) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadRequest(400, "line too long")
    return line


def _chunked(rfile: BinaryIO) -> bytes:
    body = bytearray()
    while True:
        size_line = _line(rfile).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BadRequest(400, "bad chunk size") from None
        if size == 0:
            while _line(rfile).strip():  # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise BadRequest(413, "body too large")
        body += rfile.read(size)
        _line(rfile)


def read_request(rfile: BinaryIO, wfile: BinaryIO
                 ) -> tuple[str, str, dict[str, str], bytes] | None:
    """Read one request (method, target, lower-cased headers, body); None at a clean EOF."""
    request_line = _line(rfile)
    while request_line in (b"\r\n", b"\n"):  # tolerate stray blank lines between requests
        request_line = _line(rfile)
    if not request_line:
        return None
    parts = request_line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "bad request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        line = _line(rfile)
        if line in (b"\r\n", b"\n", b""):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(400, "bad header line")
        headers[name.strip().lower()] = value.strip()
    else:
        raise BadRequest(400, "too many headers")
    if version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
        headers.setdefault("connection", "close")
    if headers.get("expect", "").lower() == "100-continue":
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        wfile.flush()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _chunked(rfile)
    else:
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            raise BadRequest(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest(413, "body too large")
        body = rfile.read(length) if length else b""
        if len(body) != length:
            return None  # the peer went away mid-body
    return method, target, headers, body


def response(status: int, body: dict[str, Any] | None, close: bool = False) -> bytes:
    """Serialise one HTTP/1.1 response (JSON body unless 204)."""
    payload = b"" if status == 204 or body is None else json.dumps(body).encode()
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", "Server: simpul-nac"]
    if status != 204:
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload


class PolicyApp:
    """Routing, secret check and error handling around ``RadiusEndpoints``."""

    def __init__(self, endpoints: RadiusEndpoints, secret: bytes) -> None:
        self.endpoints = endpoints
        self.secret = secret
        self._warned = 0.0

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes,
               peer: str = "") -> tuple[int, dict[str, Any] | None]:
        """Answer one request with (status, JSON body or None)."""
        path, _, query = target.partition("?")
        endpoint = path[len(PREFIX):] if path.startswith(PREFIX) else ""
        if endpoint not in ENDPOINTS:
            return 404, {"detail": "not found"}
        if method != "POST":
            return 405, {"detail": "POST only"}
        if not secret_matches(offered_secret(lambda name: headers.get(name.lower())),
                              self.secret):
            now = time.monotonic()
            if now - self._warned > 10:  # one line per 10 s, not one per packet
                self._warned = now
                logger.warning("nac: policy API call from {} without the right shared secret "
                               "(check SIMPUL_NAC_API_SECRET for FreeRADIUS)", peer or "?")
            return 401, {"detail": "the NAC policy API needs the shared secret"}
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        result = parse_qs(query).get("result", ["accept"])[0]
        try:
            return self.endpoints.call(endpoint, parsed, result)
        except Exception as exc:  # 500 = rlm_rest "fail": FreeRADIUS falls back to the cache
            logger.error("nac: policy API {} failed: {}", endpoint, exc)
            return 500, {"detail": "policy API error"}


class _Handler(socketserver.StreamRequestHandler):
    """One rlm_rest connection: requests in a loop until the peer closes it."""

    rbufsize = 65536
    wbufsize = 0
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True
    server: PolicyServer

    def handle(self) -> None:
        peer = self.client_address[0] if self.client_address else ""
        while True:
            try:
                request = read_request(self.rfile, self.wfile)
            except BadRequest as exc:
                self.wfile.write(response(exc.status, {"detail": str(exc)}, close=True))
                return
            except (OSError, ValueError):
                return
            if request is None:
                return
            method, target, headers, body = request
            close = headers.get("connection", "").lower() == "close"
            status, payload = self.server.app.handle(method, target, headers, body, peer)
            try:
                self.wfile.write(response(status, payload, close))
            except OSError:
                return
            if close:
                return


class PolicyServer(socketserver.ThreadingTCPServer):
    """Thread per connection on an already bound, listening socket."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, sock: socket.socket, app: PolicyApp) -> None:
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.app = app


def listen(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket for the policy server (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


def serve(sock: socket.socket, stop: threading.Event | None = None) -> None:
    """Serve on *sock* with the settings of the environment until *stop* (or SIGTERM)."""
    settings = load_settings()
    nac = load_nac_settings(settings)
    db = Database.from_settings(settings)
    writer = DecisionWriter(db)
    app = PolicyApp(RadiusEndpoints(db, PolicyCache(nac.policy_ttl), writer),
                    api_secret(settings.data_dir).encode())
    server = PolicyServer(sock, app)
    stop = stop or threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="nac-policy-accept", daemon=True)
    thread.start()
    logger.info("nac: policy server ready on {}:{}", *sock.getsockname()[:2])
    try:
        stop.wait()
    finally:
        server.shutdown()
        time.sleep(0.05)  # let handlers that already decided hand their record over
        writer.close()  # writes every queued decision
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    """``python -m nac.policyserver --fd N`` (from simpul up) or ``--host/--port``."""
    parser = argparse.ArgumentParser(prog="nac.policyserver", description=__doc__.split("\n")[0])
    parser.add_argument("--fd", type=int, default=None, help="inherited listening socket")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings.log_level, settings.log_json_file or None, force=True)
    sock = socket.socket(fileno=args.fd) if args.fd is not None else listen(args.host,
                                                                             args.port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serve(sock, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
