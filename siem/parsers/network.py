"""Network devices: FRR (ospfd, bgpd), Cisco IOS ``%FAC-SEV-MNEMONIC`` and MikroTik RouterOS."""

from __future__ import annotations

import re

from siem.parsers.base import Fields, first_match, rule
from siem.parsers.syslog import SyslogMessage

_IP = r"[0-9A-Fa-f:.]+"
# FRR ≥ 7.5 prefixes messages with a unique id such as "[RTK0H-QUVMQ] ".
_FRR_ID = r"^(?:\[[A-Z0-9]{5}-[A-Z0-9]{5}\] )?"
_OSPF = {"event__module": "frr", "event__dataset": "frr.ospf", "event__category": ["network"],
         "network__protocol": "ospf"}
_BGP = {"event__module": "frr", "event__dataset": "frr.bgp", "event__category": ["network"],
        "network__protocol": "bgp"}

FRR_RULES = (
    # FRR 10 adds ", NbrIP <address>" and a space before "(vrf)".
    rule(_FRR_ID + rf"AdjChg: Nbr (?P<ospf__neighbor__router_id>{_IP})"
         rf"(?:, NbrIP (?P<ospf__neighbor__ip>{_IP}))? ?(?:\((?P<ospf__vrf>[^)]*)\))?"
         r" on (?P<observer__ingress__interface__name>[^\s:]+)(?::(?P<ospf__interface_ip>\S+))?: "
         r"(?P<ospf__state__old>[\w-]+) -> (?P<ospf__state__new>[\w-]+)"
         r"(?: \((?P<ospf__event>[^)]*)\))?", **_OSPF),
    rule(_FRR_ID + rf"%ADJCHANGE: neighbor (?P<bgp__neighbor__ip>{_IP})"
         r"(?:\((?P<bgp__neighbor__name>[^)]*)\))? in vrf (?P<bgp__vrf>\S+) "
         r"(?P<bgp__state>Up|Down)(?: (?P<event__reason>.*))?$",
         **_BGP),
    rule(_FRR_ID + rf"%NOTIFICATION(?:\(\w+\))?: (?P<bgp__direction>sent|received) (?:to|from) "
         rf"neighbor (?P<bgp__neighbor__ip>{_IP})(?:\([^)]*\))? (?P<bgp__code>\d+/\d+) "
         r"\((?P<event__reason>[^)]*)\)", event__action="bgp_notification", event__severity=4,
         **_BGP),
)


# FRR logging to a file that rsyslog forwards: "2026/11/23 14:06:47 OSPF: <message>".
_FRR_FILE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? (?P<daemon>[A-Z0-9]+): ")
# "log commands": every command a vty session enters, per daemon that received it.
_FRR_VTY = re.compile(_FRR_ID + r"vty\[\d+\]@(?P<mode>\([^)]*\))?[#>] ?(?P<command>.*)$")


def parse_frr(msg: SyslogMessage) -> Fields | None:
    """FRR ospfd adjacency changes, bgpd neighbour up/down (log-*-changes enabled) and,
    with ``log commands``, configuration commands entered in vtysh."""
    text = msg.message
    daemon = None
    prefix = _FRR_FILE.match(text)
    if prefix is not None:
        daemon, text = prefix.group("daemon").lower(), text[prefix.end():]
    vty = _FRR_VTY.match(text)
    if vty is not None:
        mode = (vty.group("mode") or "").strip("()")
        if not mode.startswith("config"):
            return {"event.module": "frr", "event.dataset": "frr.vty",
                    "event.action": "vty_command", "frr.command": vty.group("command"),
                    **({"frr.daemon": daemon} if daemon else {})}
        return {"event.module": "frr", "event.dataset": "frr.config",
                "event.action": "config_change", "event.category": ["configuration"],
                "event.type": ["change"], "event.severity": 5,
                "frr.command": vty.group("command"), "frr.mode": mode,
                **({"frr.daemon": daemon} if daemon else {})}
    found = first_match(FRR_RULES, text)
    if found is None:
        return None
    if daemon:
        found["frr.daemon"] = daemon
    if "ospf.state.new" in found:
        old, new = found["ospf.state.old"], found["ospf.state.new"]
        found["destination.ip"] = found["ospf.neighbor.router_id"]
        if new == "Full":
            found.update({"event.action": "ospf_neighbor_up", "event.severity": 5})
        elif old == "Full" or new in ("Down", "Deleted"):
            found.update({"event.action": "ospf_neighbor_down", "event.severity": 4})
        else:
            found.update({"event.action": "ospf_adjacency_change", "event.severity": 6})
    elif "bgp.state" in found:
        up = found["bgp.state"] == "Up"
        found.update({"event.action": "bgp_neighbor_up" if up else "bgp_neighbor_down",
                      "event.severity": 5 if up else 4,
                      "destination.ip": found["bgp.neighbor.ip"]})
    else:
        found["destination.ip"] = found["bgp.neighbor.ip"]
    return found


