"""Fixtures of the probe and alert tests (helper C3): a real SMTP sink and webhook receiver
on loopback, OPDs and users of each role, and the web app.

Test modules import the fixtures they use from here by name.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
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
from tests.smtpsink import SmtpSink

PASSWORD = "alerts-password-123"
USERS = {"admin": ("admin", "DISKOMINFO"), "noc": ("noc", "DISKOMINFO"),
         "infra": ("infrastructure", "DISKOMINFO"), "desk": ("helpdesk", "DISKOMINFO"),
         "rina": ("requester", "DINKES"), "budi": ("requester", "DISDIK")}


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
