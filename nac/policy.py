"""The NAC decision, as pure functions: facts in, Accept-with-VLAN or Reject out.

Nothing here touches the database or the network, so every combination of device
status, expiry and site policy is tested table-driven (``tests/unit/nac``) and the
RADIUS endpoints only gather facts and format the answer. The rules fail closed: any
fact that is missing (no VLAN for an OPD and role, an inactive user) is a reject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# RFC 3580 §3.31: Tunnel-Type VLAN (13), Tunnel-Medium-Type IEEE-802 (6).
TUNNEL_TYPE_VLAN = "VLAN"
TUNNEL_MEDIUM_802 = "IEEE-802"


@dataclass(frozen=True)
class DeviceFacts:
    """What the register says about one MAC, with the VLAN its OPD and role map to."""

    mac: str
    status: str
    expires_at: datetime | None = None
    opd_code: str = ""
    role: str = ""
    vid: int | None = None
    auth_method: str = "mab"


@dataclass(frozen=True)
class UserFacts:
    """An authenticated 802.1X user: active flag, OPD and the VLAN of its OPD."""

    username: str
    active: bool
    opd_code: str = ""
    vid: int | None = None


@dataclass(frozen=True)
class SitePolicy:
    """What the NAS's site does with MACs it does not know (or not yet approved)."""

    unknown_action: str = "reject"
    quarantine_vid: int | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome: ``accept``, ``quarantine`` (accept into the quarantine VLAN) or ``reject``."""

    result: str
    reason: str
    vid: int | None = None

    @property
    def accepted(self) -> bool:
        """True when the port opens (into ``vid``)."""
        return self.result in ("accept", "quarantine")


def _expired(expires_at: datetime | None, now: datetime) -> bool:
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:  # SQLite hands back naive UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at <= now


def _unknown(site: SitePolicy, reason: str) -> Decision:
    if site.unknown_action == "quarantine" and site.quarantine_vid:
        return Decision("quarantine", f"{reason}: quarantine VLAN", site.quarantine_vid)
    return Decision("reject", reason)


def decide_device(device: DeviceFacts | None, site: SitePolicy, now: datetime) -> Decision:
    """Decide a MAB request for *device* (None: the MAC is not in the register).

    Unknown and pending MACs get the site's unknown-device treatment (reject, or the
    quarantine/registration VLAN); blocked and expired ones are always rejected; an
    active one gets its OPD+role VLAN, and is rejected if there is none.
    """
    if device is None:
        return _unknown(site, "unregistered MAC")
    if device.status == "blocked":
        return Decision("reject", "device is blocked")
    if device.status == "expired" or _expired(device.expires_at, now):
        return Decision("reject", "registration expired")
    if device.status == "pending":
        return _unknown(site, "registration pending approval")
    if device.status != "active":
        return Decision("reject", f"unknown register status {device.status!r}")
    if device.auth_method != "mab":
        # A MAC registered for 802.1X must not get in by MAB: that would let anyone who
        # copies a laptop's MAC skip the login.
        return Decision("reject", "registered for 802.1X, MAB refused")
    if device.vid is None:
        return Decision("reject", f"no VLAN for OPD {device.opd_code} role {device.role}")
    return Decision("accept", f"registered {device.role} of {device.opd_code}", device.vid)


def decide_user(user: UserFacts | None, device: DeviceFacts | None, now: datetime) -> Decision:
    """Decide an authenticated 802.1X user on the device it connects from.

    A user's login does not launder a device the register blocks: a blocked or expired
    MAC is rejected whoever signs in on it.
    """
    if user is None or not user.active:
        return Decision("reject", "unknown or inactive user")
    if device is not None and device.status == "blocked":
        return Decision("reject", "device is blocked")
    if device is not None and (device.status == "expired" or _expired(device.expires_at, now)):
        return Decision("reject", "registration expired")
    if user.vid is None:
        return Decision("reject", f"no VLAN for OPD {user.opd_code} role staff")
    return Decision("accept", f"user {user.username} of {user.opd_code}", user.vid)


def reply_attributes(decision: Decision) -> dict[str, Any]:
    """Return the reply attributes in rlm_rest's JSON format (list-qualified names)."""
    if not decision.accepted:
        return {"reply:Reply-Message": decision.reason}
    return {
        "reply:Tunnel-Type": TUNNEL_TYPE_VLAN,
        "reply:Tunnel-Medium-Type": TUNNEL_MEDIUM_802,
        "reply:Tunnel-Private-Group-Id": str(decision.vid),
    }
