"""Notifications: inbox entries for the next desk, and e-mail through a real SMTP socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import update

from simpul.context import AppContext
from simpul.models import User
from tests.smtpsink import SmtpSink
from webui import create_app

WO = "/api/helpdesk/work-orders/"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_app(app_context: AppContext, people: dict[str, str],
             smtp: SmtpSink) -> Flask:
    with app_context.db.session() as s:
        s.execute(update(User).values(email=User.username + "@sidoarjokab.go.id"))
    return create_app({"TESTING": True, "HELPDESK_SMTP_HOST": "127.0.0.1",
                       "HELPDESK_SMTP_PORT": smtp.port}, context=app_context)


def test_next_desk_gets_inbox_and_mail_refusals_send_nothing(
        mail_app: Flask, smtp: SmtpSink,
        tokens: dict[str, dict[str, str]]) -> None:
    client = mail_app.test_client()
    wid = client.post(WO, headers=tokens["rina"], json={
        "type": "pengaduan", "title": "Internet putus"}).get_json()["id"]
    received = smtp.received
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
