"""Pure helpers: hex keys, parsing, excluded addresses, MACs, rack arithmetic."""

from __future__ import annotations

import netaddr
import pytest

from inventory.addressing import (
    excluded_addresses,
    from_hex,
    normalise_mac,
    parse_interface_address,
    parse_network,
    to_hex,
)
from inventory.dcim.elevation import best_fit, blocked_units, device_slots, free_runs


def test_hex_key_is_fixed_width_and_sorts_numerically() -> None:
    a = to_hex(int(netaddr.IPAddress("192.0.2.9")))
    b = to_hex(int(netaddr.IPAddress("192.0.2.10")))
    assert a == "000000000000000000000000c0000209"
    assert a < b
    v6 = to_hex(int(netaddr.IPAddress("2001:db8::1")))
    assert v6 == "20010db8000000000000000000000001"
    assert from_hex(v6) == int(netaddr.IPAddress("2001:db8::1"))


def test_parse_network_and_address() -> None:
    assert str(parse_network("198.51.100.7/24")) == "198.51.100.0/24"
    with pytest.raises(ValueError):
        parse_network("198.51.100.7")
    ip, mask = parse_interface_address("2001:db8::5/64")
    assert (str(ip), mask) == ("2001:db8::5", 64)
    assert parse_interface_address("192.0.2.1")[1] is None
    with pytest.raises(ValueError):
        parse_interface_address("192.0.2.300")


@pytest.mark.parametrize(("prefix", "pool", "expected"), [
    ("192.0.2.0/24", False, ["192.0.2.0", "192.0.2.255"]),
    ("192.0.2.0/31", False, []),
    ("192.0.2.1/32", False, []),
    ("192.0.2.0/24", True, []),
    ("2001:db8::/64", False, ["2001:db8::"]),
    ("2001:db8::/127", False, []),
])
def test_excluded_addresses(prefix: str, pool: bool, expected: list[str]) -> None:
    got = excluded_addresses(netaddr.IPNetwork(prefix), is_pool=pool)
    assert [str(a) for a in got] == expected


@pytest.mark.parametrize("text", ["AA:BB:CC:00:11:22", "aa-bb-cc-00-11-22", "aabb.cc00.1122",
                                  "AABBCC001122"])
def test_mac_formats_normalise(text: str) -> None:
    assert normalise_mac(text) == "aa:bb:cc:00:11:22"


def test_bad_mac() -> None:
    with pytest.raises(ValueError):
        normalise_mac("aa:bb:cc:00:11")


def test_device_slots_full_and_half_depth() -> None:
    assert device_slots(10, 2, "front", True) == {("front", 10), ("front", 11),
                                                  ("rear", 10), ("rear", 11)}
    assert device_slots(10, 2, "rear", False) == {("rear", 10), ("rear", 11)}


def test_free_runs_and_best_fit() -> None:
    blocked = {3, 4, 8}
    assert free_runs(10, blocked) == [(1, 2), (5, 3), (9, 2)]
    assert best_fit(10, blocked, 2) == (1, 2)   # smallest run that fits, lowest first
    assert best_fit(10, blocked, 3) == (5, 3)
    assert best_fit(10, blocked, 4) is None
    occupied = {("rear", 5), ("front", 7)}
    assert blocked_units(occupied, "front", False) == {7}
    assert blocked_units(occupied, "front", True) == {5, 7}
