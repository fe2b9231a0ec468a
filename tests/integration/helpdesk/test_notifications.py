"""Notifications: inbox entries for the next desk, and e-mail through a real SMTP socket."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from flask import Flask
from sqlalchemy import update

from simpul.context import AppContext
from simpul.models import User
from webui import create_app

WO = "/api/helpdesk/work-orders/"


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept messages: a sink for the tests."""

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
                self.server.received.append((rcpt, message_from_bytes(body)))  # type: ignore
                rcpt = []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_app(app_context: AppContext, people: dict[str, str],
             smtp: socketserver.ThreadingTCPServer) -> Flask:
    with app_context.db.session() as s:
        s.execute(update(User).values(email=User.username + "@sidoarjokab.go.id"))
    return create_app({"TESTING": True, "HELPDESK_SMTP_HOST": "127.0.0.1",
                       "HELPDESK_SMTP_PORT": smtp.server_address[1]}, context=app_context)


def test_next_desk_gets_inbox_and_mail_refusals_send_nothing(
        mail_app: Flask, smtp: socketserver.ThreadingTCPServer,
        tokens: dict[str, dict[str, str]]) -> None:
    client = mail_app.test_client()
    wid = client.post(WO, headers=tokens["rina"], json={
        "type": "pengaduan", "title": "Internet putus"}).get_json()["id"]
    received = smtp.received  # type: ignore[attr-defined]
    assert [r for r, _m in received] == [["helpdesk@sidoarjokab.go.id"]]
    assert received[0][1]["Subject"] == "[simpul] WO-000001 Internet putus"
    refused = client.post(f"{WO}{wid}/transitions/", headers=tokens["it_support"],
                          json={"action": "complete", "comment": "x"})
    assert refused.status_code == 409 and len(received) == 1  # nothing said of a refusal
    client.post(f"{WO}{wid}/transitions/", headers=tokens["helpdesk"], json={"action": "issue"})
    assert received[-1][0] == ["it_support@sidoarjokab.go.id"]
    client.post(f"{WO}{wid}/transitions/", headers=tokens["it_support"],
                json={"action": "complete", "comment": "modem diganti"})
    client.post(f"{WO}{wid}/transitions/", headers=tokens["helpdesk"],
                json={"action": "request_confirmation"})
    assert received[-1][0] == ["rina@sidoarjokab.go.id"]
    box = client.get("/api/helpdesk/inbox/?unread=true", headers=tokens["rina"]).get_json()
    assert [n["text"] for n in box] == ["WO-000001: request_confirmation by helpdesk: now "
                                        "resolved"]
    marked = client.post("/api/helpdesk/inbox/read/", headers=tokens["budi"],
                         json={"ids": [box[0]["id"]]}).get_json()
    assert marked == {"marked": 0}  # not budi's
    marked = client.post("/api/helpdesk/inbox/read/", headers=tokens["rina"],
                         json={"ids": [box[0]["id"]]}).get_json()
    assert marked == {"marked": 1}
    assert client.get("/api/helpdesk/inbox/?unread=true", headers=tokens["rina"]).get_json() == []
