"""Telling people and the SIEM: e-mail (SMTP), webhooks (JSON POST) and SIEM events.

Notices are built inside the engine's transaction but sent only after it committed, so
nobody hears of an alert that was rolled back. A failing relay or receiver is logged
and never undoes the alert; the next notice tries again.

The SIEM receives every alert change as a simpul ``alert`` event (RFC 5424 + JSON, the
shape ``siem.parsers.format_simpul_syslog`` writes and its parser reads), stored through
the SIEM's own writer (``build_rows`` + ``store_rows``) so it is normalised, enriched
and de-duplicated like any received log line.
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from loguru import logger

from collectors.alerts.rules import Channel
from collectors.alerts.settings import AlertSettings
from simpul.db import Database


def _utc(value: datetime) -> datetime:
    """Times read back from SQLite are naive UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Notice:
    """One change of one alert, as told to people and machines."""

    event: str  # firing | resolved | acknowledged | flapping
    alert_id: int
    rule: str
    kind: str
    severity: str
    state: str
    title: str
    details: str
    entity: str
    device: str
    site: str
    service: str
    opd: str
    value: float | None
    fired_at: datetime
    resolved_at: datetime | None
    flapping: bool

    def payload(self) -> dict[str, Any]:
        """The JSON body of a webhook."""
        data = asdict(self)
        data["fired_at"] = _utc(self.fired_at).isoformat()
        data["resolved_at"] = _utc(self.resolved_at).isoformat() if self.resolved_at else None
        data["source"] = "simpul"
        return data

    def subject(self) -> str:
        """The e-mail subject line."""
        return f"[simpul {self.severity.upper()}] {self.event}: {self.title}"[:200]


def all_channels(settings: AlertSettings, channels: Sequence[Channel]) -> list[Channel]:
    """The rules file's channels plus those named in the environment."""
    found = list(channels)
    found += [Channel("webhook", url=url) for url in settings.webhooks]
    if settings.email_to:
        found.append(Channel("email", to=settings.email_to))
    return found


def _mail(notice: Notice, sender: str, to: Sequence[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), notice.subject()
    lines = [notice.title, "", f"State: {notice.state} ({notice.event})",
             f"Severity: {notice.severity}", f"Rule: {notice.rule}",
             f"Entity: {notice.entity}"]
    for label, value in (("Device", notice.device), ("Site", notice.site),
                         ("Service", notice.service), ("OPD", notice.opd)):
        if value:
            lines.append(f"{label}: {value}")
    lines.append(f"Fired: {notice.fired_at:%Y-%m-%d %H:%M:%S} UTC")
    if notice.resolved_at:
        lines.append(f"Resolved: {notice.resolved_at:%Y-%m-%d %H:%M:%S} UTC")
    if notice.details:
        lines += ["", notice.details]
    msg.set_content("\n".join(lines) + "\n")
    return msg


class Notifier:
    """Sends notices to every channel that wants their severity."""

    def __init__(self, settings: AlertSettings, channels: Sequence[Channel] = ()) -> None:
        self.settings = settings
        self.channels = all_channels(settings, channels)
        self.sent: list[tuple[str, int, str]] = []  # (channel kind, alert id, event)

    def send(self, notices: Sequence[Notice]) -> None:
        """Deliver *notices*; failures are logged per channel."""
        if not notices:
            return
        for channel in self.channels:
            wanted = [n for n in notices if channel.wants(n.severity)]
            if not wanted:
                continue
            if channel.kind == "email":
                self._email(channel, wanted)
            else:
                for notice in wanted:
                    self._webhook(channel, notice)

    def _email(self, channel: Channel, notices: Sequence[Notice]) -> None:
        smtp = self.settings.smtp
        if not smtp.host:
            logger.warning("alert e-mail to {} not sent: SIMPUL_SMTP_HOST is not set",
                           ", ".join(channel.to))
            return
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.user:
                    client.login(smtp.user, smtp.password)
                for notice in notices:
                    client.send_message(_mail(notice, smtp.sender, channel.to))
                    self.sent.append(("email", notice.alert_id, notice.event))
        except (OSError, smtplib.SMTPException) as exc:
            logger.bind(host=smtp.host).warning("alert e-mail not sent: {}", exc)

    def _webhook(self, channel: Channel, notice: Notice) -> None:
        body = json.dumps(notice.payload()).encode()
        request = urllib.request.Request(channel.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "simpul-alerts"})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.webhook_timeout) as resp:
                resp.read(1024)
            self.sent.append(("webhook", notice.alert_id, notice.event))
        except (OSError, urllib.error.URLError) as exc:
            logger.warning("alert webhook {} failed: {}", channel.url.split("?", 1)[0], exc)


def siem_line(notice: Notice) -> bytes:
    """The alert as the SIEM's simpul ``alert`` syslog line."""
    from siem.parsers import format_simpul_syslog

    severity = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
    return format_simpul_syslog("alert", {
        "rule": notice.rule, "severity": notice.severity, "title": notice.title,
        "host": notice.device or notice.entity, "state": notice.state, "event": notice.event,
        "alert_id": notice.alert_id, "entity": notice.entity, "site": notice.site,
        "service": notice.service, "opd": notice.opd, "kind": "alert",
    }, severity=severity.get(notice.severity, 5))


def to_siem(db: Database, notices: Sequence[Notice]) -> int:
    """Store *notices* as SIEM events through the SIEM's writer; return how many were new."""
    if not notices:
        return 0
    from siem.enrich import build_registry
    from siem.normalise import NormaliseOptions
    from siem.spool import Record
    from siem.writer import build_rows, store_rows

    now = time.time()
    records = [Record(siem_line(n), now, "internal", "", 0,
                      f"simpul-alert:{n.alert_id}:{n.event}:{_utc(n.fired_at).timestamp():.0f}|alerts")
               for n in notices]
    try:
        rows = build_rows(records, NormaliseOptions(), build_registry(), None)
        return store_rows(db, rows)
    except Exception as exc:  # the alert itself stands; the SIEM copy is best effort
        logger.error("handing {} alert event(s) to the SIEM failed: {}", len(notices), exc)
        return 0
