"""The RADIUS decisions FreeRADIUS asks simpul for through rlm_rest.

Each handler takes the request attributes (rlm_rest's JSON body, flattened by
``attributes``) and returns ``(http_status, body)`` in rlm_rest's reply format: 200 with
attributes = ok/updated, 204 = ok without attributes, 401 = reject. Facts come from one
indexed register lookup and the cached policy snapshot; ``nac.policy`` decides; every
decision goes to a sink that writes ``nac_decisions`` and logs one line for the SIEM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from inventory.addressing import normalise_mac
from nac.accounting import AcctRecord, record_accounting
from nac.decisionlog import DecisionRecord, DecisionSink
from nac.models import NacDevice
from nac.policy import (
    Decision,
    DeviceFacts,
    UserFacts,
    decide_device,
    decide_user,
    reply_attributes,
)
from nac.policydata import PolicyData
from simpul.models import Opd, User
from simpul.models.base import utcnow
from simpul.users import authenticate as authenticate_user

Reply = tuple[int, dict[str, Any]]
USER_ROLE = "staff"  # the NAC role 802.1X users get, keyed into their OPD's VLAN map


def attributes(body: Any) -> dict[str, str]:
    """Flatten rlm_rest's ``{"Attr": {"type": .., "value": [..]}}`` to first values."""
    flat: dict[str, str] = {}
    if not isinstance(body, dict):
        return flat
    for name, item in body.items():
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, list):
            value = value[0] if value else ""
        flat[str(name)] = "" if value is None else str(value)
    return flat


def _mac(text: str | None) -> str | None:
    try:
        return normalise_mac(text or "")
    except ValueError:
        return None


def _nas(attrs: dict[str, str]) -> tuple[str, str]:
    return (attrs.get("NAS-IP-Address", ""),
            attrs.get("NAS-Port-Id") or attrs.get("NAS-Port", ""))


# Built once: a statement object reused with a bound MAC keeps SQLAlchemy's compiled
# form cached, so the hot path pays for the lookup, not for building SQL.
_DEVICE_LOOKUP = (
    select(NacDevice.status, NacDevice.expires_at, NacDevice.opd_id, NacDevice.role,
           NacDevice.auth_method, Opd.code).join(Opd, Opd.id == NacDevice.opd_id)
    .where(NacDevice.mac == bindparam("mac")))


def device_facts(session: Session | Connection, mac: str | None, data: PolicyData,
                 site_id: int | None) -> DeviceFacts | None:
    """Look the MAC up (one indexed query) and attach its OPD+role VLAN.

    *session* may be a plain Connection: the MAB hot path needs no ORM session.
    """
    if mac is None:
        return None
    row = session.execute(_DEVICE_LOOKUP, {"mac": mac}).first()
    if row is None:
        return None
    status, expires_at, opd_id, role, method, opd_code = row
    return DeviceFacts(mac, status, expires_at, opd_code, role,
                       data.vlan_for(opd_id, role, site_id), method)


def log_decision(sink: DecisionSink, decision: Decision, *, mac: str, username: str,
                 method: str, nas_ip: str, nas_port: str, now: datetime) -> None:
    """Hand the decision to *sink* (the batching writer, or a session in CLI and tests)."""
    sink(DecisionRecord(created_at=now, mac=mac, username=username[:253], method=method,
                        nas_ip=nas_ip[:45], nas_port=nas_port[:64], result=decision.result,
                        reason=decision.reason[:200], vid=decision.vid))


