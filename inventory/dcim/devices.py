"""Devices: create, update, delete, list, with rack placement and power checks.

Placement runs under the rack's lock (``LOCK_RACK``): check the units and the power
budget, write the device and one ``dcim_deviceunit`` row per held (face, unit). The
unique (rack, face, unit) constraint refuses any overlap a lost race would store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inventory.choices import DEVICE_ROLES, DEVICE_STATUS, FACES, PLATFORMS
from inventory.dcim.elevation import device_slots
from inventory.dcim.racks import rack_power, reserved_units
from inventory.errors import PowerBudgetError
from inventory.models import (
    Device,
    DeviceType,
    DeviceUnit,
    Interface,
    IpAddress,
    Location,
    Rack,
    Site,
)
from inventory.service import (
    LOCK_RACK,
    FieldErrors,
    apply,
    audit,
    check_choice,
    check_ref,
    check_text,
    check_unique,
    lock,
    merge,
    require,
    snapshot,
)
from simpul.audit import Actor
from simpul.models import Opd

_FIELDS = frozenset({"name", "device_type_id", "role", "platform", "status", "serial",
                     "site_id", "location_id", "rack_id", "position", "face", "opd_id",
                     "primary_ip4_id", "primary_ip6_id", "description"})


def _check_primary_ip(session: Session, errs: FieldErrors, field: str, ip_id: int | None,
                      family: int, device_id: int | None) -> None:
    ip = check_ref(session, errs, IpAddress, field, ip_id)
    if ip is None:
        return
    if ip.family != family:
        errs.add(field, f"{ip.address} is not an IPv{family} address")
    owner = session.get(Interface, ip.interface_id) if ip.interface_id else None
    if owner is None or owner.device_id != device_id:
        errs.add(field, f"{ip.address} is not assigned to an interface of this device")


def _check_placement(session: Session, errs: FieldErrors, v: dict[str, Any],
                     dtype: DeviceType, rack: Rack, device_id: int | None) -> set[tuple[str, int]]:
    """Check position/face against the rack; return the slots the device would hold."""
    position, face = v["position"], v["face"]
    if position is None:
        if face is not None:
            errs.add("position", "required when a face is given")
        return set()
    if dtype.u_height == 0:
        errs.add("position", f"{dtype.model} is 0U and takes no rack position")
        return set()
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        errs.add("position", "must be U1 or above")
        return set()
    check_choice(errs, "face", face, FACES)
    top = position + dtype.u_height - 1
    if top > rack.u_height:
        errs.add("position", f"a {dtype.u_height}U device at U{position} reaches U{top}, "
                             f"above rack {rack.name} ({rack.u_height}U)")
    if errs:
        return set()
    slots = device_slots(position, dtype.u_height, face, dtype.is_full_depth)
    stmt = select(DeviceUnit.face, DeviceUnit.unit, Device.name).join(
        Device, DeviceUnit.device_id == Device.id).where(DeviceUnit.rack_id == rack.id)
    if device_id is not None:
        stmt = stmt.where(DeviceUnit.device_id != device_id)
    clashes = sorted((u, f, name) for f, u, name in session.execute(stmt) if (f, u) in slots)
    if clashes:
        unit, clash_face, name = clashes[0]
        errs.add("position", f"U{unit} ({clash_face}) of rack {rack.name} is occupied by {name}")
    held = reserved_units(session, rack.id, for_opd=v["opd_id"])
    reserved = sorted({u for _f, u in slots} & set(held))
    if reserved:
        errs.add("position", f"U{reserved[0]} of rack {rack.name} is reserved "
                             f"({held[reserved[0]].description or 'for another OPD'})")
    return slots


def _validate(session: Session, v: dict[str, Any],
              current: Device | None) -> tuple[set[tuple[str, int]], Rack | None]:
    errs = FieldErrors()
    device_id = current.id if current else None
    check_text(errs, "name", v["name"], 64)
    site = check_ref(session, errs, Site, "site_id", v["site_id"])
    if v["site_id"] is None:
        errs.add("site_id", "required")
    if site is not None and "name" not in errs.errors:
        check_unique(session, errs, Device, "name", {"site_id": site.id, "name": v["name"]},
                     exclude_id=device_id, message=f"{v['name']} already exists at {site.name}")
    dtype = check_ref(session, errs, DeviceType, "device_type_id", v["device_type_id"])
    check_choice(errs, "role", v["role"], DEVICE_ROLES)
    check_choice(errs, "platform", v["platform"], ("", *PLATFORMS))
    check_choice(errs, "status", v["status"], DEVICE_STATUS)
    check_text(errs, "serial", v["serial"], 64, required=False)
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    loc = check_ref(session, errs, Location, "location_id", v["location_id"])
    if loc is not None and site is not None and loc.site_id != site.id:
        errs.add("location_id", "must be a location of the device's site")
    rack = check_ref(session, errs, Rack, "rack_id", v["rack_id"])
    if rack is None and v["rack_id"] is None and v["position"] is not None:
        errs.add("rack_id", "required when a position is given")
    _check_primary_ip(session, errs, "primary_ip4_id", v["primary_ip4_id"], 4, device_id)
    _check_primary_ip(session, errs, "primary_ip6_id", v["primary_ip6_id"], 6, device_id)
    slots: set[tuple[str, int]] = set()
    if rack is not None and site is not None and rack.site_id != site.id:
        errs.add("rack_id", f"rack {rack.name} is not at site {site.name}")
    elif rack is not None and dtype is not None:
        lock(session, LOCK_RACK, rack.id)
        slots = _check_placement(session, errs, v, dtype, rack, device_id)
    errs.raise_if_any()
    if rack is not None and dtype is not None:
        # A device mounted in reserved units draws from that reservation's watts first
        # (see rack_power), so installing a colocated server does not count it twice.
        acct = rack_power(session, rack, exclude_device_id=device_id,
                          extra_device=({u for _f, u in slots}, dtype.power_draw_w))
        limit, draw = acct.limit_w, acct.committed_w
        if limit is not None and draw > limit:
            what = (f"{acct.draw_w} W plus {acct.reserved_w} W reserved" if acct.reserved_w
                    else f"{draw} W")
            raise PowerBudgetError(
                f"rack {rack.name} would draw {what}, above its {limit} W limit",
                errors={"rack_id": [f"{draw} W exceeds the {limit} W power limit"]})
    return slots, rack


def _place(session: Session, device: Device, slots: set[tuple[str, int]]) -> None:
    session.execute(delete(DeviceUnit).where(DeviceUnit.device_id == device.id))
    for face, unit in sorted(slots):
        session.add(DeviceUnit(rack_id=device.rack_id, device_id=device.id, face=face,
                               unit=unit))


def create_device(session: Session, actor: Actor, *, name: str, device_type_id: int,
                  role: str, site_id: int, platform: str = "", status: str = "active",
                  serial: str = "", location_id: int | None = None,
                  rack_id: int | None = None, position: int | None = None,
                  face: str | None = None, opd_id: int | None = None,
                  description: str = "") -> Device:
    """Create a device, placing it in a rack when a rack and position are given.

    Raises:
        InventoryValidationError: bad fields, a duplicate name at the site, or a position
            that overlaps another device, a reservation, or leaves the rack.
        PowerBudgetError: the rack's budget or a feed would be exceeded (409).
    """
    values = {"name": name, "device_type_id": device_type_id, "role": role,
              "platform": platform, "status": status, "serial": serial, "site_id": site_id,
              "location_id": location_id, "rack_id": rack_id, "position": position,
              "face": face if face is not None or position is None else "front",
              "opd_id": opd_id, "primary_ip4_id": None, "primary_ip6_id": None,
              "description": description}
    slots, _rack = _validate(session, values, None)
    device = Device(**values)
    session.add(device)
    session.flush()
    _place(session, device, slots)
    audit(session, actor, "create", device)
    return device


def update_device(session: Session, actor: Actor, device_id: int, **changes: Any) -> Device:
    """Change a device; moving it re-checks space and power in the target rack."""
    device = require(session, Device, device_id)
    values = merge(device, changes, _FIELDS)
    if values["rack_id"] is None:
        values.update(position=None, face=None)
    slots, _rack = _validate(session, values, device)
    before = snapshot(device)
    apply(device, values)
    session.flush()
    _place(session, device, slots)
    audit(session, actor, "update", device, before=before)
    return device


def place_device(session: Session, actor: Actor, device_id: int, *, rack_id: int,
                 position: int, face: str = "front") -> Device:
    """Mount a device at *position* of a rack; the units are checked under the rack lock."""
    return update_device(session, actor, device_id, rack_id=rack_id, position=position,
                         face=face)


def delete_device(session: Session, actor: Actor, device_id: int) -> None:
    """Delete a device with its interfaces, cables' ends and rack units."""
    device = require(session, Device, device_id)
    audit(session, actor, "delete", device, before=snapshot(device), deleted=True)
    session.execute(delete(DeviceUnit).where(DeviceUnit.device_id == device.id))
    from inventory.dcim.interfaces import delete_interface  # interfaces import devices

    ifaces = session.scalars(select(Interface.id).where(Interface.device_id == device.id)).all()
    for iface_id in ifaces:
        delete_interface(session, actor, iface_id)
    session.flush()  # interfaces before the device (no ORM relationship orders them)
    session.delete(device)


def get_device(session: Session, device_id: int) -> Device | None:
    """Return the device with this id, or None."""
    return session.get(Device, device_id)


def list_devices(session: Session, *, site_id: int | None = None, rack_id: int | None = None,
                 role: str | None = None, opd_id: int | None = None) -> Sequence[Device]:
    """Return devices by name, filtered like NetBox's ``?site_id=&rack_id=&role=``."""
    stmt = select(Device).order_by(Device.name, Device.id)
    for column, value in ((Device.site_id, site_id), (Device.rack_id, rack_id),
                          (Device.role, role), (Device.opd_id, opd_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    return session.scalars(stmt).all()
