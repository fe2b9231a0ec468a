"""RFC 5424 and RFC 3164 syslog headers, parsed leniently.

Anything that is not valid syslog still yields a message: the header fields are left
empty, ``errors`` says what was wrong, and the caller stores the line raw. Parsing
never raises on input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
    "local2", "local3", "local4", "local5", "local6", "local7",
)
SEVERITIES = ("emergency", "alert", "critical", "error", "warning", "notice",
              "informational", "debug")
MONTHS = {m: i + 1 for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))}

_PRI = re.compile(r"<([^<>\s]{0,12})>")
_RFC5424 = re.compile(r"(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ?")
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(Z|z|[+-]\d\d:?\d\d)?$")
_BSD_TS = re.compile(
    r"([A-Z][a-z]{2})  ?(\d{1,2}) (?:(\d{4}) )?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ")
_ISO_TS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) ")
_TAG = re.compile(r"([^\s:\[\]]{1,48})(?:\[([^\]\s]{0,32})\])?: ?")
_HOST = re.compile(r"[A-Za-z0-9_.:%-]{1,255}$")
_BOM = "\ufeff"


@dataclass(slots=True)
class SyslogMessage:
    """The header fields of one line; absent fields are None."""

    format: str = "raw"
    priority: int | None = None
    facility: int | None = None
    severity: int | None = None
    version: int | None = None
    timestamp: datetime | None = None
    hostname: str | None = None
    app_name: str | None = None
    procid: str | None = None
    msgid: str | None = None
    structured_data: dict[str, dict[str, str]] | None = None
    message: str = ""
    errors: list[str] = field(default_factory=list)


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Return *data* as text, with U+FFFD for invalid UTF-8 and NUL, and what was wrong."""
    errors: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        errors.append("invalid UTF-8")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
        errors.append("NUL byte")
    return text, errors


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def parse_rfc3339(text: str) -> datetime | None:
    """Return an aware datetime for an RFC 3339 timestamp (fractions cut to microseconds)."""
    m = _RFC3339.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        if tz is None or tz in ("Z", "z"):
            offset = UTC if tz else None
        else:
            sign = -1 if tz[0] == "-" else 1
            hh, mm = int(tz[1:3]), int(tz[-2:])
            if hh > 23 or mm > 59:
                return None
            offset = timezone(sign * timedelta(hours=hh, minutes=mm))
        value = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         min(int(second), 59), micro, tzinfo=offset)
    except ValueError:
        return None
    return value


def _parse_sd(text: str) -> tuple[dict[str, dict[str, str]] | None, str, bool]:
    """Parse STRUCTURED-DATA at the start of *text*; return it, the rest, and validity."""
    if text.startswith("-"):
        return None, text[1:], True
    sd: dict[str, dict[str, str]] = {}
    i, n = 0, len(text)
    while i < n and text[i] == "[":
        j = i + 1
        while j < n and text[j] not in " ]":
            j += 1
        sd_id = text[i + 1:j]
        params: dict[str, str] = {}
        while j < n and text[j] == " ":
            k = text.find("=", j + 1)
            if k == -1 or k + 1 >= n or text[k + 1] != '"':
                return None, text, False
            name = text[j + 1:k]
            j = k + 2
            value: list[str] = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\]':
                    j += 1
                value.append(text[j])
                j += 1
            if j >= n:
                return None, text, False
            params[name] = "".join(value)
            j += 1
        if j >= n or text[j] != "]" or not sd_id:
            return None, text, False
        sd[sd_id] = params
        i = j + 1
    if not sd:
        return None, text, False
    return sd, text[i:], True


# (timestamp text, zone, year it gets) -> the datetime, before the new-year check.
_BSD_CACHE: dict[tuple[str, tzinfo, int], datetime | None] = {}


def _bsd_time(m: re.Match[str], received: datetime, tz: tzinfo) -> datetime | None:
    mon, day, year, hh, mi, ss, frac = m.groups()
    month = MONTHS.get(mon)
    if month is None:
        return None
    local_now = received.astimezone(tz)
    # One second of a busy device is many lines with the same stamp: build it once.
    key = (m.group(0), tz, local_now.year)
    try:
        value = _BSD_CACHE[key]
    except KeyError:
        try:
            value = datetime(int(year) if year else local_now.year, month, int(day),
                             int(hh), int(mi), min(int(ss), 59),
                             int((frac or "0").ljust(6, "0")), tzinfo=tz)
        except ValueError:
            value = None
        if len(_BSD_CACHE) >= 4096:
            _BSD_CACHE.clear()
        _BSD_CACHE[key] = value
    if value is None:
        return None
    # No year in RFC 3164: a December line read in January belongs to last year.
    if not year and value - local_now > timedelta(days=2):
        try:
            value = value.replace(year=value.year - 1)
        except ValueError:
            return None
    return value


