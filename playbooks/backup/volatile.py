"""Per-platform clean-up of a running config before it is stored.

Oxidized's most common complaint is false diffs: a device prints its uptime, the time
of the last change or a counter, and every backup "changes". Lines that change without
a configuration change are dropped here, per platform, and secrets are masked so the
repository never holds a password, key or community in clear.
"""

from __future__ import annotations

import re

# simpul platform -> the command that prints the running config (linux has none: a
# Linux node's configuration is files, backed up through its playbooks, not a command).
CONFIG_COMMANDS: dict[str, str] = {
    "frr": "show running-config",
    "ios": "show running-config",
    "iosxe": "show running-config",
    "nxos": "show running-config",
    "eos": "show running-config",
    "junos": "show configuration | display set",
    "routeros": "/export terse",
    "vyos": "show configuration commands",
}

_IOS_LIKE = [
    r"^Building configuration\.\.\.\s*$",
    r"^Current configuration\s*:.*$",
    r"^! Last configuration change at .*$",
    r"^! NVRAM config last updated at .*$",
    r"^! No configuration change since last restart\s*$",
    r"^ntp clock-period \d+\s*$",
    r"^Load for five secs: .*$",
    r"^Time source is .*$",
    r"^!Time: .*$",
]
VOLATILE: dict[str, list[str]] = {
    "frr": [r"^Building configuration\.\.\.\s*$", r"^Current configuration\s*:.*$"],
    "ios": _IOS_LIKE,
    "iosxe": _IOS_LIKE,
    "nxos": [*_IOS_LIKE, r"^!Running configuration last done at: .*$"],
    "eos": [r"^! Command: show running-config.*$", r"^! Time: .*$",
            r"^! Startup-config last modified at .*$"],
    "junos": [r"^## Last commit: .*$", r"^## Last changed: .*$", r"^# Generated .*$"],
    "routeros": [r"^# \S+ \S+ by RouterOS .*$",
                 r"^# \w{3}/\d\d/\d{4} \d\d:\d\d:\d\d by RouterOS.*$"],
    "vyos": [],
}
_COMPILED = {k: [re.compile(p) for p in v] for k, v in VOLATILE.items()}

MASK = "<removed>"
# (pattern, replacement) applied line by line; group 1 is kept, the secret replaced.
_SECRETS = [
    # IOS/EOS/FRR: password 7 XXX, secret 5 XXX, enable secret, username x password 0 y
    re.compile(r"^(.*\b(?:password|secret)(?: \d{1,2})? )(\S+)(.*)$"),
    re.compile(r"^(\s*snmp-server community )(\S+)(.*)$"),
    re.compile(r"^(\s*snmp-server user \S+ \S+ v3 auth \S+ )(\S+)(.*)$"),
    re.compile(r"^(.*\b(?:key-string|key 7|authentication-key|message-digest-key \d+ md5) )"
               r"(\S+)(.*)$"),
    re.compile(r"^(\s*(?:radius-server|tacacs-server) .*\bkey(?: \d)? )(\S+)(.*)$"),
    re.compile(r"^(\s*pre-shared-key .*\b(?:key|address \S+ key)(?: \d)? )(\S+)(.*)$"),
    # Junos set-style: ... encrypted-password "$6$..." / secret "$9$..."
    re.compile(r"^(set .*\b(?:encrypted-password|secret|authentication-key|community|"
               r"pre-shared-key (?:ascii-text|hexadecimal)) )(\S+)(.*)$"),
    # RouterOS: password=..., secret=..., authentication-password=...
    re.compile(r"^(.*\b(?:password|secret|authentication-password|encryption-password|"
               r"wpa2-pre-shared-key)=)(\"[^\"]*\"|\S+)(.*)$"),
]


def clean_config(text: str, platform: str, *, mask_secrets: bool = True) -> str:
    """Return *text* without the platform's volatile lines (and secrets masked).

    Line endings become ``\\n``, trailing spaces go, leading and trailing blank lines
    go, and the result ends with exactly one newline — so two backups of an unchanged
    device are byte-identical.
    """
    patterns = _COMPILED.get(platform, [])
    kept: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if any(p.match(line) for p in patterns):
            continue
        if mask_secrets:
            line = mask_line(line)
        kept.append(line)
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def mask_line(line: str) -> str:
    """Return *line* with a password, key or community replaced by ``<removed>``."""
    for pattern in _SECRETS:
        match = pattern.match(line)
        if match and match.group(2) != MASK:
            return f"{match.group(1)}{MASK}{match.group(3)}"
    return line
