"""Pure address helpers: parsing, the sortable hex key, MAC normalisation.

Addresses are stored as text *plus* a 32-digit, zero-padded lower-case hex key of the
address integer (``ip_hex``, ``network_hex``, ``last_hex``). Fixed width makes string
order equal numeric order on every backend, so sorting and containment
(``network_hex <= ip_hex <= last_hex``) run in SQL with a plain index; IPv4 and IPv6
are kept apart by a ``family`` column (4 or 6). 32 hex digits hold 128 bits, which two
signed BigIntegers could only do with offset tricks.
"""

from __future__ import annotations

import re

import netaddr

HEX_WIDTH = 32

_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")


def to_hex(value: int) -> str:
    """Return the sortable key of an address integer."""
    return f"{value:0{HEX_WIDTH}x}"


def from_hex(key: str) -> int:
    """Return the address integer behind a sortable key."""
    return int(key, 16)


def parse_network(text: str) -> netaddr.IPNetwork:
    """Parse a prefix, returning it with host bits cleared.

    Raises:
        ValueError: not a prefix (the caller turns this into a field error).
    """
    if not isinstance(text, str) or "/" not in text:
        raise ValueError(f"{text!r} is not a prefix such as 192.0.2.0/24")
    try:
        net = netaddr.IPNetwork(text.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError(f"{text!r} is not a prefix such as 192.0.2.0/24") from None
    return net.cidr


def parse_interface_address(text: str) -> tuple[netaddr.IPAddress, int | None]:
    """Parse ``192.0.2.1/24`` or ``192.0.2.1`` into (address, mask length or None).

    Raises:
        ValueError: not an address.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("an address such as 192.0.2.1/24 is required")
    raw = text.strip()
    try:
        if "/" in raw:
            net = netaddr.IPNetwork(raw)
            return net.ip, net.prefixlen
        return netaddr.IPAddress(raw), None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError(f"{text!r} is not an IP address") from None


def network_bounds(net: netaddr.IPNetwork) -> tuple[str, str]:
    """Return the (first, last) hex keys of *net*."""
    return to_hex(net.first), to_hex(net.last)


def excluded_addresses(net: netaddr.IPNetwork, *, is_pool: bool) -> list[netaddr.IPAddress]:
    """Return the addresses of *net* that are never handed out (NetBox rules).

    IPv4: network and broadcast, except in /31, /32 and pools. IPv6: the subnet-router
    anycast address (the network address), except in /127, /128 and pools.
    """
    if is_pool:
        return []
    if net.version == 4:
        if net.prefixlen >= 31:
            return []
        return [netaddr.IPAddress(net.first, 4), netaddr.IPAddress(net.last, 4)]
    if net.prefixlen >= 127:
        return []
    return [netaddr.IPAddress(net.first, 6)]


def normalise_mac(text: str) -> str:
    """Return a MAC as ``aa:bb:cc:dd:ee:ff`` from colon, dash, dot or bare hex forms.

    Raises:
        ValueError: not 12 hex digits.
    """
    digits = re.sub(r"[\s:.\-]", "", text or "").lower()
    if not _MAC_HEX.match(digits):
        raise ValueError(f"{text!r} is not a MAC address")
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))
