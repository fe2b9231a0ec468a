"""IP addresses and IP ranges: create, update, delete, list, with the VRF rules.

Every address and range must lie inside a prefix of its own VRF; an address may not be
the network/broadcast (or IPv6 subnet-router anycast) address of the most specific
prefix holding it unless that prefix is a pool or a /31, /32, /127, /128; and in the
global table and ``enforce_unique`` VRFs an address exists once (also enforced by the
``uq_ipam_ipaddress_unique`` constraint, which catches racing transactions).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import netaddr
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.addressing import excluded_addresses, parse_interface_address, to_hex
from inventory.choices import IP_ROLES, IP_STATUS, RANGE_STATUS
from inventory.ipam.prefixes import enclosing_prefixes, vrf_label
from inventory.models import Interface, IpAddress, IpRange, Prefix, Vrf
from inventory.service import (
    LOCK_ADDRESSES,
    FieldErrors,
    apply,
    audit,
    check_choice,
    check_ref,
    check_text,
    create_object,
    lock,
    merge,
    require,
    snapshot,
)
from simpul.audit import Actor
from simpul.models import Opd

_IP_FIELDS = frozenset({"address", "vrf_id", "status", "role", "dns_name", "interface_id",
                        "opd_id", "description", "expires_at"})
_RANGE_FIELDS = frozenset({"start_address", "end_address", "vrf_id", "status", "role",
                           "opd_id", "description"})


def _check_expiry(errs: FieldErrors, value: Any) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        errs.add("expires_at", "must be a timezone-aware time")


def enforces_unique(session: Session, vrf_id: int | None) -> bool:
    """Return whether addresses must be unique in this VRF (always in the global table)."""
    if vrf_id is None:
        return True
    vrf = session.get(Vrf, vrf_id)
    return bool(vrf is None or vrf.enforce_unique)


def _resolve_address(session: Session, errs: FieldErrors, text: Any, vrf_id: int | None,
                     current_id: int | None) -> dict[str, Any] | None:
    """Check an address against its VRF and return its stored columns."""
    try:
        ip, mask = parse_interface_address(text)
    except ValueError as exc:
        errs.add("address", str(exc))
        return None
    vrf_key = vrf_id or 0
    key = to_hex(int(ip))
    label = vrf_label(vrf_key, session)
    holders = enclosing_prefixes(session, vrf_key, ip.version, key, key)
    if not holders:
        errs.add("address", f"{ip} is not inside any prefix of VRF {label}")
        return None
    home = holders[0]
    net = netaddr.IPNetwork(home.prefix)
    if ip in excluded_addresses(net, is_pool=home.is_pool):
        kind = "broadcast" if ip.version == 4 and int(ip) == net.last else "network"
        errs.add("address", f"{ip} is the {kind} address of {home.prefix}")
    if enforces_unique(session, vrf_id):
        stmt = select(IpAddress.id).where(IpAddress.vrf_key == vrf_key,
                                          IpAddress.family == ip.version,
                                          IpAddress.ip_hex == key).limit(1)
        if current_id is not None:
            stmt = stmt.where(IpAddress.id != current_id)
        if session.scalar(stmt) is not None:
            errs.add("address", f"{ip} already exists in VRF {label}")
    length = mask if mask is not None else home.prefix_length
    return {"address": f"{ip}/{length}", "family": ip.version, "ip_hex": key}


def check_ip_fields(session: Session, errs: FieldErrors, values: dict[str, Any]) -> None:
    """Record errors in an address's own fields (all but address and VRF).

    Shared by ``validate_ip`` and next-free allocation, which places the address itself
    and so needs only these.
    """
    check_choice(errs, "status", values["status"], IP_STATUS)
    check_choice(errs, "role", values["role"], IP_ROLES)
    check_text(errs, "dns_name", values["dns_name"], 255, required=False)
    check_ref(session, errs, Interface, "interface_id", values["interface_id"])
    check_ref(session, errs, Opd, "opd_id", values["opd_id"])
    _check_expiry(errs, values["expires_at"])


def validate_ip(session: Session, values: dict[str, Any],
                current: IpAddress | None) -> dict[str, Any]:
    """Validate an address's fields; return the derived columns (address, hex key...)."""
    errs = FieldErrors()
    vrf_ok = check_ref(session, errs, Vrf, "vrf_id", values["vrf_id"]) is not None \
        or values["vrf_id"] is None
    check_ip_fields(session, errs, values)
    cols = None
    if vrf_ok:
        cols = _resolve_address(session, errs, values["address"], values["vrf_id"],
                                current.id if current else None)
    errs.raise_if_any()
    assert cols is not None
    vrf_id = values["vrf_id"]
    cols.update(vrf_key=vrf_id or 0,
                unique_key=(vrf_id or 0) if enforces_unique(session, vrf_id) else None)
    return cols


