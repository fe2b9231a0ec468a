"""Interfaces, cables and wall outlets / patch ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.addressing import normalise_mac
from inventory.choices import CABLE_STATUS, INTERFACE_TYPES, OUTLET_KINDS, OUTLET_STATUS
from inventory.models import (
    Cable,
    CableTermination,
    Device,
    Interface,
    Location,
    Site,
    WallOutlet,
)
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

_IFACE_FIELDS = frozenset({"name", "type", "speed_kbps", "mac_address", "enabled", "mtu",
                           "lag_id", "description"})


def _validate_interface(session: Session, device: Device, v: dict[str, Any],
                        current: Interface | None) -> None:
    errs = FieldErrors()
    exclude = current.id if current else None
    check_text(errs, "name", v["name"], 64)
    if "name" not in errs.errors:
        check_unique(session, errs, Interface, "name",
                     {"device_id": device.id, "name": v["name"]}, exclude_id=exclude,
                     message=f"{device.name} already has {v['name']}")
    check_choice(errs, "type", v["type"], INTERFACE_TYPES)
    if v["mac_address"] is not None:
        try:
            v["mac_address"] = normalise_mac(v["mac_address"])
        except ValueError as exc:
            errs.add("mac_address", str(exc))
        else:
            owner = session.scalar(select(Interface).where(
                Interface.mac_address == v["mac_address"], Interface.id != (exclude or 0)))
            if owner is not None:
                errs.add("mac_address", f"{v['mac_address']} is already on interface "
                                        f"{owner.name} (id {owner.id})")
    for field, lo, hi in (("speed_kbps", 0, 2_000_000_000), ("mtu", 68, 65536)):
        value = v[field]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not lo <= value <= hi):
            errs.add(field, f"must be a whole number from {lo} to {hi}")
    lag = check_ref(session, errs, Interface, "lag_id", v["lag_id"])
    if lag is not None:
        if lag.device_id != device.id:
            errs.add("lag_id", "must be a LAG of the same device")
        elif lag.type != "lag":
            errs.add("lag_id", f"{lag.name} is not a LAG interface")
        elif current is not None and lag.id == current.id:
            errs.add("lag_id", "an interface cannot be its own LAG")
        elif v["type"] == "lag":
            errs.add("lag_id", "a LAG cannot be a member of another LAG")
    errs.raise_if_any()


def create_interface(session: Session, actor: Actor, *, device_id: int, name: str,
                     type: str = "1000base-t", speed_kbps: int | None = None,
                     mac_address: str | None = None, enabled: bool = True,
                     mtu: int | None = None, lag_id: int | None = None,
                     description: str = "") -> Interface:
    """Create an interface; the MAC is stored as aa:bb:cc:dd:ee:ff and is unique."""
    device = require(session, Device, device_id, "device_id")
    values = {"name": name, "type": type, "speed_kbps": speed_kbps,
              "mac_address": mac_address, "enabled": enabled, "mtu": mtu, "lag_id": lag_id,
              "description": description}
    _validate_interface(session, device, values, None)
    iface = Interface(device_id=device.id, **values)
    session.add(iface)
    audit(session, actor, "create", iface)
    return iface


def update_interface(session: Session, actor: Actor, interface_id: int,
                     **changes: Any) -> Interface:
    """Change an interface."""
    iface = require(session, Interface, interface_id)
    device = require(session, Device, iface.device_id, "device_id")
    values = merge(iface, changes, _IFACE_FIELDS)
    _validate_interface(session, device, values, iface)
    before = snapshot(iface)
    apply(iface, values)
    audit(session, actor, "update", iface, before=before)
    return iface


def delete_interface(session: Session, actor: Actor, interface_id: int) -> None:
    """Delete an interface and the cable on it (a cable needs both ends)."""
    iface = require(session, Interface, interface_id)
    cable_id = session.scalar(select(CableTermination.cable_id).where(
        CableTermination.interface_id == iface.id))
    if cable_id is not None:
        delete_cable(session, actor, cable_id)
    audit(session, actor, "delete", iface, before=snapshot(iface), deleted=True)
    session.delete(iface)


def list_interfaces(session: Session, device_id: int) -> Sequence[Interface]:
    """Return a device's interfaces by name."""
    return session.scalars(select(Interface).where(Interface.device_id == device_id)
                           .order_by(Interface.name)).all()


# --- cables ------------------------------------------------------------------------------

def create_cable(session: Session, actor: Actor, *, a_interface_id: int, b_interface_id: int,
                 status: str = "connected", label: str = "", length_m: int | None = None,
                 description: str = "") -> Cable:
    """Connect two interfaces; each may hold one cable (``uq_..._interface_id`` backs it)."""
    errs = FieldErrors()
    ends = []
    for field, iface_id in (("a_interface_id", a_interface_id),
                            ("b_interface_id", b_interface_id)):
        iface = check_ref(session, errs, Interface, field, iface_id)
        if iface is None:
            continue
        ends.append(iface)
        if iface.type in ("virtual", "lag"):
            errs.add(field, f"{iface.name} is {iface.type} and cannot take a cable")
        if session.scalar(select(CableTermination.id).where(
                CableTermination.interface_id == iface.id)) is not None:
            errs.add(field, f"{iface.name} already has a cable")
    if a_interface_id == b_interface_id:
        errs.add("b_interface_id", "a cable needs two different interfaces")
    check_choice(errs, "status", status, CABLE_STATUS)
    errs.raise_if_any()
    cable = Cable(status=status, label=label, length_m=length_m, description=description)
    session.add(cable)
    session.flush()
    for end, iface in zip("AB", ends, strict=True):
        session.add(CableTermination(cable_id=cable.id, cable_end=end, interface_id=iface.id))
    audit(session, actor, "create", cable)
    return cable


