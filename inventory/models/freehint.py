"""Keeping ``Prefix.free_hint_hex`` a true lower bound of a prefix's free addresses.

Next-free-IP starts its walk at the hint instead of the network address, so a /16 with
60,000 used addresses answers from the frontier in one short indexed read instead of
reading all 60,000 (see ``inventory.ipam.allocation``). The hint may only ever be too
low, never too high. Adding an address or a range only uses space, so it can never make
a hint wrong; what frees space lowers the hint here, in the same flush, whatever code
path did it (API, CLI, import, expiry job):

* an address deleted, or moved (new address, VRF or family): hints above its old
  position drop to it;
* a range deleted or changed: hints above its old start drop to it;
* a prefix whose bounds, status, pool flag or VRF change: its hint is forgotten.

Listening on ``before_flush`` of every ORM session covers every ``session.delete`` and
attribute change; nothing in the inventory deletes addresses with bulk SQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session, attributes

from inventory.models.ipam import IpAddress, IpRange, Prefix

_PREFIX_BOUNDS = ("prefix", "network_hex", "last_hex", "prefix_length", "status", "is_pool",
                  "vrf_key", "family")


def _old(obj: Any, name: str) -> Any:
    """The value *name* had when loaded (its current one if unchanged)."""
    history = attributes.get_history(obj, name)
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, name)


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


def freed_points(session: Session) -> set[tuple[int, int, str]]:
    """(vrf_key, family, hex) of every position this flush frees."""
    points: set[tuple[int, int, str]] = set()
    for obj in session.deleted:
        if isinstance(obj, IpAddress):
            points.add((_old(obj, "vrf_key"), _old(obj, "family"), _old(obj, "ip_hex")))
        elif isinstance(obj, IpRange):
            points.add((_old(obj, "vrf_key"), _old(obj, "family"), _old(obj, "start_hex")))
    for obj in session.dirty:
        if isinstance(obj, IpAddress) and _changed(obj, ("ip_hex", "vrf_key", "family")):
            points.add((_old(obj, "vrf_key"), _old(obj, "family"), _old(obj, "ip_hex")))
        elif isinstance(obj, IpRange) and _changed(obj, ("start_hex", "end_hex", "vrf_key",
                                                         "family")):
            points.add((_old(obj, "vrf_key"), _old(obj, "family"), _old(obj, "start_hex")))
    return {p for p in points if None not in p}


def lower_hints(session: Session, vrf_key: int, family: int, hex_key: str) -> None:
    """Drop every hint above *hex_key* of the prefixes holding it (in SQL and in memory)."""
    session.execute(
        update(Prefix).where(Prefix.vrf_key == vrf_key, Prefix.family == family,
                             Prefix.network_hex <= hex_key, Prefix.last_hex >= hex_key,
                             Prefix.free_hint_hex > hex_key)
        .values(free_hint_hex=hex_key).execution_options(synchronize_session=False))
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Prefix) and obj.vrf_key == vrf_key and obj.family == family
                and obj.network_hex <= hex_key <= obj.last_hex
                and obj.free_hint_hex is not None and obj.free_hint_hex > hex_key):
            attributes.set_committed_value(obj, "free_hint_hex", hex_key)


@event.listens_for(Session, "before_flush")
def _keep_hints_low(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Prefix) and obj not in session.deleted and _changed(
                obj, _PREFIX_BOUNDS):
            obj.free_hint_hex = None
    for vrf_key, family, hex_key in freed_points(session):
        lower_hints(session, vrf_key, family, hex_key)
