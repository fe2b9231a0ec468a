"""nginx and Apache access logs (common/combined), with web-attack pattern tags.

The tags are cheap pattern hints (SQL injection, path traversal, XSS, scanner user
agents) for the detection layer to count and correlate, not verdicts.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import unquote_plus

from siem.parsers.base import Fields
from siem.parsers.syslog import SyslogMessage

_ACCESS = re.compile(
    r'^(?:(?P<vhost>[\w.-]+(?::\d+)?) )?(?P<ip>[0-9A-Fa-f:.]+) \S+ (?P<user>\S+) '
    r'\[(?P<ts>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)'
    r'(?: "(?P<referrer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?')
_REQUEST = re.compile(r"^(?P<method>[A-Z]{3,10}) (?P<url>.*?)(?: (?P<version>HTTP/[\d.]+))?$")

ATTACKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sqli", re.compile(
        r"(?i)(\bunion\b[\s(]+(?:all\s+)?select\b|'\s*or\s+'?\d*'?\s*=|\bor\s+\d+\s*=\s*\d+|"
        r"\b(?:sleep|benchmark|pg_sleep)\s*\(|information_schema|\bwaitfor\s+delay\b|"
        r";\s*(?:drop|insert|update|delete)\s|'\s*(?:--|#)|\bselect\b.{1,80}\bfrom\b)")),
    ("path_traversal", re.compile(
        r"(?i)(\.\.[/\\]|%2e%2e|%252e|/etc/(?:passwd|shadow)|\bboot\.ini\b|\bwin\.ini\b|"
        r"/proc/self/)")),
    ("xss", re.compile(
        r"(?i)(<\s*script|javascript:|\bon(?:error|load|mouseover|focus)\s*=|<\s*svg|"
        r"<\s*iframe|\balert\s*\(|document\.cookie)")),
)
SCANNERS = re.compile(
    r"(?i)(sqlmap|nikto|nmap|masscan|zgrab|nuclei|dirbuster|gobuster|feroxbuster|wpscan|"
    r"acunetix|nessus|openvas|w3af|fimap|zmeu|jorgee|wfuzz|whatweb|hydra)")


def attack_tags(url: str, user_agent: str = "") -> list[str]:
    """Return the attack patterns found in a request URL and user agent."""
    decoded = unquote_plus(unquote_plus(url))
    found = [name for name, pattern in ATTACKS if pattern.search(decoded) or
             pattern.search(url)]
    if user_agent and SCANNERS.search(user_agent):
        found.append("scanner")
    return found


@lru_cache(maxsize=4096)
def _time(text: str) -> datetime | None:
    """Parse the bracketed time (cached: a busy server logs the same second many times)."""
    try:
        return datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        return None


def parse_access_log(msg: SyslogMessage) -> Fields | None:
    """One combined/common log format line (nginx default, Apache ``combined``)."""
    m = _ACCESS.match(msg.message)
    if m is None:
        return None
    status = int(m.group("status"))
    out: Fields = {"event.module": "http", "event.dataset": "http.access",
                   "event.category": ["web"], "event.type": ["access"],
                   "event.action": "http_request", "source.ip": m.group("ip"),
                   "http.response.status_code": status,
                   "event.outcome": "success" if status < 400 else "failure"}
    if m.group("bytes") != "-":
        out["http.response.body.bytes"] = int(m.group("bytes"))
    if m.group("user") != "-":
        out["user.name"] = m.group("user")
    if m.group("vhost"):
        out["url.domain"] = m.group("vhost")
    when = _time(m.group("ts"))
    if when is not None:
        out["@timestamp"] = when
    request = m.group("request")
    url = request
    req = _REQUEST.match(request)
    if req:
        out["http.request.method"] = req.group("method")
        url = req.group("url")
        if req.group("version"):
            out["http.version"] = req.group("version")[5:]
    out["url.original"] = url
    ua = m.group("ua") or ""
    if ua and ua != "-":
        out["user_agent.original"] = ua
    if m.group("referrer") and m.group("referrer") != "-":
        out["http.request.referrer"] = m.group("referrer")
    tags = attack_tags(url, ua)
    if tags:
        out["web.attack"] = tags
        out["event.category"] = ["web", "intrusion_detection"]
        out["tags"] = ["web_attack"]
        out["event.severity"] = 4
    return out
