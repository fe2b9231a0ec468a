"""FortiGate, netfilter, access logs, FreeRADIUS, strongSwan and simpul's own events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from siem.parsers import attack_tags, format_simpul_syslog
from tests.unit.siem.helpers import event_of, subset

FGT_DENY = ('<189>date=2024-11-23 time=17:15:01 devname="FGT60F-DC" devid="FGT60FTK2209XXXX" '
            'eventtime=1732356901123456789 tz="+0700" logid="0000000013" type="traffic" '
            'subtype="forward" level="notice" vd="root" srcip=198.51.100.7 srcport=52144 '
            'srcintf="wan1" srcintfrole="wan" dstip=192.0.2.80 dstport=3389 dstintf="dmz" '
            'dstintfrole="dmz" sessionid=1234567 proto=6 action="deny" policyid=0 '
            'policytype="policy" service="RDP" trandisp="noop" duration=0 sentbyte=0 rcvdbyte=0')


def test_fortigate_traffic_deny() -> None:
    event = event_of(FGT_DENY)
    expected = {"event.action": "firewall_deny", "event.outcome": "failure",
                "source.ip": "198.51.100.7", "source.port": 52144,
                "destination.ip": "192.0.2.80", "destination.port": 3389,
                "network.transport": "tcp", "observer.name": "FGT60F-DC",
                "observer.ingress.interface.name": "wan1", "rule.id": 0,
                "network.protocol": "RDP", "event.code": "0000000013", "event.severity": 5,
                "@timestamp": datetime(2024, 11, 23, 10, 15, 1, tzinfo=UTC)}
    assert subset(event, expected) == expected


def test_fortigate_admin_login_failed() -> None:
    line = ('<188>date=2024-11-23 time=17:16:00 devname="FGT60F-DC" devid="FGT60FTK2209XXXX" '
            'logid="0100032002" type="event" subtype="system" level="alert" vd="root" '
            'logdesc="Admin login failed" sn="0" user="admin" ui="https(198.51.100.7)" '
            'method="https" srcip=198.51.100.7 dstip=192.0.2.1 action="login" status="failed" '
            'reason="passwd_invalid" msg="Administrator admin login failed from https('
            '198.51.100.7) because of invalid password"')
    expected = {"event.action": "login", "event.outcome": "failure", "user.name": "admin",
                "source.ip": "198.51.100.7", "event.severity": 1,
                "event.category": ["authentication"]}
    assert subset(event_of(line), expected) == expected


def test_fortigate_utm_ips() -> None:
    line = ('<185>date=2024-11-23 time=17:17:00 devname="FGT60F-DC" devid="X" logid="0419016384"'
            ' type="utm" subtype="ips" level="alert" srcip=198.51.100.9 dstip=192.0.2.80 '
            'action="dropped" attack="Apache.Log4j.Error.Log.Remote.Code.Execution"')
    expected = {"event.action": "utm_ips", "event.outcome": "failure",
                "threat.technique.name": "Apache.Log4j.Error.Log.Remote.Code.Execution"}
    assert subset(event_of(line), expected) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("<4>Nov 23 10:40:00 fw1 kernel: [123456.789012] IPTABLES-DROP: IN=eth0 OUT= "
     "MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.100.7 DST=192.0.2.1 LEN=60 "
     "TOS=0x00 PREC=0x00 TTL=52 ID=12345 DF PROTO=TCP SPT=52144 DPT=23 WINDOW=64240 RES=0x00 "
     "SYN URGP=0",
     {"event.action": "firewall_deny", "source.ip": "198.51.100.7", "destination.ip": "192.0.2.1",
      "source.port": 52144, "destination.port": 23, "network.transport": "tcp",
      "observer.ingress.interface.name": "eth0", "rule.name": "IPTABLES-DROP"}),
    ("<4>Nov 23 10:40:01 fw1 kernel: nft drop in: IN=ens3 OUT= MAC=aa:bb SRC=2001:db8::7 "
     "DST=2001:db8::1 LEN=72 TC=0 HOPLIMIT=55 FLOWLBL=0 PROTO=UDP SPT=40000 DPT=161 LEN=32",
     {"event.action": "firewall_deny", "source.ip": "2001:db8::7", "destination.port": 161,
      "network.transport": "udp", "rule.name": "nft drop in"}),
    ("<4>Nov 23 10:40:02 fw1 kernel: ACCEPT-SSH IN=eth0 OUT= SRC=192.0.2.10 DST=192.0.2.1 "
     "PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
     {"event.action": "firewall_allow", "event.outcome": "success", "network.transport": "icmp",
      "source.port": None}),
])
def test_netfilter(line: str, expected: dict) -> None:
    assert subset(event_of(line), expected) == expected


def test_access_log_plain_line_from_a_file() -> None:
    line = ('203.0.113.9 - - [23/Nov/2024:17:15:01 +0700] "GET /index.html HTTP/1.1" 200 5120 '
            '"https://example.go.id/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 '
            'Firefox/128.0"')
    event = event_of(line, transport="file", peer="")
    expected = {"event.action": "http_request", "event.outcome": "success",
                "source.ip": "203.0.113.9", "http.request.method": "GET",
                "url.original": "/index.html", "http.version": "1.1",
                "http.response.status_code": 200, "http.response.body.bytes": 5120,
                "http.request.referrer": "https://example.go.id/", "web.attack": None,
                "@timestamp": datetime(2024, 11, 23, 10, 15, 1, tzinfo=UTC)}
    assert subset(event, expected) == expected
    assert "parse_error" not in event.get("tags", [])


def test_access_log_via_syslog_with_sqli_and_scanner() -> None:
    line = ('<190>Nov 23 10:15:01 web1 nginx: 198.51.100.7 - - [23/Nov/2024:10:15:01 +0000] '
            '"GET /berita.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--'
            ' HTTP/1.1" 404 153 "-" "sqlmap/1.7.2#stable (https://sqlmap.org)"')
    event = event_of(line)
    assert event["web.attack"] == ["sqli", "scanner"]
    assert event["event.outcome"] == "failure"
    assert "web_attack" in event["tags"]
    assert event["event.category"] == ["web", "intrusion_detection"]


@pytest.mark.parametrize(("url", "ua", "tags"), [
    ("/../../../../etc/passwd", "", ["path_traversal"]),
    ("/download?file=..%2f..%2f..%2fetc%2fpasswd", "", ["path_traversal"]),
    ("/search?q=<script>alert(document.cookie)</script>", "", ["xss"]),
    ("/search?q=%3Csvg%20onload%3Dalert(1)%3E", "", ["xss"]),
    ("/item?id=1 OR 1=1", "", ["sqli"]),
    ("/", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)", ["scanner"]),
    ("/wp-login.php", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
     ["scanner"]),
    ("/index.php?page=home&lang=id", "Mozilla/5.0", []),
])
def test_attack_tags(url: str, ua: str, tags: list[str]) -> None:
    assert attack_tags(url, ua) == tags


def test_apache_request_that_is_not_http() -> None:
    line = ('198.51.100.7 - - [23/Nov/2024:10:15:01 +0000] "\\x16\\x03\\x01\\x00\\xa5\\x01" '
            '400 226 "-" "-"')
    event = event_of(line, transport="file", peer="")
    assert event["http.response.status_code"] == 400
    assert "http.request.method" not in event


RADIUS_CASES = [
    ("<38>Nov 23 10:50:00 radius1 radiusd[1101]: (12) Login OK: [alice] (from client ap-lt2 "
     "port 0 cli AA-BB-CC-DD-EE-01)",
     {"event.action": "radius_auth", "event.outcome": "success", "user.name": "alice",
      "radius.client": "ap-lt2", "source.mac": "AA-BB-CC-DD-EE-01", "radius.nas_port": 0}),
    ("<38>Nov 23 10:50:01 radius1 radiusd[1101]: (13) Login incorrect (mschap: MS-CHAP2-"
     "Response is incorrect): [bob] (from client sw-opd-3 port 10 cli 02-00-00-00-00-01)",
     {"event.action": "radius_auth", "event.outcome": "failure", "user.name": "bob",
      "event.reason": "mschap: MS-CHAP2-Response is incorrect", "radius.nas_port": 10,
      "source.mac": "02-00-00-00-00-01"}),
    ("<38>Nov 23 10:50:02 radius1 radiusd[1101]: Auth: (14) Login incorrect: "
     "[carol/hunter2] (from client sw-opd-3 port 11 cli 020000000002)",
     {"event.outcome": "failure", "user.name": "carol", "source.mac": "02-00-00-00-00-02"}),
    ("<38>Nov 23 10:50:03 radius1 radiusd[1101]: (15) Login OK: [dave] (from client ap-lt2 "
     "port 0 cli aa:bb:cc:dd:ee:03 via TLS tunnel)",
     {"event.outcome": "success", "radius.via": "TLS tunnel"}),
]


@pytest.mark.parametrize(("line", "expected"), RADIUS_CASES,
                         ids=[str(i) for i in range(len(RADIUS_CASES))])
def test_freeradius(line: str, expected: dict) -> None:
    assert subset(event_of(line), expected) == expected


CHARON = "<30>Nov 23 11:00:00 vpn1 charon: "
CHARON_CASES = [
    ("12[IKE] IKE_SA site-a[3] established between 192.0.2.1[vpn.example.go.id]..."
     "198.51.100.20[site-a.example.go.id]",
     {"event.action": "vpn_tunnel_up", "event.outcome": "success",
      "strongswan.connection": "site-a", "source.ip": "198.51.100.20",
      "destination.ip": "192.0.2.1", "strongswan.remote_id": "site-a.example.go.id"}),
    ("14[IKE] deleting IKE_SA site-a[3] between 192.0.2.1[vpn.example.go.id]..."
     "198.51.100.20[site-a.example.go.id]",
     {"event.action": "vpn_tunnel_down", "source.ip": "198.51.100.20"}),
    ("07[IKE] <site-b|5> tried 1 shared key for 'vpn.example.go.id' - 'site-b.example.go.id', "
     "but MAC mismatched",
     {"event.action": "vpn_auth", "event.outcome": "failure",
      "user.name": "site-b.example.go.id", "strongswan.connection": "site-b"}),
    ("09[IKE] EAP method EAP_MSCHAPV2 failed for peer 198.51.100.30",
     {"event.action": "vpn_auth", "event.outcome": "failure", "source.ip": "198.51.100.30"}),
    ("10[IKE] received AUTHENTICATION_FAILED notify error",
     {"event.action": "vpn_auth", "event.outcome": "failure"}),
    ("11[IKE] CHILD_SA site-a-net{5} established with SPIs c3d8e1f2_i c8a1b2c3_o and TS "
     "10.10.0.0/16 === 10.20.0.0/16",
     {"event.action": "vpn_child_up", "strongswan.child": "site-a-net"}),
]


@pytest.mark.parametrize(("text", "expected"), CHARON_CASES,
                         ids=[str(i) for i in range(len(CHARON_CASES))])
def test_strongswan(text: str, expected: dict) -> None:
    assert subset(event_of(CHARON + text), expected) == expected


def test_simpul_nac_decision_round_trip() -> None:
    line = format_simpul_syslog("nac", {"decision": "reject", "mac": "02:00:00:00:00:09",
                                        "user": "bob", "nas_ip": "192.0.2.20", "nas_port": 10,
                                        "reason": "unregistered device", "opd": "DINKES"},
                                hostname="simpul-1", severity=4)
    event = event_of(line)
    expected = {"event.action": "nac_decision", "event.outcome": "failure",
                "nac.decision": "reject", "source.mac": "02-00-00-00-00-09", "user.name": "bob",
                "observer.ip": "192.0.2.20", "nac.opd": "DINKES",
                "event.reason": "unregistered device", "log.syslog.msgid": "nac",
                "host.name": "simpul-1"}
    assert subset(event, expected) == expected


def test_simpul_alert() -> None:
    line = format_simpul_syslog("alert", {"rule": "ssh-bruteforce", "severity": "high",
                                          "title": "SSH brute force from 198.51.100.7",
                                          "source_ip": "198.51.100.7", "incident": 12})
    event = event_of(line)
    expected = {"event.kind": "alert", "rule.name": "ssh-bruteforce", "event.severity": 3,
                "source.ip": "198.51.100.7", "message": "SSH brute force from 198.51.100.7",
                "simpul.alert.incident": 12}
    assert subset(event, expected) == expected


def test_simpul_body_that_is_not_json_is_kept_unparsed() -> None:
    event = event_of("<13>1 - h simpul - nac - {not json")
    assert "unparsed" in event["tags"]
    assert json.dumps(event, default=str)


def test_unknown_program_is_stored_raw() -> None:
    event = event_of("<13>Nov 23 10:00:00 h cron[5]: (root) CMD (run-parts /etc/cron.hourly)")
    assert event["tags"] == ["unparsed"]
    assert event["message"] == "(root) CMD (run-parts /etc/cron.hourly)"
    assert event["event.dataset"] == "syslog.generic"