def parse_syslog(data: bytes, received: datetime, *, tz: tzinfo = UTC,
                 require_pri: bool = True) -> SyslogMessage:
    """Parse one syslog line (without framing) into its header fields and message."""
    text, errors = decode_text(data.rstrip(b"\r\n\x00"))
    msg = SyslogMessage(errors=errors)
    rest = text
    m = _PRI.match(text)
    if m:
        digits = m.group(1)
        pri = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 3 else -1
        if not 0 <= pri <= 191 or (len(digits) > 1 and digits[0] == "0"):
            msg.errors.append(f"bad PRI <{digits[:12]}>")
            msg.message = text
            return msg
        msg.priority, msg.facility, msg.severity = pri, pri >> 3, pri & 7
        rest = text[m.end():]
    elif require_pri:
        msg.errors.append("missing PRI")
    m5 = _RFC5424.match(rest) if msg.priority is not None else None
    if m5 and m5.group(1) == "1":
        _parse_5424(msg, m5, rest)
    else:
        _parse_3164(msg, rest, received, tz)
    return msg


def _parse_5424(msg: SyslogMessage, m: re.Match[str], rest: str) -> None:
    msg.format = "rfc5424"
    msg.version = 1
    ts, host, app, procid, msgid = m.group(2, 3, 4, 5, 6)
    if ts != "-":
        msg.timestamp = parse_rfc3339(ts)
        if msg.timestamp is None or msg.timestamp.tzinfo is None:
            msg.errors.append(f"bad timestamp {ts[:40]!r}")
            msg.timestamp = None
    msg.hostname, msg.app_name = _nil(host), _nil(app)
    msg.procid, msg.msgid = _nil(procid), _nil(msgid)
    sd, body, ok = _parse_sd(rest[m.end():])
    if not ok:
        msg.errors.append("bad STRUCTURED-DATA")
    msg.structured_data = sd
    if body.startswith(" "):
        body = body[1:]
    if body.startswith(_BOM):
        body = body[1:]
    msg.message = body


def _parse_3164(msg: SyslogMessage, rest: str, received: datetime, tz: tzinfo) -> None:
    m = _BSD_TS.match(rest)
    if m:
        msg.timestamp = _bsd_time(m, received, tz)
        if msg.timestamp is None:
            msg.errors.append("bad timestamp")
        rest = rest[m.end():]
    else:
        iso = _ISO_TS.match(rest)
        if iso:
            msg.timestamp = parse_rfc3339(iso.group(1).replace(",", "."))
            if msg.timestamp is not None and msg.timestamp.tzinfo is None:
                msg.timestamp = msg.timestamp.replace(tzinfo=tz)
            rest = rest[iso.end():]
            m = iso
    if m is not None and msg.timestamp is not None:
        msg.format = "rfc3164"
        # HOSTNAME follows the timestamp unless the next token is already the TAG.
        sp = rest.find(" ")
        if sp > 0 and _HOST.match(rest[:sp]) and not rest[:sp].endswith(":"):
            msg.hostname = rest[:sp]
            rest = rest[sp + 1:]
    elif msg.priority is not None:
        msg.format = "rfc3164"
    tag = _TAG.match(rest)
    if tag and msg.format == "rfc3164" and not tag.group(1).isdigit():
        msg.app_name, msg.procid = tag.group(1), tag.group(2)
        rest = rest[tag.end():]
    msg.message = rest


def facility_name(code: int | None) -> str | None:
    """Return the keyword of facility *code* (``auth``, ``local7``…)."""
    return FACILITIES[code] if code is not None and 0 <= code < len(FACILITIES) else None


def severity_name(code: int | None) -> str | None:
    """Return the keyword of severity *code* (``error``, ``notice``…)."""
    return SEVERITIES[code] if code is not None and 0 <= code < 8 else None
