"""VRFs, VLAN groups and VLANs: create, update, delete, list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from inventory.choices import VID_MAX, VID_MIN, VLAN_STATUS
from inventory.errors import InUseError
from inventory.models import IpAddress, IpRange, Prefix, Site, Vlan, VlanGroup, Vrf
from inventory.service import (
    FieldErrors,
    apply,
    audit,
    check_choice,
    check_ref,
    check_text,
    check_unique,
    create_object,
    merge,
    require,
    snapshot,
    update_object,
)
from simpul.audit import Actor
from simpul.models import Opd

# --- VRFs ------------------------------------------------------------------------------

_VRF_FIELDS = frozenset({"name", "rd", "enforce_unique", "opd_id", "description"})


def get_vrf(session: Session, vrf_id: int) -> Vrf | None:
    """Return the VRF with this id, or None."""
    return session.get(Vrf, vrf_id)


def list_vrfs(session: Session) -> Sequence[Vrf]:
    """Return every VRF by name."""
    return session.scalars(select(Vrf).order_by(Vrf.name)).all()


def _validate_vrf(session: Session, v: dict[str, Any], current: Vrf | None) -> None:
    errs = FieldErrors()
    exclude = current.id if current else None
    check_text(errs, "name", v["name"], 100)
    if not errs:
        check_unique(session, errs, Vrf, "name", {"name": v["name"]}, exclude_id=exclude)
    if v["rd"] is not None:
        check_text(errs, "rd", v["rd"], 21)
        check_unique(session, errs, Vrf, "rd", {"rd": v["rd"]}, exclude_id=exclude)
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    if current is not None and v["enforce_unique"] and not current.enforce_unique:
        dup = session.scalar(
            select(func.min(IpAddress.address)).where(IpAddress.vrf_key == current.id)
            .group_by(IpAddress.family, IpAddress.ip_hex).having(func.count() > 1).limit(1))
        if dup is not None:
            errs.add("enforce_unique", f"the VRF already holds duplicate addresses ({dup})")
    errs.raise_if_any()


def create_vrf(session: Session, actor: Actor, *, name: str, rd: str | None = None,
               enforce_unique: bool = True, opd_id: int | None = None,
               description: str = "") -> Vrf:
    """Create a VRF (a separate routing table; addresses may repeat across VRFs)."""
    values = {"name": name, "rd": rd, "enforce_unique": enforce_unique, "opd_id": opd_id,
              "description": description}
    return create_object(session, actor, Vrf, values, _validate_vrf)


def update_vrf(session: Session, actor: Actor, vrf_id: int, **changes: Any) -> Vrf:
    """Change a VRF; switching ``enforce_unique`` on is refused while duplicates exist."""
    vrf = require(session, Vrf, vrf_id)
    values = merge(vrf, changes, _VRF_FIELDS)
    _validate_vrf(session, values, vrf)
    before = snapshot(vrf)
    apply(vrf, values)
    session.execute(update(IpAddress).where(IpAddress.vrf_key == vrf.id).values(
        unique_key=vrf.id if vrf.enforce_unique else None))
    audit(session, actor, "update", vrf, before=before)
    return vrf


def delete_vrf(session: Session, actor: Actor, vrf_id: int) -> None:
    """Delete an empty VRF (no prefixes, ranges or addresses)."""
    vrf = require(session, Vrf, vrf_id)
    for model, what in ((Prefix, "prefixes"), (IpRange, "IP ranges"), (IpAddress, "addresses")):
        n = session.scalar(select(func.count()).select_from(model).where(model.vrf_id == vrf.id))
        if n:
            raise InUseError(f"VRF {vrf.name} still holds {n} {what}")
    before = snapshot(vrf)
    audit(session, actor, "delete", vrf, before=before, deleted=True)
    session.delete(vrf)


# --- VLAN groups -------------------------------------------------------------------------

_GROUP_FIELDS = frozenset({"name", "slug", "site_id", "min_vid", "max_vid", "description"})


def _validate_group(session: Session, v: dict[str, Any], current: VlanGroup | None) -> None:
    errs = FieldErrors()
    check_text(errs, "name", v["name"], 100)
    check_text(errs, "slug", v["slug"], 100)
    if "slug" not in errs.errors:
        check_unique(session, errs, VlanGroup, "slug", {"slug": v["slug"]},
                     exclude_id=current.id if current else None)
    check_ref(session, errs, Site, "site_id", v["site_id"])
    lo, hi = v["min_vid"], v["max_vid"]
    for field, vid in (("min_vid", lo), ("max_vid", hi)):
        if not isinstance(vid, int) or not VID_MIN <= vid <= VID_MAX:
            errs.add(field, f"must be between {VID_MIN} and {VID_MAX}")
    if not errs and lo > hi:
        errs.add("max_vid", "must not be below min_vid")
    if not errs and current is not None:
        outside = session.scalar(
            select(func.count()).select_from(Vlan).where(
                Vlan.group_id == current.id, (Vlan.vid < lo) | (Vlan.vid > hi)))
        if outside:
            errs.add("min_vid", f"{outside} VLANs of the group lie outside {lo}-{hi}")
    errs.raise_if_any()


def create_vlan_group(session: Session, actor: Actor, *, name: str, slug: str,
                      site_id: int | None = None, min_vid: int = VID_MIN,
                      max_vid: int = VID_MAX, description: str = "") -> VlanGroup:
    """Create a VLAN id space (normally one per site)."""
    values = {"name": name, "slug": slug, "site_id": site_id, "min_vid": min_vid,
              "max_vid": max_vid, "description": description}
    return create_object(session, actor, VlanGroup, values, _validate_group)


def update_vlan_group(session: Session, actor: Actor, group_id: int,
                      **changes: Any) -> VlanGroup:
    """Change a VLAN group; its vid range must still cover its VLANs."""
    return update_object(session, actor, VlanGroup, group_id, changes, _GROUP_FIELDS,
                         _validate_group)


def delete_vlan_group(session: Session, actor: Actor, group_id: int) -> None:
    """Delete a VLAN group that holds no VLANs."""
    group = require(session, VlanGroup, group_id)
    n = session.scalar(select(func.count()).select_from(Vlan).where(Vlan.group_id == group.id))
    if n:
        raise InUseError(f"VLAN group {group.name} still holds {n} VLANs")
    audit(session, actor, "delete", group, before=snapshot(group), deleted=True)
    session.delete(group)


def list_vlan_groups(session: Session, *, site_id: int | None = None) -> Sequence[VlanGroup]:
    """Return VLAN groups, optionally of one site."""
    stmt = select(VlanGroup).order_by(VlanGroup.name)
    if site_id is not None:
        stmt = stmt.where(VlanGroup.site_id == site_id)
    return session.scalars(stmt).all()


# --- VLANs -------------------------------------------------------------------------------

_VLAN_FIELDS = frozenset({"group_id", "vid", "name", "status", "role", "opd_id", "description"})


def _validate_vlan(session: Session, v: dict[str, Any], current: Vlan | None) -> None:
    errs = FieldErrors()
    group = check_ref(session, errs, VlanGroup, "group_id", v["group_id"])
    vid = v["vid"]
    lo, hi = (group.min_vid, group.max_vid) if group else (VID_MIN, VID_MAX)
    if isinstance(vid, bool) or not isinstance(vid, int) or not lo <= vid <= hi:
        errs.add("vid", f"must be between {lo} and {hi}")
    else:
        check_unique(session, errs, Vlan, "vid",
                     {"group_key": v["group_id"] or 0, "vid": vid},
                     exclude_id=current.id if current else None,
                     message=f"VLAN {vid} already exists in this group")
    check_text(errs, "name", v["name"], 64)
    check_choice(errs, "status", v["status"], VLAN_STATUS)
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    errs.raise_if_any()


def create_vlan(session: Session, actor: Actor, *, vid: int, name: str,
                group_id: int | None = None, status: str = "active", role: str = "",
                opd_id: int | None = None, description: str = "") -> Vlan:
    """Create a VLAN; vids are unique per group (or among group-less VLANs)."""
    values = {"group_id": group_id, "vid": vid, "name": name, "status": status, "role": role,
              "opd_id": opd_id, "description": description}
    _validate_vlan(session, values, None)
    vlan = Vlan(group_key=group_id or 0, **values)
    session.add(vlan)
    audit(session, actor, "create", vlan)
    return vlan


def update_vlan(session: Session, actor: Actor, vlan_id: int, **changes: Any) -> Vlan:
    """Change a VLAN."""
    vlan = require(session, Vlan, vlan_id)
    values = merge(vlan, changes, _VLAN_FIELDS)
    _validate_vlan(session, values, vlan)
    before = snapshot(vlan)
    apply(vlan, values)
    vlan.group_key = vlan.group_id or 0
    audit(session, actor, "update", vlan, before=before)
    return vlan


def delete_vlan(session: Session, actor: Actor, vlan_id: int) -> None:
    """Delete a VLAN (prefixes that named it keep existing, without a VLAN)."""
    vlan = require(session, Vlan, vlan_id)
    audit(session, actor, "delete", vlan, before=snapshot(vlan), deleted=True)
    session.delete(vlan)


def list_vlans(session: Session, *, group_id: int | None = None) -> Sequence[Vlan]:
    """Return VLANs ordered by group and vid."""
    stmt = select(Vlan).order_by(Vlan.group_key, Vlan.vid)
    if group_id is not None:
        stmt = stmt.where(Vlan.group_id == group_id)
    return session.scalars(stmt).all()