_CISCO = re.compile(
    r"(?:^|[\s:])%(?P<facility>[A-Z0-9_]+)-(?P<severity>[0-7])-(?P<mnemonic>[A-Z0-9_]+): "
    r"(?P<text>.*)$", re.S)
_CISCO_PREFIX = re.compile(r"^(?:(?P<seq>\d+): )?(?:(?P<host>[A-Za-z][\w.-]*): )?")
_IOS = {"event__module": "cisco", "event__dataset": "cisco.ios"}
CISCO_RULES: dict[str, tuple] = {
    "SYS-CONFIG_I": (rule(
        rf"^Configured from (?P<cisco__config_source>\S+) by (?P<user__name>\S+)"
        rf"(?: on (?P<cisco__line>\S+))?(?: \((?P<source__ip>{_IP})\))?",
        event__action="config_change", event__category=["configuration"],
        event__type=["change"], event__outcome="success", **_IOS),),
    "LINK-UPDOWN": (rule(
        r"^Interface (?P<observer__ingress__interface__name>[^,]+), changed state to "
        r"(?P<interface__state>administratively down|up|down)",
        event__category=["network"], interface__layer="link", **_IOS),),
    "LINEPROTO-UPDOWN": (rule(
        r"^Line protocol on Interface (?P<observer__ingress__interface__name>[^,]+), changed "
        r"state to (?P<interface__state>up|down)",
        event__category=["network"], interface__layer="lineprotocol", **_IOS),),
    "SEC_LOGIN-LOGIN_FAILED": (rule(
        rf"^Login failed \[user: (?P<user__name>[^\]]*)\] \[Source: (?P<source__ip>{_IP})\]"
        r" \[localport: (?P<destination__port>\d+)\](?: \[Reason: (?P<event__reason>[^\]]*)\])?",
        event__action="login", event__outcome="failure", event__category=["authentication"],
        **_IOS),),
    "SEC_LOGIN-LOGIN_SUCCESS": (rule(
        rf"^Login Success \[user: (?P<user__name>[^\]]*)\] \[Source: (?P<source__ip>{_IP})\]"
        r" \[localport: (?P<destination__port>\d+)\]",
        event__action="login", event__outcome="success", event__category=["authentication"],
        **_IOS),),
    "SEC-IPACCESSLOGP": (rule(
        rf"^list (?P<rule__name>\S+) (?P<cisco__acl_action>denied|permitted) "
        rf"(?P<network__transport>\w+) (?P<source__ip>{_IP})\((?P<source__port>\d+)\)"
        rf"(?: \([^)]*\))? -> "
        rf"(?P<destination__ip>{_IP})\((?P<destination__port>\d+)\), (?P<network__packets>\d+) "
        r"packets?", event__category=["network"], **_IOS),),
}
CISCO_RULES["SEC-IPACCESSLOGDP"] = CISCO_RULES["SEC-IPACCESSLOGP"]


