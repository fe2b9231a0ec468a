"""Host authentication: OpenSSH, sudo, PAM and snmpd (net-snmp) messages."""

from __future__ import annotations

import re

from siem.parsers.base import Fields, first_match, is_ip, key_values, rule
from siem.parsers.syslog import SyslogMessage

AUTH = ["authentication"]
_IP = r"[0-9A-Fa-f:.]+"
_ADDR = rf"(?P<source__ip>{_IP}) port (?P<source__port>\d+)"
_SSH = {"event__module": "openssh", "event__dataset": "openssh.auth"}

SSHD_RULES = (
    rule(rf"^(?P<ssh__result>Failed|Accepted) (?P<ssh__method>password|publickey|"
         rf"keyboard-interactive(?:/pam)?|hostbased|gssapi-with-mic) for "
         rf"(?P<ssh__invalid>invalid user )?(?P<user__name>"
         rf"\S*) from {_ADDR}(?: (?P<ssh__protocol>ssh2))?(?:: (?P<ssh__key>.*))?$",
         event__action="ssh_login", event__category=AUTH, **_SSH),
    rule(rf"^Invalid user (?P<user__name>.*?) from {_ADDR}$", event__action="ssh_invalid_user",
         event__outcome="failure", event__category=AUTH, event__type=["start"], **_SSH),
    rule(rf"^(?:Connection closed by|Disconnected from) (?P<ssh__phase>invalid|authenticating) "
         rf"user (?P<user__name>.*?) {_ADDR} \[preauth\]$",
         event__action="ssh_disconnect_preauth", event__outcome="failure",
         event__category=AUTH, **_SSH),
    rule(rf"^Received disconnect from {_ADDR}:(?P<ssh__reason_code>\d+): (?P<event__reason>.*?)"
         r" ?\[preauth\]$", event__action="ssh_disconnect_preauth", event__outcome="failure",
         event__category=AUTH, **_SSH),
    rule(rf"^(?:Connection (?:closed|reset) by|Disconnected from) {_ADDR} \[preauth\]$",
         event__action="ssh_disconnect_preauth", event__outcome="failure",
         event__category=AUTH, **_SSH),
    rule(rf"^(?:error: )?maximum authentication attempts exceeded for (?P<ssh__invalid>invalid "
         rf"user )?(?P<user__name>\S*) from {_ADDR} ssh2 \[preauth\]$",
         event__action="ssh_max_auth_attempts", event__outcome="failure",
         event__category=AUTH, **_SSH),
    rule(rf"^Timeout before authentication for (?:connection from )?(?P<source__ip>{_IP})"
         r"(?: to \S+)?,? port (?P<source__port>\d+)",
         event__action="ssh_disconnect_preauth", event__outcome="failure",
         event__category=AUTH, **_SSH),
    rule(rf"^banner exchange: Connection from {_ADDR}: (?P<event__reason>.*)$",
         event__action="ssh_bad_banner", event__outcome="failure",
         event__category=["network"], **_SSH),
    rule(rf"^Disconnected from user (?P<user__name>\S+) {_ADDR}$",
         event__action="ssh_logout", event__outcome="success", event__category=["session"],
         event__type=["end"], **_SSH),
)

_SUDO = {"event__module": "sudo", "event__dataset": "sudo.log"}
SUDO_RULES = (
    rule(r"^\s*(?P<user__name>\S+) : (?P<sudo__reason>user NOT in sudoers|command not allowed|"
         r"user NOT authorized on host) ; TTY=(?P<sudo__tty>[^;]*?) ; PWD=(?P<sudo__pwd>[^;]*?) ;"
         r" USER=(?P<user__effective__name>[^;]*?) ; COMMAND=(?P<process__command_line>.*)$",
         event__action="sudo_denied", event__outcome="failure",
         event__category=["process", "iam"], event__severity=3, **_SUDO),
    rule(r"^\s*(?P<user__name>\S+) : (?P<sudo__attempts>\d+) incorrect password attempts? ; "
         r"TTY=(?P<sudo__tty>[^;]*?) ; PWD=(?P<sudo__pwd>[^;]*?) ; USER=(?P<user__effective__name>"
         r"[^;]*?) ; COMMAND=(?P<process__command_line>.*)$",
         event__action="sudo_auth", event__outcome="failure", event__category=AUTH,
         event__severity=4, **_SUDO),
    rule(r"^\s*(?P<user__name>\S+) : TTY=(?P<sudo__tty>[^;]*?) ; PWD=(?P<sudo__pwd>[^;]*?) ; "
         r"USER=(?P<user__effective__name>[^;]*?) ; (?:ENV=[^;]*; )?"
         r"COMMAND=(?P<process__command_line>.*)$",
         event__action="sudo_command", event__outcome="success",
         event__category=["process"], event__type=["start"], **_SUDO),
)

