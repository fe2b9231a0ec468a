"""Prefixes: create, update, delete, list, and the hierarchy rule.

The rule (NetBox's hierarchy, made strict so every address has one home):

* A prefix appears at most once per VRF (``vrf_key``; 0 is the global table).
* Only a **container** may hold other prefixes. A non-container prefix (active,
  reserved, deprecated) may neither lie inside a non-container prefix nor contain any
  prefix. So two non-container prefixes of one VRF never overlap, containers nest
  freely, and a non-container prefix is a leaf that holds addresses and ranges.
* Prefixes of different VRFs never conflict.

``prefix`` and ``vrf_id`` are fixed after creation (delete and recreate to move one), so
an update can never strand the addresses inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import netaddr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.addressing import parse_network, to_hex
from inventory.choices import PREFIX_STATUS
from inventory.errors import InUseError
from inventory.models import IpAddress, IpRange, Prefix, Site, Vlan, Vrf
from inventory.service import (
    LOCK_PREFIXES,
    FieldErrors,
    apply,
    audit,
    check_choice,
    check_ref,
    lock,
    merge,
    require,
    snapshot,
)
from simpul.audit import Actor
from simpul.models import Opd

_UPDATABLE = frozenset({"status", "role", "is_pool", "opd_id", "vlan_id", "site_id",
                        "description", "expires_at"})


def vrf_label(vrf_key: int, session: Session) -> str:
    """Return a VRF's name for messages ('global' for the global table)."""
    if not vrf_key:
        return "global"
    vrf = session.get(Vrf, vrf_key)
    return vrf.name if vrf else f"VRF {vrf_key}"


def prefix_columns(net: netaddr.IPNetwork) -> dict[str, Any]:
    """Return the stored columns describing *net*."""
    return {"prefix": str(net), "family": net.version, "prefix_length": net.prefixlen,
            "network_hex": to_hex(net.first), "last_hex": to_hex(net.last)}


def enclosing_prefixes(session: Session, vrf_key: int, family: int, first_hex: str,
                       last_hex: str) -> Sequence[Prefix]:
    """Return the prefixes of a VRF covering the span, most specific first."""
    return session.scalars(
        select(Prefix).where(Prefix.vrf_key == vrf_key, Prefix.family == family,
                             Prefix.network_hex <= first_hex, Prefix.last_hex >= last_hex)
        .order_by(Prefix.prefix_length.desc())).all()


def child_prefixes_query(prefix: Prefix) -> Any:
    """Return a SELECT of the prefixes strictly inside *prefix* (same VRF)."""
    return select(Prefix).where(
        Prefix.vrf_key == prefix.vrf_key, Prefix.family == prefix.family,
        Prefix.network_hex >= prefix.network_hex, Prefix.last_hex <= prefix.last_hex,
        Prefix.id != prefix.id)


def _check_hierarchy(session: Session, errs: FieldErrors, cols: dict[str, Any],
                     vrf_key: int, status: str, exclude_id: int | None) -> None:
    label = vrf_label(vrf_key, session)
    for other in enclosing_prefixes(session, vrf_key, cols["family"], cols["network_hex"],
                                    cols["last_hex"]):
        if other.id == exclude_id:
            continue
        if other.prefix_length == cols["prefix_length"]:
            errs.add("prefix", f"{other.prefix} already exists in VRF {label}")
        elif other.status != "container":
            errs.add("prefix", f"lies inside {other.prefix} ({other.status}); only a "
                               "container may hold other prefixes")
    if status != "container":
        stmt = select(Prefix.prefix).where(
            Prefix.vrf_key == vrf_key, Prefix.family == cols["family"],
            Prefix.network_hex >= cols["network_hex"], Prefix.last_hex <= cols["last_hex"],
            Prefix.prefix_length > cols["prefix_length"]).order_by(Prefix.network_hex).limit(1)
        if exclude_id is not None:
            stmt = stmt.where(Prefix.id != exclude_id)
        inner = session.scalar(stmt)
        if inner is not None:
            errs.add("status", f"contains {inner}; a prefix holding other prefixes must "
                               "be a container")


def _check_common(session: Session, errs: FieldErrors, v: dict[str, Any]) -> None:
    check_choice(errs, "status", v["status"], PREFIX_STATUS)
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    check_ref(session, errs, Vlan, "vlan_id", v["vlan_id"])
    check_ref(session, errs, Site, "site_id", v["site_id"])
    if not isinstance(v["is_pool"], bool):
        errs.add("is_pool", "must be true or false")
    expires = v["expires_at"]
    if expires is not None and (not isinstance(expires, datetime) or expires.tzinfo is None):
        errs.add("expires_at", "must be a timezone-aware time")


def insert_prefix(session: Session, actor: Actor, net: netaddr.IPNetwork, vrf_id: int | None,
                  values: dict[str, Any]) -> Prefix:
    """Validate and add a prefix; the caller holds the VRF's prefix lock."""
    errs = FieldErrors()
    cols = prefix_columns(net)
    _check_common(session, errs, values)
    if not errs:
        _check_hierarchy(session, errs, cols, vrf_id or 0, values["status"], None)
    errs.raise_if_any()
    prefix = Prefix(vrf_id=vrf_id, vrf_key=vrf_id or 0, **cols, **values)
    session.add(prefix)
    audit(session, actor, "create", prefix)
    return prefix