def create_ip_address(session: Session, actor: Actor, *, address: str,
                      vrf_id: int | None = None, status: str = "active", role: str = "",
                      dns_name: str = "", interface_id: int | None = None,
                      opd_id: int | None = None, description: str = "",
                      expires_at: datetime | None = None) -> IpAddress:
    """Create an address; without a mask it takes the most specific prefix's length."""
    values = {"address": address, "vrf_id": vrf_id, "status": status, "role": role,
              "dns_name": dns_name, "interface_id": interface_id, "opd_id": opd_id,
              "description": description, "expires_at": expires_at}
    lock(session, LOCK_ADDRESSES, vrf_id or 0)
    return create_object(session, actor, IpAddress, values, validate_ip)


def update_ip_address(session: Session, actor: Actor, ip_id: int, **changes: Any) -> IpAddress:
    """Change an address (moving it re-checks prefix containment and uniqueness)."""
    ip = require(session, IpAddress, ip_id)
    values = merge(ip, changes, _IP_FIELDS)
    lock(session, LOCK_ADDRESSES, values["vrf_id"] or 0)
    cols = validate_ip(session, values, ip)
    if "address" not in changes:
        cols["address"] = ip.address  # keep the stored mask
    before = snapshot(ip)
    apply(ip, {**values, **cols})
    audit(session, actor, "update", ip, before=before)
    return ip


def delete_ip_address(session: Session, actor: Actor, ip_id: int) -> None:
    """Delete an address (devices using it as primary IP lose that reference)."""
    ip = require(session, IpAddress, ip_id)
    audit(session, actor, "delete", ip, before=snapshot(ip), deleted=True)
    session.delete(ip)


def get_ip_address(session: Session, ip_id: int) -> IpAddress | None:
    """Return the address with this id, or None."""
    return session.get(IpAddress, ip_id)


def find_ip_address(session: Session, address: str, vrf_id: int | None = None) -> IpAddress | None:
    """Return the first stored address equal to *address* (mask ignored) in a VRF."""
    ip, _mask = parse_interface_address(address)
    return session.scalar(select(IpAddress).where(
        IpAddress.vrf_key == (vrf_id or 0), IpAddress.family == ip.version,
        IpAddress.ip_hex == to_hex(int(ip))).order_by(IpAddress.id).limit(1))


def list_ip_addresses(session: Session, *, vrf_id: int | None = None,
                      parent: Prefix | None = None, status: str | None = None,
                      opd_id: int | None = None, limit: int | None = None,
                      offset: int = 0) -> Sequence[IpAddress]:
    """Return addresses in numeric order, optionally inside one prefix (paginated)."""
    stmt = select(IpAddress).order_by(IpAddress.vrf_key, IpAddress.family, IpAddress.ip_hex,
                                      IpAddress.id)
    if parent is not None:
        stmt = stmt.where(IpAddress.vrf_key == parent.vrf_key,
                          IpAddress.family == parent.family,
                          IpAddress.ip_hex.between(parent.network_hex, parent.last_hex))
    elif vrf_id is not None:
        stmt = stmt.where(IpAddress.vrf_key == vrf_id)
    if status is not None:
        stmt = stmt.where(IpAddress.status == status)
    if opd_id is not None:
        stmt = stmt.where(IpAddress.opd_id == opd_id)
    return session.scalars(stmt.offset(offset).limit(limit)).all()


