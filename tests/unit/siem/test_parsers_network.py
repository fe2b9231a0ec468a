"""FRR, Cisco IOS and MikroTik messages."""

from __future__ import annotations

import pytest

from tests.unit.siem.helpers import event_of, subset

FRR_CASES = [
    ("<29>Nov 23 10:20:00 r1 ospfd[301]: [RTK0H-QUVMQ] AdjChg: Nbr 10.255.0.2(default) on "
     "eth1:10.0.12.1: Full -> Deleted (InactivityTimer)",
     {"event.action": "ospf_neighbor_down", "ospf.neighbor.router_id": "10.255.0.2",
      "observer.ingress.interface.name": "eth1", "ospf.state.old": "Full",
      "ospf.state.new": "Deleted", "ospf.event": "InactivityTimer", "event.severity": 4,
      "destination.ip": "10.255.0.2", "event.dataset": "frr.ospf"}),
    ("<29>Nov 23 10:21:00 r1 ospfd[301]: AdjChg: Nbr 10.255.0.2(default) on eth1: Loading -> "
     "Full (LoadingDone)",
     {"event.action": "ospf_neighbor_up", "ospf.state.new": "Full"}),
    ("<29>Nov 23 10:21:00 r1 ospfd[301]: AdjChg: Nbr 10.255.0.3(default) on eth2: Init -> "
     "2-Way (2-WayReceived)",
     {"event.action": "ospf_adjacency_change", "ospf.state.new": "2-Way"}),
    ("<29>Nov 23 10:22:00 r1 bgpd[302]: [M59KS-A3ZXZ] %ADJCHANGE: neighbor 10.255.0.2(r2) in "
     "vrf default Down Peer closed the session",
     {"event.action": "bgp_neighbor_down", "bgp.neighbor.ip": "10.255.0.2",
      "bgp.neighbor.name": "r2", "event.reason": "Peer closed the session",
      "event.dataset": "frr.bgp"}),
    ("<29>Nov 23 10:23:00 r1 bgpd[302]: %ADJCHANGE: neighbor 2001:db8::2 in vrf default Up",
     {"event.action": "bgp_neighbor_up", "bgp.neighbor.ip": "2001:db8::2",
      "destination.ip": "2001:db8::2"}),
    ("<28>Nov 23 10:24:00 r1 bgpd[302]: %NOTIFICATION: sent to neighbor 10.255.0.2 4/0 (Hold "
     "Timer Expired) 0 bytes",
     {"event.action": "bgp_notification", "bgp.direction": "sent", "bgp.code": "4/0",
      "event.reason": "Hold Timer Expired"}),
]


@pytest.mark.parametrize(("line", "expected"), FRR_CASES, ids=[c[1]["event.action"]
                                                               for c in FRR_CASES])
def test_frr(line: str, expected: dict) -> None:
    assert subset(event_of(line), expected) == expected


CISCO_CASES = [
    ("<189>57: *Nov 23 10:15:01.123 UTC: %SYS-5-CONFIG_I: Configured from console by admin on "
     "vty0 (192.0.2.10)",
     {"event.action": "config_change", "user.name": "admin", "source.ip": "192.0.2.10",
      "event.category": ["configuration"], "event.severity": 5,
      "event.code": "SYS-5-CONFIG_I", "cisco.ios.sequence": 57, "cisco.line": "vty0"}),
    ("<187>58: R1: *Nov 23 10:15:02.001 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, "
     "changed state to down",
     {"event.action": "link_down", "observer.ingress.interface.name": "GigabitEthernet0/1",
      "host.name": "R1", "event.severity": 3}),
    ("<189>59: *Nov 23 10:15:03.001 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface "
     "GigabitEthernet0/1, changed state to up",
     {"event.action": "line_protocol_up",
      "observer.ingress.interface.name": "GigabitEthernet0/1"}),
    ("<188>Nov 23 10:15:04 sw-core-1 60: Nov 23 10:15:04.210: %SEC_LOGIN-4-LOGIN_FAILED: Login "
     "failed [user: admin] [Source: 198.51.100.7] [localport: 22] [Reason: Login Authentication"
     " Failed] at 10:15:04 UTC Sat Nov 23 2024",
     {"event.action": "login", "event.outcome": "failure", "user.name": "admin",
      "source.ip": "198.51.100.7", "destination.port": 22,
      "event.reason": "Login Authentication Failed"}),
    ("<190>61: *Nov 23 10:15:05.000 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp "
     "198.51.100.7(52144) -> 192.0.2.1(23), 1 packet",
     {"event.action": "firewall_deny", "event.outcome": "failure", "rule.name": "101",
      "source.ip": "198.51.100.7", "source.port": 52144, "destination.ip": "192.0.2.1",
      "destination.port": 23, "network.transport": "tcp", "network.packets": 1}),
    ("<186>62: *Nov 23 10:15:06.000 UTC: %ENVMON-2-FAN_FAILED: Fan 2 not operating",
     {"event.action": "fan_failed", "event.severity": 2, "cisco.ios.facility": "ENVMON"}),
]


@pytest.mark.parametrize(("line", "expected"), CISCO_CASES,
                         ids=[c[1]["event.action"] for c in CISCO_CASES])
def test_cisco_ios(line: str, expected: dict) -> None:
    event = event_of(line)
    assert subset(event, expected) == expected
    assert event["event.dataset"] == "cisco.ios"


MIKROTIK_CASES = [
    ("<30>system,error,critical login failure for user admin from 198.51.100.7 via ssh",
     {"event.action": "login", "event.outcome": "failure", "user.name": "admin",
      "source.ip": "198.51.100.7", "network.protocol": "ssh",
      "mikrotik.topics": ["system", "error", "critical"]}),
    ("<30>Nov 23 10:30:00 MikroTik system,info,account user admin logged in from 192.0.2.10 "
     "via winbox",
     {"event.action": "login", "event.outcome": "success", "host.name": "MikroTik"}),
    ("<30>interface,info ether1 link down",
     {"event.action": "link_down", "observer.ingress.interface.name": "ether1"}),
    ("<30>interface,info ether1 link up (speed 1G, full duplex)",
     {"event.action": "link_up", "interface.detail": "speed 1G, full duplex"}),
    ("<30>system,info address added by admin",
     {"event.action": "config_change", "user.name": "admin", "mikrotik.change": "added"}),
]


@pytest.mark.parametrize(("line", "expected"), MIKROTIK_CASES,
                         ids=[str(i) for i in range(len(MIKROTIK_CASES))])
def test_mikrotik(line: str, expected: dict) -> None:
    event = event_of(line)
    assert subset(event, expected) == expected
    assert event["event.module"] == "mikrotik"