def parse_cisco(msg: SyslogMessage) -> Fields | None:
    """Any Cisco IOS/IOS-XE ``%FAC-SEV-MNEMONIC: text`` message; known ones in detail."""
    text = msg.message
    if "%" not in text:
        return None
    m = _CISCO.search(text)
    if m is None:
        return None
    facility, mnemonic, body = m.group("facility"), m.group("mnemonic"), m.group("text")
    out: Fields = {"event.module": "cisco", "event.dataset": "cisco.ios",
                   "event.severity": int(m.group("severity")),
                   "cisco.ios.facility": facility, "cisco.ios.mnemonic": mnemonic,
                   "event.code": f"{facility}-{m.group('severity')}-{mnemonic}",
                   "event.action": mnemonic.lower(), "message": body}
    prefix = _CISCO_PREFIX.match(text[:m.start()].lstrip())
    if prefix and prefix.group("host"):
        out["host.name"] = prefix.group("host")
    if prefix and prefix.group("seq"):
        out["cisco.ios.sequence"] = int(prefix.group("seq"))
    rules = CISCO_RULES.get(f"{facility}-{mnemonic}")
    found = first_match(rules, body) if rules else None
    if found:
        out.update(found)
        state = found.get("interface.state")
        if state is not None:
            layer = found["interface.layer"]
            down = state != "up"
            out["event.action"] = f"{'link' if layer == 'link' else 'line_protocol'}_" \
                                  f"{'down' if down else 'up'}"
        if "cisco.acl_action" in found:
            deny = found["cisco.acl_action"] == "denied"
            out["event.action"] = "firewall_deny" if deny else "firewall_allow"
            out["event.outcome"] = "failure" if deny else "success"
            out["event.type"] = ["connection", "denied" if deny else "allowed"]
            out["network.transport"] = found["network.transport"].lower()
    return out


_MT = {"event__module": "mikrotik", "event__dataset": "mikrotik.routeros"}
_MT_TOPICS = re.compile(r"^(?P<topics>[a-z-]+(?:,[a-z-]+)+) (?P<text>.*)$", re.S)
MIKROTIK_RULES = (
    rule(rf"^login failure for user (?P<user__name>.*?) from (?P<source__ip>{_IP}) via "
         r"(?P<network__protocol>\S+)", event__action="login", event__outcome="failure",
         event__category=["authentication"], **_MT),
    rule(rf"^user (?P<user__name>.*?) logged (?P<mikrotik__login>in|out) from "
         rf"(?P<source__ip>{_IP}) via (?P<network__protocol>\S+)",
         event__category=["authentication"], event__outcome="success", **_MT),
    rule(r"^(?P<observer__ingress__interface__name>[\w./-]+) link (?P<interface__state>up|down)"
         r"(?: \((?P<interface__detail>[^)]*)\))?$", event__category=["network"], **_MT),
    rule(r"^(?P<mikrotik__object>.+?) (?P<mikrotik__change>added|changed|removed) by "
         r"(?P<user__name>\S+?)(?: \((?P<mikrotik__detail>.*)\))?$",
         event__action="config_change", event__category=["configuration"],
         event__type=["change"], event__outcome="success", **_MT),
)


def parse_mikrotik(msg: SyslogMessage) -> Fields | None:
    """RouterOS remote logging, with or without the ``topic,topic`` prefix."""
    text = msg.message
    topics = None
    m = _MT_TOPICS.match(text)
    if m is not None:
        topics, text = m.group("topics"), m.group("text")
    elif " via " not in text and " link " not in text and " by " not in text:
        return None
    # Without topics only the unmistakable shapes count: " by " alone is far too common.
    found = first_match(MIKROTIK_RULES if topics else MIKROTIK_RULES[:3], text)
    if found is None:
        if topics is None:
            return None
        found = {"event.module": "mikrotik", "event.dataset": "mikrotik.routeros",
                 "event.action": topics.split(",")[0]}
    if topics is not None:
        found["mikrotik.topics"] = topics.split(",")
    if "mikrotik.login" in found:
        found["event.action"] = "login" if found["mikrotik.login"] == "in" else "logout"
    if "interface.state" in found:
        found["event.action"] = f"link_{found['interface.state']}"
    return found
