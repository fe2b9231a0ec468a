"""MAC parsing for the register and the RADIUS request attributes."""

from __future__ import annotations

import pytest

from nac.decide import attributes
from nac.errors import NacValidationError
from nac.register import parse_expiry, parse_mac, parse_role


@pytest.mark.parametrize("text", [
    "02:00:5e:00:53:01", "02-00-5E-00-53-01", "0200.5e00.5301", "02005E005301",
    " 02:00:5e:00:53:01 ", "02:00:5E:00:53:01",
])
def test_accepted_formats_normalise_to_colon_lower_case(text: str) -> None:
    assert parse_mac(text) == "02:00:5e:00:53:01"


@pytest.mark.parametrize(("text", "why"), [
    ("", "not a MAC"), ("zz:00:5e:00:53:01", "not a MAC"), ("02:00:5e:00:53", "not a MAC"),
    ("02:00:5e:00:53:01:02", "not a MAC"), ("192.0.2.1", "not a MAC"),
    ("ff:ff:ff:ff:ff:ff", "broadcast"), ("00:00:00:00:00:00", "null"),
    ("01:00:5e:00:00:01", "multicast"),
])
def test_bad_macs_are_refused_with_a_message(text: str, why: str) -> None:
    with pytest.raises(NacValidationError) as info:
        parse_mac(text)
    assert why in info.value.message
    assert "mac" in info.value.errors


def test_expiry_and_role_parsing() -> None:
    assert parse_expiry("2027-01-31").isoformat() == "2027-01-31T00:00:00+00:00"
    assert parse_expiry("2027-01-31T08:00:00+07:00").utcoffset().total_seconds() == 7 * 3600
    assert parse_expiry("") is None
    with pytest.raises(NacValidationError):
        parse_expiry("next tuesday")
    assert parse_role(" CCTV ") == "cctv"
    with pytest.raises(NacValidationError):
        parse_role("staff vlan!")


def test_rlm_rest_attributes_flatten_to_first_values() -> None:
    body = {"User-Name": {"type": "string", "value": ["02-00-5E-00-53-01"]},
            "NAS-Port": {"type": "integer", "value": [7]},
            "Tunnel-Type": {"type": "integer", "value": []}, "Plain": "x"}
    assert attributes(body) == {"User-Name": "02-00-5E-00-53-01", "NAS-Port": "7",
                                "Tunnel-Type": "", "Plain": "x"}
    assert attributes(None) == {} and attributes([1, 2]) == {}