_PAM = re.compile(r"pam_(?P<module>\w+)\((?P<service>[\w@.-]+):(?P<kind>\w+)\): (?P<text>.*)$")
_PAM_OPEN = re.compile(
    r"session opened for user (?P<user>[^\s(]+)(?:\(uid=\d+\))?(?: by (?P<by>\S*))?")
_PAM_CLOSE = re.compile(r"session closed for user (?P<user>[^\s(]+)")


def parse_pam(text: str) -> Fields | None:
    """Parse a ``pam_unix(service:kind): ...`` line from any program."""
    m = _PAM.search(text)
    if m is None:
        return None
    body = m.group("text")
    out: Fields = {"event.module": "pam", "event.dataset": f"pam.{m.group('module')}",
                   "pam.service": m.group("service"), "pam.kind": m.group("kind")}
    if body.startswith("authentication failure"):
        kv = key_values(body)
        out.update({"event.action": "pam_auth", "event.outcome": "failure",
                    "event.category": AUTH})
        if kv.get("user"):
            out["user.name"] = kv["user"]
        elif kv.get("ruser"):
            out["user.name"] = kv["ruser"]
        if is_ip(kv.get("rhost")):
            out["source.ip"] = kv["rhost"]
        return out
    if (o := _PAM_OPEN.match(body)) is not None:
        out.update({"event.action": "pam_session_open", "event.outcome": "success",
                    "event.category": ["session"], "event.type": ["start"],
                    "user.name": o.group("user")})
        return out
    if (c := _PAM_CLOSE.match(body)) is not None:
        out.update({"event.action": "pam_session_close", "event.outcome": "success",
                    "event.category": ["session"], "event.type": ["end"],
                    "user.name": c.group("user")})
        return out
    if "user unknown" in body or "auth could not identify" in body:
        out.update({"event.action": "pam_auth", "event.outcome": "failure",
                    "event.category": AUTH})
        return out
    return None


def _ssh_fields(found: Fields) -> Fields:
    result = found.pop("ssh.result", None)
    if result is not None:
        found["event.outcome"] = "success" if result == "Accepted" else "failure"
        found["event.type"] = ["start"]
    if found.pop("ssh.invalid", None) or found.get("ssh.phase") == "invalid":
        found["ssh.invalid_user"] = True
    found.setdefault("network.protocol", "ssh")
    return found


def parse_sshd(msg: SyslogMessage) -> Fields | None:
    """OpenSSH sshd (7.x–9.x) authentication and pre-auth messages."""
    text = msg.message
    found = first_match(SSHD_RULES, text)
    if found is not None:
        return _ssh_fields(found)
    return parse_pam(text)


def parse_sudo(msg: SyslogMessage) -> Fields | None:
    """sudo's one-line command log and its PAM lines."""
    return first_match(SUDO_RULES, msg.message) or parse_pam(msg.message)


_SNMP = {"event__module": "snmpd", "event__dataset": "snmpd.auth", "event__category": AUTH,
         "event__outcome": "failure", "network__protocol": "snmp"}
SNMPD_RULES = (
    rule(rf"(?i)authentication failure \(incorrect community name\)"
         rf"(?: from (?:UDP: )?\[?(?P<source__ip>{_IP})\]?(?::(?P<source__port>\d+))?)?",
         event__action="snmp_auth", snmp__reason="bad community", **_SNMP),
    rule(r"(?i)(?:authentication failed for|unknown user name|unknown security name:?)"
         r"\s*(?P<user__name>\S+)?", event__action="snmp_auth", snmp__reason="usm", **_SNMP),
    rule(rf"^Connection from (?P<network__transport>UDP|TCP): \[(?P<source__ip>{_IP})\]:"
         rf"(?P<source__port>\d+)->\[(?P<destination__ip>{_IP})\]:(?P<destination__port>\d+)",
         event__action="snmp_connection", event__module="snmpd", event__dataset="snmpd.log",
         event__category=["network"], network__protocol="snmp"),
)


def parse_snmpd(msg: SyslogMessage) -> Fields | None:
    """net-snmp snmpd authentication failures (v1/v2c community, v3 USM)."""
    found = first_match(SNMPD_RULES, msg.message)
    if found and "network.transport" in found:
        found["network.transport"] = found["network.transport"].lower()
    return found
