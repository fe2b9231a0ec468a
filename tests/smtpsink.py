"""A real SMTP sink on loopback for tests of e-mail notifications (helpdesk, alerts).

Just enough of RFC 5321 to accept messages from smtplib and keep them for assertions.
"""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy
from email.message import Message


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
