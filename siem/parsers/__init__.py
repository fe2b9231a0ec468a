"""Per-source parsers and the dispatcher that picks one for a syslog message.

Dispatch goes by program name (the RFC 3164 TAG or RFC 5424 APP-NAME) first, which is
one dict lookup; only messages no program parser claimed are offered to the content
detectors (Cisco mnemonics, FortiGate, netfilter, MikroTik, access logs), each guarded
by a cheap substring test before its regex runs.
"""

from __future__ import annotations

from siem.parsers.aaa import parse_charon, parse_freeradius
from siem.parsers.auth import parse_pam, parse_snmpd, parse_sshd, parse_sudo
from siem.parsers.base import Fields, ParserFunc
from siem.parsers.firewall import parse_fortigate, parse_netfilter
from siem.parsers.network import parse_cisco, parse_frr, parse_mikrotik
from siem.parsers.simpul_events import format_simpul_syslog, parse_simpul
from siem.parsers.syslog import SyslogMessage, parse_syslog
from siem.parsers.web import attack_tags, parse_access_log

__all__ = [
    "PROGRAM_PARSERS",
    "SyslogMessage",
    "attack_tags",
    "format_simpul_syslog",
    "parse_message",
    "parse_syslog",
]

PROGRAM_PARSERS: dict[str, ParserFunc] = {
    "sshd": parse_sshd, "sshd-session": parse_sshd,
    "sudo": parse_sudo,
    "ospfd": parse_frr, "ospf6d": parse_frr, "bgpd": parse_frr, "zebra": parse_frr,
    "frr": parse_frr, "watchfrr": parse_frr,
    "charon": parse_charon, "charon-systemd": parse_charon, "ipsec": parse_charon,
    "strongswan": parse_charon, "ipsec_starter": parse_charon,
    "radiusd": parse_freeradius, "freeradius": parse_freeradius,
    "kernel": parse_netfilter,
    "snmpd": parse_snmpd,
    "nginx": parse_access_log, "apache2": parse_access_log, "httpd": parse_access_log,
    "apache": parse_access_log,
    "simpul": parse_simpul,
}


def _by_content(msg: SyslogMessage) -> Fields | None:
    text = msg.message
    if "%" in text:
        found = parse_cisco(msg)
        if found:
            return found
    if "logid=" in text:
        found = parse_fortigate(msg)
        if found:
            return found
    if "SRC=" in text:
        found = parse_netfilter(msg)
        if found:
            return found
    if "pam_" in text:
        found = parse_pam(text)
        if found:
            return found
    if "Login OK" in text or "Login incorrect" in text:
        found = parse_freeradius(msg)
        if found:
            return found
    if '" ' in text and "[" in text:
        found = parse_access_log(msg)
        if found:
            return found
    if text.startswith("{"):
        found = parse_simpul(msg)
        if found:
            return found
    return parse_mikrotik(msg)


def parse_message(msg: SyslogMessage) -> Fields | None:
    """Return the source-specific fields for *msg*, or None when no parser knows it."""
    app = msg.app_name
    if app:
        parser = PROGRAM_PARSERS.get(app.rsplit("/", 1)[-1].lower())
        if parser is not None:
            found = parser(msg)
            if found is not None:
                return found
    return _by_content(msg)
