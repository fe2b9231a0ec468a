"""Naming traps from their varbinds, the SIEM event shape, and reading v3 engine IDs."""

from __future__ import annotations

from datetime import UTC, datetime

from pyasn1.codec.ber import encoder
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from collectors.flows.trapevents import DeviceRef, ReceivedTrap, describe, siem_event
from collectors.flows.traps import v3_engine_id

LINK_DOWN = [("1.3.6.1.2.1.1.3.0", 12345), ("1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.6.3.1.1.5.3"),
             ("1.3.6.1.2.1.2.2.1.1.7", 7), ("1.3.6.1.2.1.2.2.1.7.7", 1),
             ("1.3.6.1.2.1.2.2.1.8.7", 2), ("1.3.6.1.2.1.2.2.1.2.7", "eth6")]
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_link_down_is_named_with_interface() -> None:
    info = describe(ReceivedTrap("192.0.2.1", "v2c", "", LINK_DOWN, AT))
    assert (info["name"], info["action"], info["severity"], info["outcome"]) == (
        "linkDown", "interface_down", 3, "failure")
    assert (info["if_index"], info["if_name"]) == (7, "eth6")


def test_interface_from_status_oid_when_ifindex_missing() -> None:
    vbs = [("1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.6.3.1.1.5.4"), ("1.3.6.1.2.1.2.2.1.8.12", 1)]
    info = describe(ReceivedTrap("192.0.2.1", "v3", "simpul", vbs, AT))
    assert (info["name"], info["if_index"]) == ("linkUp", 12)


def test_generic_and_enterprise_traps() -> None:
    names = {oid: describe(ReceivedTrap("192.0.2.1", "v2c", "", [
        ("1.3.6.1.6.3.1.1.4.1.0", oid)], AT))["name"] for oid in (
        "1.3.6.1.6.3.1.1.5.1", "1.3.6.1.6.3.1.1.5.2", "1.3.6.1.6.3.1.1.5.5",
        "1.3.6.1.4.1.9.9.41.2.0.1")}
    assert list(names.values()) == ["coldStart", "warmStart", "authenticationFailure",
                                    "1.3.6.1.4.1.9.9.41.2.0.1"]


def test_siem_event_is_network_category_with_observer() -> None:
    trap = ReceivedTrap("192.0.2.1", "v2c", "", LINK_DOWN, AT)
    info = describe(trap)
    device = DeviceRef(3, "core1", "core", "dc-diskominfo", 1)
    event = siem_event(trap, info, device, "DISKOMINFO", "linkDown on core1 ifIndex 7 (eth6)")
    assert event["event.category"] == ["network"]
    assert event["event.dataset"] == "snmp.trap" and event["event.action"] == "interface_down"
    assert (event["observer.name"], event["observer.ip"]) == ("core1", "192.0.2.1")
    assert event["observer.asset.opd"] == "DISKOMINFO"
    assert event["observer.ingress.interface.name"] == "eth6"
    again = siem_event(trap, info, device, "DISKOMINFO", "x")
    assert again["event.id"] == event["event.id"]  # stable for the same trap


def _v3_message(engine_id: bytes) -> bytes:
    params = UsmSecurityParameters()
    params["msgAuthoritativeEngineId"] = engine_id
    params["msgAuthoritativeEngineBoots"] = 1
    params["msgAuthoritativeEngineTime"] = 2
    params["msgUserName"] = b"simpul"
    params["msgAuthenticationParameters"] = b""
    params["msgPrivacyParameters"] = b""
    msg = SNMPv3Message()
    msg["msgVersion"] = 3
    glob = msg["msgGlobalData"]
    glob["msgID"] = 1
    glob["msgMaxSize"] = 65507
    glob["msgFlags"] = b"\x00"
    glob["msgSecurityModel"] = 3
    msg["msgSecurityParameters"] = encoder.encode(params)
    msg["msgData"]["encryptedPDU"] = b"\x00" * 8
    return encoder.encode(msg)


def test_v3_engine_id_is_read_from_the_header() -> None:
    eid = bytes.fromhex("80001f8880c2a1b2c3")
    assert v3_engine_id(_v3_message(eid)) == eid
    assert v3_engine_id(_v3_message(b"")) is None  # discovery message: nothing to learn
    assert v3_engine_id(b"\x30\x03\x02\x01\x01") is None  # v2c-looking
    assert v3_engine_id(b"garbage") is None
