"""OpenSSH, sudo, PAM and snmpd lines as those daemons write them."""

from __future__ import annotations

import pytest

from tests.unit.siem.helpers import event_of, subset

SSH = "<38>Nov 23 10:15:01 bastion sshd[2211]: "

SSH_CASES = [
    ("Failed password for invalid user admin from 198.51.100.7 port 52144 ssh2",
     {"event.action": "ssh_login", "event.outcome": "failure", "user.name": "admin",
      "source.ip": "198.51.100.7", "source.port": 52144, "ssh.method": "password",
      "ssh.invalid_user": True, "event.category": ["authentication"],
      "event.dataset": "openssh.auth"}),
    ("Failed password for root from 203.0.113.5 port 41234 ssh2",
     {"event.action": "ssh_login", "event.outcome": "failure", "user.name": "root",
      "source.ip": "203.0.113.5", "source.port": 41234, "ssh.invalid_user": None}),
    ("Accepted password for alice from 192.0.2.10 port 50122 ssh2",
     {"event.action": "ssh_login", "event.outcome": "success", "user.name": "alice",
      "source.ip": "192.0.2.10", "ssh.method": "password"}),
    ("Accepted publickey for alice from 2001:db8::10 port 50122 ssh2: ED25519 "
     "SHA256:Jv8QmCyFXB6rmH4Ah1Yx3UZ8d5xqZrC3eQy2m1W9r0k",
     {"event.action": "ssh_login", "event.outcome": "success", "ssh.method": "publickey",
      "source.ip": "2001:db8::10",
      "ssh.key": "ED25519 SHA256:Jv8QmCyFXB6rmH4Ah1Yx3UZ8d5xqZrC3eQy2m1W9r0k"}),
    ("Failed publickey for bob from 198.51.100.7 port 52150 ssh2: RSA "
     "SHA256:4d8e5Jz0w2dQ1o8lQ4mZ2cW0n9r7yGf3kH6pT1vB2xA",
     {"event.action": "ssh_login", "event.outcome": "failure", "ssh.method": "publickey",
      "user.name": "bob"}),
    ("Invalid user admin from 198.51.100.7 port 52144",
     {"event.action": "ssh_invalid_user", "event.outcome": "failure", "user.name": "admin",
      "source.ip": "198.51.100.7", "source.port": 52144}),
    ("Connection closed by invalid user admin 198.51.100.7 port 52144 [preauth]",
     {"event.action": "ssh_disconnect_preauth", "user.name": "admin",
      "source.ip": "198.51.100.7", "ssh.invalid_user": True}),
    ("Disconnected from authenticating user root 203.0.113.5 port 41234 [preauth]",
     {"event.action": "ssh_disconnect_preauth", "user.name": "root",
      "source.ip": "203.0.113.5", "source.port": 41234}),
    ("Received disconnect from 198.51.100.7 port 52144:11: Bye Bye [preauth]",
     {"event.action": "ssh_disconnect_preauth", "source.ip": "198.51.100.7",
      "event.reason": "Bye Bye"}),
    ("Connection closed by 198.51.100.7 port 52144 [preauth]",
     {"event.action": "ssh_disconnect_preauth", "source.ip": "198.51.100.7"}),
    ("error: maximum authentication attempts exceeded for root from 203.0.113.5 port 41234 "
     "ssh2 [preauth]",
     {"event.action": "ssh_max_auth_attempts", "user.name": "root", "source.ip": "203.0.113.5"}),
    ("Disconnected from user alice 192.0.2.10 port 50122",
     {"event.action": "ssh_logout", "event.outcome": "success", "user.name": "alice"}),
    ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
     "rhost=203.0.113.5  user=root",
     {"event.action": "pam_auth", "event.outcome": "failure", "user.name": "root",
      "source.ip": "203.0.113.5", "pam.service": "sshd", "event.dataset": "pam.unix"}),
    ("pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
     {"event.action": "pam_session_open", "user.name": "alice", "event.outcome": "success"}),
]


@pytest.mark.parametrize(("text", "expected"), SSH_CASES, ids=[c[0][:40] for c in SSH_CASES])
def test_openssh(text: str, expected: dict) -> None:
    event = event_of(SSH + text)
    assert subset(event, expected) == expected
    assert event["host.name"] == "bastion"
    assert "unparsed" not in event.get("tags", [])


def test_ssh_failure_fills_related_fields() -> None:
    event = event_of(SSH + "Failed password for invalid user admin from 198.51.100.7 port "
                           "52144 ssh2")
    assert event["related.ip"] == ["198.51.100.7", "192.0.2.1"]
    assert event["related.user"] == ["admin"]


SUDO = "<85>Nov 23 10:16:00 app1 sudo[4242]: "


def test_sudo_command() -> None:
    event = event_of(SUDO + "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
                            "COMMAND=/usr/bin/systemctl restart nginx")
    expected = {"event.action": "sudo_command", "event.outcome": "success", "user.name": "alice",
                "user.effective.name": "root",
                "process.command_line": "/usr/bin/systemctl restart nginx",
                "related.user": ["alice", "root"]}
    assert subset(event, expected) == expected


def test_sudo_bad_password_and_not_in_sudoers() -> None:
    bad = event_of(SUDO + "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice"
                          " ; USER=root ; COMMAND=/bin/bash")
    assert subset(bad, {"event.action": 1, "event.outcome": 1, "sudo.attempts": 1}) == {
        "event.action": "sudo_auth", "event.outcome": "failure", "sudo.attempts": "3"}
    denied = event_of(SUDO + "bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; "
                             "USER=root ; COMMAND=/bin/sh")
    assert subset(denied, {"event.action": 1, "user.name": 1, "event.outcome": 1}) == {
        "event.action": "sudo_denied", "user.name": "bob", "event.outcome": "failure"}


def test_sudo_pam_session() -> None:
    event = event_of(SUDO + "pam_unix(sudo:session): session opened for user root(uid=0) by "
                            "alice(uid=1000)")
    assert subset(event, {"event.action": 1, "user.name": 1, "pam.service": 1}) == {
        "event.action": "pam_session_open", "user.name": "root", "pam.service": "sudo"}


def test_pam_from_other_programs_by_content() -> None:
    event = event_of("<86>Nov 23 10:16:00 app1 login[901]: pam_unix(login:auth): authentication "
                     "failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=root")
    assert subset(event, {"event.action": 1, "user.name": 1, "source.ip": 1}) == {
        "event.action": "pam_auth", "user.name": "root", "source.ip": None}


@pytest.mark.parametrize(("text", "expected"), [
    ("Connection from UDP: [198.51.100.7]:41234->[192.0.2.1]:161",
     {"event.action": "snmp_connection", "source.ip": "198.51.100.7", "source.port": 41234,
      "destination.port": 161, "network.transport": "udp"}),
    ("Authentication failure (incorrect community name) from UDP: [198.51.100.7]:41234",
     {"event.action": "snmp_auth", "event.outcome": "failure", "source.ip": "198.51.100.7",
      "snmp.reason": "bad community"}),
    ("Authentication failed for nmsuser",
     {"event.action": "snmp_auth", "event.outcome": "failure", "user.name": "nmsuser"}),
])
def test_snmpd(text: str, expected: dict) -> None:
    event = event_of("<28>Nov 23 10:17:00 sw1 snmpd[733]: " + text)
    assert subset(event, expected) == expected