def authorize(session: Session | Connection, data: PolicyData, attrs: dict[str, str],
              sink: DecisionSink) -> Reply:
    """MAB: the User-Name is the MAC; decide it and answer Accept+VLAN or Reject."""
    now = utcnow()
    nas_ip, nas_port = _nas(attrs)
    if "EAP-Message" in attrs:
        return 204, {}  # 802.1X: the eap module runs the conversation, post-auth decides
    username = attrs.get("User-Name", "")
    mac = _mac(username)
    calling = _mac(attrs.get("Calling-Station-Id"))
    if mac is None:
        decision = Decision("reject", "not a MAB request (802.1X users must use EAP-TTLS)")
    elif calling is not None and calling != mac:
        decision = Decision("reject", "User-Name and Calling-Station-Id differ")
    else:
        site_id = data.nas_sites.get(nas_ip)
        decision = decide_device(device_facts(session, mac, data, site_id),
                                 data.site_policy(site_id), now)
    log_decision(sink, decision, mac=mac or calling or "", username=username, method="mab",
                 nas_ip=nas_ip, nas_port=nas_port, now=now)
    body = reply_attributes(decision)
    if decision.accepted:
        return 200, {"control:Auth-Type": "Accept", **body}
    return 401, body


def authenticate(session: Session, attrs: dict[str, str]) -> Reply:
    """EAP-TTLS/PAP inner request: verify the user's password against simpul's users."""
    user = authenticate_user(session, attrs.get("User-Name", ""), attrs.get("User-Password", ""))
    if user is None:
        return 401, {"reply:Reply-Message": "wrong username or password"}
    return 204, {}


def post_auth(session: Session, data: PolicyData, attrs: dict[str, str], result: str,
              sink: DecisionSink) -> Reply:
    """802.1X after authentication (inner tunnel): the user's OPD VLAN, or a reject."""
    now = utcnow()
    nas_ip, nas_port = _nas(attrs)
    username = attrs.get("User-Name", "")
    mac = _mac(attrs.get("Calling-Station-Id"))
    if result == "reject":
        log_decision(sink, Decision("reject", "802.1X authentication failed"), mac=mac or "",
                     username=username, method="dot1x", nas_ip=nas_ip, nas_port=nas_port,
                     now=now)
        return 204, {}
    site_id = data.nas_sites.get(nas_ip)
    user = session.scalar(select(User).where(User.username == username))
    facts = None if user is None else UserFacts(
        user.username, user.is_active, user.opd.code, data.vlan_for(user.opd_id, USER_ROLE,
                                                                    site_id))
    decision = decide_user(facts, device_facts(session, mac, data, site_id), now)
    log_decision(sink, decision, mac=mac or "", username=username, method="dot1x",
                 nas_ip=nas_ip, nas_port=nas_port, now=now)
    if decision.accepted:
        return 200, reply_attributes(decision)
    return 403, {}  # rlm_rest: "invalid" in post-auth, which turns the Accept into a Reject


def _octets(attrs: dict[str, str], name: str) -> int:
    try:
        low = int(attrs.get(f"Acct-{name}-Octets") or 0)
        high = int(attrs.get(f"Acct-{name}-Gigawords") or 0)
    except ValueError:
        return 0
    return (high << 32) + low


def accounting(session: Session, attrs: dict[str, str],
               vlan_hint: Callable[[str, str], int | None] | None = None) -> Reply:
    """Start/Interim-Update/Stop (and Accounting-On/Off) into ``nac_sessions``.

    *vlan_hint* gives the VLAN of a decision not yet written (the batching writer's
    memory), since a NAS sends Start right after the Accept.
    """
    nas_ip, nas_port = _nas(attrs)
    try:
        session_time = int(attrs.get("Acct-Session-Time") or 0)
    except ValueError:
        session_time = 0
    mac = _mac(attrs.get("Calling-Station-Id")) or _mac(attrs.get("User-Name")) or ""
    tunnel = attrs.get("Tunnel-Private-Group-Id", "")
    vid = int(tunnel) if tunnel.isdigit() else (
        vlan_hint(mac, nas_ip) if vlan_hint is not None and mac else None)
    record_accounting(session, AcctRecord(
        status=attrs.get("Acct-Status-Type", ""), session_id=attrs.get("Acct-Session-Id", ""),
        mac=mac, username=attrs.get("User-Name", ""), nas_ip=nas_ip, nas_port=nas_port,
        input_octets=_octets(attrs, "Input"), output_octets=_octets(attrs, "Output"),
        session_time=session_time, terminate_cause=attrs.get("Acct-Terminate-Cause", ""),
        vid=vid))
    return 204, {}