_CABLE_FIELDS = frozenset({"status", "label", "length_m", "description"})


def _validate_cable(session: Session, v: dict[str, Any], current: Cable | None) -> None:
    errs = FieldErrors()
    check_choice(errs, "status", v["status"], CABLE_STATUS)
    check_text(errs, "label", v["label"], 100, required=False)
    check_text(errs, "description", v["description"], 500, required=False)
    length = v["length_m"]
    if length is not None and (isinstance(length, bool) or not isinstance(length, int)
                               or length < 0):
        errs.add("length_m", "must be a whole number of metres, 0 or more")
    errs.raise_if_any()


def update_cable(session: Session, actor: Actor, cable_id: int, **changes: Any) -> Cable:
    """Change a cable's status, label, length or description.

    Its ends are fixed: to move a cable, delete it and connect the new interfaces (the
    same as re-patching), so each interface's one-cable rule is checked again.
    """
    return update_object(session, actor, Cable, cable_id, changes, _CABLE_FIELDS,
                         _validate_cable)


def delete_cable(session: Session, actor: Actor, cable_id: int) -> None:
    """Remove a cable; both interfaces become free."""
    cable = require(session, Cable, cable_id)
    audit(session, actor, "delete", cable, before=snapshot(cable), deleted=True)
    for term in session.scalars(select(CableTermination).where(
            CableTermination.cable_id == cable.id)).all():
        session.delete(term)
    session.flush()  # ends first: the unit of work knows no order between these tables
    session.delete(cable)


def cable_peer(session: Session, interface_id: int) -> Interface | None:
    """Return the interface at the other end of this interface's cable, or None."""
    term = session.scalar(select(CableTermination).where(
        CableTermination.interface_id == interface_id))
    if term is None:
        return None
    peer_id = session.scalar(select(CableTermination.interface_id).where(
        CableTermination.cable_id == term.cable_id, CableTermination.id != term.id))
    return session.get(Interface, peer_id) if peer_id is not None else None


# --- wall outlets / patch ports ----------------------------------------------------------

_OUTLET_FIELDS = frozenset({"site_id", "location_id", "label", "kind", "status",
                            "interface_id", "opd_id", "description"})


def _validate_outlet(session: Session, v: dict[str, Any], current: WallOutlet | None) -> None:
    errs = FieldErrors()
    site = check_ref(session, errs, Site, "site_id", v["site_id"])
    loc = check_ref(session, errs, Location, "location_id", v["location_id"])
    if loc is not None and site is not None and loc.site_id != site.id:
        errs.add("location_id", "must be a location of the outlet's site")
    check_text(errs, "label", v["label"], 64)
    if site is not None and "label" not in errs.errors:
        check_unique(session, errs, WallOutlet, "label", {"site_id": site.id,
                                                          "label": v["label"]},
                     exclude_id=current.id if current else None)
    check_choice(errs, "kind", v["kind"], OUTLET_KINDS)
    check_choice(errs, "status", v["status"], OUTLET_STATUS)
    check_ref(session, errs, Interface, "interface_id", v["interface_id"])
    if v["interface_id"] is not None and v["status"] == "free":
        errs.add("status", "an outlet connected to an interface is used, not free")
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    errs.raise_if_any()


def create_wall_outlet(session: Session, actor: Actor, *, site_id: int, label: str,
                       location_id: int | None = None, kind: str = "wall-outlet",
                       status: str = "free", interface_id: int | None = None,
                       opd_id: int | None = None, description: str = "") -> WallOutlet:
    """Create a wall outlet or patch port (label unique per site)."""
    values = {"site_id": site_id, "location_id": location_id, "label": label, "kind": kind,
              "status": status, "interface_id": interface_id, "opd_id": opd_id,
              "description": description}
    return create_object(session, actor, WallOutlet, values, _validate_outlet)


def update_wall_outlet(session: Session, actor: Actor, outlet_id: int,
                       **changes: Any) -> WallOutlet:
    """Change an outlet (connect it: ``interface_id=…, status="used"``)."""
    return update_object(session, actor, WallOutlet, outlet_id, changes, _OUTLET_FIELDS,
                         _validate_outlet)


def delete_wall_outlet(session: Session, actor: Actor, outlet_id: int) -> None:
    """Delete an outlet."""
    outlet = require(session, WallOutlet, outlet_id)
    audit(session, actor, "delete", outlet, before=snapshot(outlet), deleted=True)
    session.delete(outlet)


def list_wall_outlets(session: Session, *, site_id: int | None = None,
                      location_id: int | None = None,
                      status: str | None = None) -> Sequence[WallOutlet]:
    """Return outlets by label; ``status="free"`` answers the colocation SOP's check."""
    stmt = select(WallOutlet).order_by(WallOutlet.site_id, WallOutlet.label)
    for column, value in ((WallOutlet.site_id, site_id), (WallOutlet.location_id, location_id),
                          (WallOutlet.status, status)):
        if value is not None:
            stmt = stmt.where(column == value)
    return session.scalars(stmt).all()
