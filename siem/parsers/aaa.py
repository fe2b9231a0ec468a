"""Access and VPN: FreeRADIUS authentication results and strongSwan (charon) IKE events."""

from __future__ import annotations

import re

from siem.parsers.base import Fields, first_match, norm_mac, rule
from siem.parsers.syslog import SyslogMessage

_RADIUS = re.compile(
    r"(?:Auth: )?(?:\(\d+\) )?Login (?P<result>OK|incorrect)(?: \((?P<reason>.*?)\))?: "
    r"\[(?P<user>[^\]]*)\] \(from client (?P<client>\S+) port (?P<port>\S+)"
    r"(?: cli (?P<cli>[^\s)]+))?(?: via (?P<via>[^)]*))?\)")


def parse_freeradius(msg: SyslogMessage) -> Fields | None:
    """FreeRADIUS 3.x ``Login OK`` / ``Login incorrect`` lines (auth = yes in radiusd.conf).

    With ``auth_badpass``/``auth_goodpass`` FreeRADIUS appends ``/password`` to the user;
    only the part before the slash becomes ``user.name``.
    """
    m = _RADIUS.search(msg.message)
    if m is None:
        return None
    ok = m.group("result") == "OK"
    user = m.group("user").split("/", 1)[0]
    out: Fields = {"event.module": "freeradius", "event.dataset": "freeradius.auth",
                   "event.action": "radius_auth", "event.category": ["authentication"],
                   "event.outcome": "success" if ok else "failure",
                   "event.severity": 6 if ok else 4, "user.name": user,
                   "radius.client": m.group("client"), "network.protocol": "radius"}
    if m.group("port").isdigit():
        out["radius.nas_port"] = int(m.group("port"))
    mac = norm_mac(m.group("cli"))
    if mac:
        out["source.mac"] = mac
    elif m.group("cli"):
        out["radius.calling_station_id"] = m.group("cli")
    if m.group("reason"):
        out["event.reason"] = m.group("reason")
    if m.group("via"):
        out["radius.via"] = m.group("via")
    return out


_IP = r"[0-9A-Fa-f:.]+"
_CHARON_PREFIX = re.compile(r"^(?:\d+\[(?P<group>[A-Z]+)\] )?(?:<(?P<conn>[^|>]*)\|"
                            r"(?P<sa>\d+)> )?")
_VPN = {"event__module": "strongswan", "event__dataset": "strongswan.charon",
        "network__protocol": "ipsec"}
_ENDS = (rf"between (?P<destination__ip>{_IP})\[(?P<strongswan__local_id>[^\]]*)\]\.\.\."
         rf"(?P<source__ip>{_IP})\[(?P<strongswan__remote_id>[^\]]*)\]")
CHARON_RULES = (
    rule(rf"^IKE_SA (?P<strongswan__connection>[^\[\s]+)\[(?P<strongswan__ike_sa>\d+)\] "
         rf"established {_ENDS}", event__action="vpn_tunnel_up", event__outcome="success",
         event__category=["network", "session"], event__type=["start"], event__severity=5,
         **_VPN),
    rule(rf"^deleting IKE_SA (?P<strongswan__connection>[^\[\s]+)\[(?P<strongswan__ike_sa>\d+)\]"
         rf" {_ENDS}", event__action="vpn_tunnel_down", event__category=["network", "session"],
         event__type=["end"], event__severity=4, **_VPN),
    rule(r"^CHILD_SA (?P<strongswan__child>[^{\s]+)\{(?P<strongswan__child_id>\d+)\} "
         r"established", event__action="vpn_child_up", event__outcome="success",
         event__category=["network"], **_VPN),
    rule(r"^tried \d+ shared keys? for '(?P<strongswan__local_id>[^']*)' - "
         r"'(?P<user__name>[^']*)', but MAC mismatched",
         event__action="vpn_auth", event__outcome="failure", event__category=["authentication"],
         event__reason="pre-shared key mismatch", event__severity=4, **_VPN),
    rule(rf"^EAP method (?P<strongswan__eap>\S+) failed for peer (?P<source__ip>{_IP})",
         event__action="vpn_auth", event__outcome="failure", event__category=["authentication"],
         event__reason="EAP failure", event__severity=4, **_VPN),
    rule(r"^(?:received AUTHENTICATION_FAILED notify error|peer authentication failed|"
         r"authentication of '(?P<user__name>[^']*)' with (?P<strongswan__auth>.+?) failed)",
         event__action="vpn_auth", event__outcome="failure", event__category=["authentication"],
         event__severity=4, **_VPN),
    rule(r"^authentication of '(?P<user__name>[^']*)' with (?P<strongswan__auth>.+?) successful",
         event__action="vpn_auth", event__outcome="success",
         event__category=["authentication"], **_VPN),
)


def parse_charon(msg: SyslogMessage) -> Fields | None:
    """strongSwan charon: IKE SA up/down and authentication results."""
    text = msg.message
    prefix = _CHARON_PREFIX.match(text)
    body = text[prefix.end():] if prefix else text
    found = first_match(CHARON_RULES, body)
    if found is None:
        return None
    if prefix and prefix.group("conn"):
        found.setdefault("strongswan.connection", prefix.group("conn"))
        found.setdefault("strongswan.ike_sa", prefix.group("sa"))
    return found