# --- IP ranges ---------------------------------------------------------------------------

def _validate_range(session: Session, v: dict[str, Any],
                    current: IpRange | None) -> dict[str, Any]:
    errs = FieldErrors()
    check_choice(errs, "status", v["status"], RANGE_STATUS)
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    vrf_bad = v["vrf_id"] is not None and check_ref(session, errs, Vrf, "vrf_id",
                                                    v["vrf_id"]) is None
    ends: list[tuple[netaddr.IPAddress, int | None]] = []
    for field in ("start_address", "end_address"):
        try:
            ends.append(parse_interface_address(v[field]))
        except ValueError as exc:
            errs.add(field, str(exc))
    errs.raise_if_any()
    (start, smask), (end, emask) = ends
    if start.version != end.version:
        errs.add("end_address", "must be the same IP version as start_address")
    elif end < start:
        errs.add("end_address", f"{end} is below {start}")
    errs.raise_if_any()
    vrf_key = v["vrf_id"] or 0
    first, last = to_hex(int(start)), to_hex(int(end))
    holders = [] if vrf_bad else enclosing_prefixes(session, vrf_key, start.version, first,
                                                    last)
    if not holders:
        errs.add("start_address", f"{start}-{end} is not inside one prefix of VRF "
                                  f"{vrf_label(vrf_key, session)}")
    stmt = select(IpRange).where(IpRange.vrf_key == vrf_key, IpRange.family == start.version,
                                 IpRange.start_hex <= last, IpRange.end_hex >= first).limit(1)
    if current is not None:
        stmt = stmt.where(IpRange.id != current.id)
    clash = session.scalar(stmt)
    if clash is not None:
        errs.add("start_address", f"overlaps range {clash}")
    errs.raise_if_any()
    length = holders[0].prefix_length
    return {"start_address": f"{start}/{smask or length}",
            "end_address": f"{end}/{emask or length}", "family": start.version,
            "start_hex": first, "end_hex": last, "vrf_key": vrf_key}


def create_ip_range(session: Session, actor: Actor, *, start_address: str, end_address: str,
                    vrf_id: int | None = None, status: str = "active", role: str = "",
                    opd_id: int | None = None, description: str = "") -> IpRange:
    """Create a range (e.g. a DHCP pool) inside one prefix; ranges may not overlap."""
    values = {"start_address": start_address, "end_address": end_address, "vrf_id": vrf_id,
              "status": status, "role": role, "opd_id": opd_id, "description": description}
    lock(session, LOCK_ADDRESSES, vrf_id or 0)
    return create_object(session, actor, IpRange, values, _validate_range)


def update_ip_range(session: Session, actor: Actor, range_id: int, **changes: Any) -> IpRange:
    """Change a range; bounds are re-checked."""
    rng = require(session, IpRange, range_id)
    values = merge(rng, changes, _RANGE_FIELDS)
    lock(session, LOCK_ADDRESSES, values["vrf_id"] or 0)
    cols = _validate_range(session, values, rng)
    before = snapshot(rng)
    apply(rng, {**values, **cols})
    audit(session, actor, "update", rng, before=before)
    return rng


def delete_ip_range(session: Session, actor: Actor, range_id: int) -> None:
    """Delete a range (its addresses become allocatable)."""
    rng = require(session, IpRange, range_id)
    audit(session, actor, "delete", rng, before=snapshot(rng), deleted=True)
    session.delete(rng)


def list_ip_ranges(session: Session, *, vrf_id: int | None = None) -> Sequence[IpRange]:
    """Return ranges in address order."""
    stmt = select(IpRange).order_by(IpRange.vrf_key, IpRange.family, IpRange.start_hex)
    if vrf_id is not None:
        stmt = stmt.where(IpRange.vrf_key == vrf_id)
    return session.scalars(stmt).all()
