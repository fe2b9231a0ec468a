"""Fixtures of the probe and alert tests (helper C3): a real SMTP sink and webhook receiver
on loopback, OPDs and users of each role, and the web app.

Test modules import the fixtures they use from here by name.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from collectors.alerts.settings import AlertSettings, SmtpSettings
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user

PASSWORD = "alerts-password-123"
USERS = {"admin": ("admin", "DISKOMINFO"), "noc": ("noc", "DISKOMINFO"),
         "infra": ("infrastructure", "DISKOMINFO"), "desk": ("helpdesk", "DISKOMINFO"),
         "rina": ("requester", "DINKES"), "budi": ("requester", "DISDIK")}


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept messages."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        rcpt: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "RCPT":
                rcpt.append(line.decode().split(":", 1)[1].strip(" <>\r\n"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                mail = message_from_bytes(body, policy=policy.default)
                with self.server.lock:  # type: ignore[attr-defined]
                    self.server.received.append((rcpt, mail))  # type: ignore[attr-defined]
                rcpt = []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SmtpSink(socketserver.ThreadingTCPServer):
    """Collects (recipients, message) pairs."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Smtp)
        self.received: list[tuple[list[str], Message]] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for _, m in self.received]


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        self.server.posts.append(  # type: ignore[attr-defined]
            {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


class WebhookSink(ThreadingHTTPServer):
    """Collects JSON POSTs."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.posts: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/simpul"

    def events(self) -> list[tuple[str, str]]:
        return [(p["body"]["event"], p["body"]["rule"]) for p in self.posts]


def _serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    _serve(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    server = WebhookSink()
    _serve(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def alert_settings(smtp_sink: SmtpSink, webhook_sink: WebhookSink) -> AlertSettings:
    """Notifications to the sinks: e-mail to the NOC, webhook for everything."""
    return AlertSettings(interval_s=1, webhooks=(webhook_sink.url,),
                         email_to=("noc@sidoarjokab.go.id",),
                         smtp=SmtpSettings(host="127.0.0.1", port=smtp_sink.port,
                                           sender="simpul@sidoarjokab.go.id", timeout=5))


def seed_opds(app_context: AppContext) -> None:
    """Diskominfo (the operator) and two OPDs."""
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_opd(s, actor, "DISDIK", "Dinas Pendidikan")


@pytest.fixture
def opds(app_context: AppContext) -> AppContext:
    seed_opds(app_context)
    return app_context


@pytest.fixture
def people(opds: AppContext) -> AppContext:
    """The OPDs plus one user per role of interest."""
    with opds.db.session() as s:
        for name, (role, opd) in USERS.items():
            create_user(s, Actor.system("test"), name, role=role, opd_code=opd, password=PASSWORD)
    return opds


@pytest.fixture
def alerts_app(people: AppContext) -> Flask:
    from webui import create_app

    return create_app({"TESTING": True}, context=people)


@pytest.fixture
def tokens(people: AppContext, alerts_app: Flask) -> dict[str, dict[str, str]]:
    """``Authorization`` headers per username."""
    out: dict[str, dict[str, str]] = {}
    with people.db.session() as s:
        for name in USERS:
            out[name] = {"Authorization": f"Token {create_token(s, Actor.system('t'), name).key}"}
    return out