def create_prefix(session: Session, actor: Actor, *, prefix: str, vrf_id: int | None = None,
                  status: str = "active", role: str = "", is_pool: bool = False,
                  opd_id: int | None = None, vlan_id: int | None = None,
                  site_id: int | None = None, description: str = "",
                  expires_at: datetime | None = None) -> Prefix:
    """Create a prefix (host bits are refused, not silently cleared).

    Raises:
        InventoryValidationError: bad prefix, unknown references, or the hierarchy rule
            (see the module docstring), keyed by field.
    """
    errs = FieldErrors()
    net = None
    try:
        net = parse_network(prefix)
        if str(net) != str(netaddr.IPNetwork(prefix.strip())):
            errs.add("prefix", f"{prefix} has host bits set; did you mean {net}?")
    except ValueError as exc:
        errs.add("prefix", str(exc))
    check_ref(session, errs, Vrf, "vrf_id", vrf_id)
    errs.raise_if_any()
    assert net is not None
    lock(session, LOCK_PREFIXES, vrf_id or 0)
    values = {"status": status, "role": role, "is_pool": is_pool, "opd_id": opd_id,
              "vlan_id": vlan_id, "site_id": site_id, "description": description,
              "expires_at": expires_at}
    return insert_prefix(session, actor, net, vrf_id, values)


def update_prefix(session: Session, actor: Actor, prefix_id: int, **changes: Any) -> Prefix:
    """Change a prefix's status, role, pool flag, tenancy, VLAN, site or expiry."""
    prefix = require(session, Prefix, prefix_id)
    values = merge(prefix, changes, _UPDATABLE)
    lock(session, LOCK_PREFIXES, prefix.vrf_key)
    errs = FieldErrors()
    _check_common(session, errs, values)
    if not errs and values["status"] != prefix.status:
        cols = {k: getattr(prefix, k) for k in ("family", "prefix_length", "network_hex",
                                                "last_hex")}
        _check_hierarchy(session, errs, cols, prefix.vrf_key, values["status"], prefix.id)
    errs.raise_if_any()
    before = snapshot(prefix)
    apply(prefix, values)
    audit(session, actor, "update", prefix, before=before)
    return prefix


def delete_prefix(session: Session, actor: Actor, prefix_id: int) -> None:
    """Delete a prefix unless that would leave addresses or ranges outside every prefix.

    Child prefixes of a deleted container stay (they now sit in the next container up).

    Raises:
        InUseError: the prefix holds addresses or ranges and no container encloses it.
    """
    prefix = require(session, Prefix, prefix_id)
    lock(session, LOCK_PREFIXES, prefix.vrf_key)
    parents = [p for p in enclosing_prefixes(session, prefix.vrf_key, prefix.family,
                                             prefix.network_hex, prefix.last_hex)
               if p.id != prefix.id]
    if not parents:
        n_ips = session.scalar(select(func.count()).select_from(IpAddress).where(
            IpAddress.vrf_key == prefix.vrf_key, IpAddress.family == prefix.family,
            IpAddress.ip_hex.between(prefix.network_hex, prefix.last_hex)))
        n_ranges = session.scalar(select(func.count()).select_from(IpRange).where(
            IpRange.vrf_key == prefix.vrf_key, IpRange.family == prefix.family,
            IpRange.start_hex >= prefix.network_hex, IpRange.end_hex <= prefix.last_hex))
        if n_ips or n_ranges:
            raise InUseError(f"{prefix.prefix} still holds {n_ips} addresses and {n_ranges} "
                             "ranges; delete them first")
    audit(session, actor, "delete", prefix, before=snapshot(prefix), deleted=True)
    session.delete(prefix)


def get_prefix(session: Session, prefix_id: int) -> Prefix | None:
    """Return the prefix with this id, or None."""
    return session.get(Prefix, prefix_id)


def list_prefixes(session: Session, *, vrf_id: int | None = None, family: int | None = None,
                  within: str | None = None, status: str | None = None,
                  opd_id: int | None = None, limit: int | None = None,
                  offset: int = 0) -> Sequence[Prefix]:
    """Return prefixes in address order (VRF, family, network, shorter first).

    ``within`` keeps those strictly inside a prefix, as NetBox's ``?within=`` filter.
    """
    stmt = select(Prefix).order_by(Prefix.vrf_key, Prefix.family, Prefix.network_hex,
                                   Prefix.prefix_length)
    if vrf_id is not None:
        stmt = stmt.where(Prefix.vrf_key == vrf_id)
    if family is not None:
        stmt = stmt.where(Prefix.family == family)
    if within is not None:
        net = parse_network(within)
        stmt = stmt.where(Prefix.family == net.version,
                          Prefix.network_hex >= to_hex(net.first),
                          Prefix.last_hex <= to_hex(net.last),
                          Prefix.prefix_length > net.prefixlen)
    if status is not None:
        stmt = stmt.where(Prefix.status == status)
    if opd_id is not None:
        stmt = stmt.where(Prefix.opd_id == opd_id)
    return session.scalars(stmt.offset(offset).limit(limit)).all()
