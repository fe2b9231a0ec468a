"""The pure NAC decision: every device status and expiry against both site policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nac.policy import (
    Decision,
    DeviceFacts,
    SitePolicy,
    UserFacts,
    decide_device,
    decide_user,
    reply_attributes,
)
from nac.policydata import PolicyData

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
PAST = NOW - timedelta(days=1)
FUTURE = NOW + timedelta(days=30)
REJECT = SitePolicy("reject")
QUARANTINE = SitePolicy("quarantine", 999)
MAC = "02:00:5e:00:53:01"


def dev(status: str, expires: datetime | None = None, vid: int | None = 110,
        method: str = "mab") -> DeviceFacts:
    return DeviceFacts(MAC, status, expires, "DINKES", "staff", vid, method)


@pytest.mark.parametrize(("device", "site", "expected"), [
    (dev("active"), REJECT, ("accept", 110)),
    (dev("active"), QUARANTINE, ("accept", 110)),
    (dev("active", FUTURE), REJECT, ("accept", 110)),
    (dev("active", PAST), REJECT, ("reject", None)),
    (dev("active", PAST), QUARANTINE, ("reject", None)),
    (dev("active", vid=None), REJECT, ("reject", None)),
    (dev("active", method="dot1x"), QUARANTINE, ("reject", None)),
    (dev("pending"), REJECT, ("reject", None)),
    (dev("pending"), QUARANTINE, ("quarantine", 999)),
    (dev("expired"), REJECT, ("reject", None)),
    (dev("expired"), QUARANTINE, ("reject", None)),
    (dev("blocked"), REJECT, ("reject", None)),
    (dev("blocked"), QUARANTINE, ("reject", None)),
    (dev("blocked", FUTURE), QUARANTINE, ("reject", None)),
    (None, REJECT, ("reject", None)),
    (None, QUARANTINE, ("quarantine", 999)),
    (None, SitePolicy("quarantine", None), ("reject", None)),
    (dev("weird"), QUARANTINE, ("reject", None)),
])
def test_device_decisions(device: DeviceFacts | None, site: SitePolicy,
                          expected: tuple[str, int | None]) -> None:
    decision = decide_device(device, site, NOW)
    assert (decision.result, decision.vid) == expected
    assert decision.reason


def test_naive_expiry_from_sqlite_is_utc() -> None:
    naive_past = (NOW - timedelta(minutes=1)).replace(tzinfo=None)
    assert decide_device(dev("active", naive_past), REJECT, NOW).result == "reject"


@pytest.mark.parametrize(("user", "device", "expected"), [
    (UserFacts("rina", True, "DINKES", 110), None, ("accept", 110)),
    (UserFacts("rina", True, "DINKES", 110), dev("active"), ("accept", 110)),
    (UserFacts("rina", True, "DINKES", 110), dev("blocked"), ("reject", None)),
    (UserFacts("rina", True, "DINKES", 110), dev("active", PAST), ("reject", None)),
    (UserFacts("rina", False, "DINKES", 110), None, ("reject", None)),
    (UserFacts("rina", True, "DINKES", None), None, ("reject", None)),
    (None, None, ("reject", None)),
])
def test_user_decisions(user: UserFacts | None, device: DeviceFacts | None,
                        expected: tuple[str, int | None]) -> None:
    decision = decide_user(user, device, NOW)
    assert (decision.result, decision.vid) == expected


def test_reply_attributes_are_rfc3580_vlan_or_a_message() -> None:
    assert reply_attributes(Decision("accept", "ok", 110)) == {
        "reply:Tunnel-Type": "VLAN", "reply:Tunnel-Medium-Type": "IEEE-802",
        "reply:Tunnel-Private-Group-Id": "110"}
    assert reply_attributes(Decision("quarantine", "q", 999))[
        "reply:Tunnel-Private-Group-Id"] == "999"
    assert reply_attributes(Decision("reject", "device is blocked")) == {
        "reply:Reply-Message": "device is blocked"}


def test_vlan_map_prefers_site_then_inventory_then_policy_table() -> None:
    data = PolicyData(
        inventory_vlans={(1, "staff"): [(7, 310), (None, 210)], (1, "cctv"): [(8, 410)]},
        policy_vlans={(1, "printer"): 120, (0, "printer"): 121, (0, "staff"): 100},
        site_policies={0: REJECT, 7: QUARANTINE}, nas_sites={"192.0.2.1": 7})
    assert data.vlan_for(1, "staff", 7) == 310
    assert data.vlan_for(1, "staff", 9) == 210
    assert data.vlan_for(1, "cctv", 9) == 410
    assert data.vlan_for(1, "printer", None) == 120
    assert data.vlan_for(2, "printer", None) == 121
    assert data.vlan_for(2, "staff", None) == 100
    assert data.vlan_for(2, "voice", None) is None
    assert data.vlan_for(None, "staff", None) is None
    assert data.site_policy(7) == QUARANTINE
    assert data.site_policy(9) == REJECT
    assert PolicyData().site_policy(None) == SitePolicy("reject")
