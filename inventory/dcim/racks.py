"""Racks, rack reservations (units and watts), power feeds, power accounting, space finder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from inventory.choices import FACES, FEED_NAMES, FEED_STATUS, RACK_STATUS
from inventory.dcim.elevation import best_fit, blocked_units
from inventory.errors import InUseError, PowerBudgetError
from inventory.ipam.utilisation import Utilisation
from inventory.models import (
    Device,
    DeviceType,
    DeviceUnit,
    Location,
    PowerFeed,
    Rack,
    RackReservation,
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
    create_object,
    lock,
    merge,
    require,
    snapshot,
)
from simpul.audit import Actor
from simpul.models import Opd

_RACK_FIELDS = frozenset({"site_id", "location_id", "name", "status", "u_height",
                          "desc_units", "power_budget_w", "opd_id", "description"})


def _validate_rack(session: Session, v: dict[str, Any], current: Rack | None) -> None:
    errs = FieldErrors()
    site = check_ref(session, errs, Site, "site_id", v["site_id"])
    loc = check_ref(session, errs, Location, "location_id", v["location_id"])
    if loc is not None and site is not None and loc.site_id != site.id:
        errs.add("location_id", "must be a location of the rack's site")
    check_text(errs, "name", v["name"], 100)
    if site is not None and "name" not in errs.errors:
        check_unique(session, errs, Rack, "name", {"site_id": site.id, "name": v["name"]},
                     exclude_id=current.id if current else None)
    check_choice(errs, "status", v["status"], RACK_STATUS)
    height = v["u_height"]
    if isinstance(height, bool) or not isinstance(height, int) or not 1 <= height <= 100:
        errs.add("u_height", "must be a whole number from 1 to 100")
    elif current is not None:
        top = session.scalar(select(func.max(DeviceUnit.unit)).where(
            DeviceUnit.rack_id == current.id))
        if top is not None and top > height:
            errs.add("u_height", f"a device occupies U{top}")
    budget = v["power_budget_w"]
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                               or budget < 0):
        errs.add("power_budget_w", "must be a whole number of watts, or empty")
    elif budget is not None and current is not None and (
            rack_power(session, current).committed_w > budget):
        errs.add("power_budget_w", "below the rack's current draw plus reserved power")
    check_ref(session, errs, Opd, "opd_id", v["opd_id"])
    errs.raise_if_any()


def create_rack(session: Session, actor: Actor, *, site_id: int, name: str,
                location_id: int | None = None, status: str = "active", u_height: int = 42,
                desc_units: bool = False, power_budget_w: int | None = None,
                opd_id: int | None = None, description: str = "") -> Rack:
    """Create a rack (name unique per site)."""
    values = {"site_id": site_id, "location_id": location_id, "name": name, "status": status,
              "u_height": u_height, "desc_units": desc_units, "power_budget_w": power_budget_w,
              "opd_id": opd_id, "description": description}
    return create_object(session, actor, Rack, values, _validate_rack)


def update_rack(session: Session, actor: Actor, rack_id: int, **changes: Any) -> Rack:
    """Change a rack; it may not shrink below its devices or its budget below its draw."""
    rack = require(session, Rack, rack_id)
    values = merge(rack, changes, _RACK_FIELDS)
    lock(session, LOCK_RACK, rack.id)
    _validate_rack(session, values, rack)
    before = snapshot(rack)
    apply(rack, values)
    audit(session, actor, "update", rack, before=before)
    return rack


def delete_rack(session: Session, actor: Actor, rack_id: int) -> None:
    """Delete an empty rack (its feeds and reservations go with it)."""
    rack = require(session, Rack, rack_id)
    n = session.scalar(select(func.count()).select_from(Device).where(Device.rack_id == rack.id))
    if n:
        raise InUseError(f"rack {rack.name} still holds {n} devices")
    audit(session, actor, "delete", rack, before=snapshot(rack), deleted=True)
    session.delete(rack)


def get_rack(session: Session, rack_id: int) -> Rack | None:
    """Return the rack with this id, or None."""
    return session.get(Rack, rack_id)


def list_racks(session: Session, *, site_id: int | None = None) -> Sequence[Rack]:
    """Return racks by site and name."""
    stmt = select(Rack).order_by(Rack.site_id, Rack.name)
    if site_id is not None:
        stmt = stmt.where(Rack.site_id == site_id)
    return session.scalars(stmt).all()


# --- power -------------------------------------------------------------------------------

def rack_power_draw(session: Session, rack: Rack, *, exclude_device_id: int | None = None
                    ) -> int:
    """Return the summed typical draw (W) of the devices in *rack*."""
    stmt = (select(func.coalesce(func.sum(DeviceType.power_draw_w), 0))
            .select_from(Device).join(DeviceType, Device.device_type_id == DeviceType.id)
            .where(Device.rack_id == rack.id))
    if exclude_device_id is not None:
        stmt = stmt.where(Device.id != exclude_device_id)
    return int(session.scalar(stmt) or 0)


def rack_power_limit(session: Session, rack: Rack) -> int | None:
    """Return the watts the rack may draw: its budget and each feed's capacity, lowest.

    Feeds A and B are redundant (2N): each must carry the whole rack if the other fails,
    so every feed's capacity is a limit. None when neither budget nor feeds are known.
    """
    limits = [f.available_w for f in list_power_feeds(session, rack.id)]
    if rack.power_budget_w is not None:
        limits.append(rack.power_budget_w)
    return min(limits) if limits else None


@dataclass(frozen=True)
class RackPower:
    """A rack's power account: what devices draw, what reservations still hold, the limit.

    ``reserved_w`` counts only the part of each reservation its devices do not draw yet
    (see ``rack_power``), so ``committed_w`` never counts a reserved server twice.
    """

    draw_w: int
    reserved_w: int
    limit_w: int | None  # None: neither budget nor feeds are known

    @property
    def committed_w(self) -> int:
        """Return the watts drawn or promised."""
        return self.draw_w + self.reserved_w

    @property
    def headroom_w(self) -> int | None:
        """Return the watts still free to promise (None without a limit)."""
        return None if self.limit_w is None else self.limit_w - self.committed_w


def _active(stmt: Any, now: datetime | None) -> Any:
    """Keep reservations that have not expired at *now* (expired ones promise nothing)."""
    now = now or datetime.now(UTC)
    return stmt.where(or_(RackReservation.expires_at.is_(None),
                          RackReservation.expires_at > now))


def reserved_power(session: Session, rack_ids: Sequence[int], *, now: datetime | None = None,
                   exclude_reservation_id: int | None = None,
                   extra_device: tuple[set[int], int] | None = None,
                   exclude_device_id: int | None = None) -> dict[int, int]:
    """Return rack id -> watts reserved and not yet drawn, for many racks at once.

    The rule against double counting: a reservation counts max(its power_w, the draw of
    the devices mounted in its units), i.e. its power_w less what those devices draw,
    never below 0 — the devices' draw itself is in the rack's draw. A device inside the
    units of several reservations is charged to the oldest one. So installing the
    colocated server into its reserved units moves watts from "reserved" to "draw"
    without the total moving, whichever path (helpdesk, UI, API) places it.

    *extra_device* (units, watts) is a device about to be placed in the first rack;
    *exclude_device_id* a device leaving (being moved); *exclude_reservation_id* a
    reservation being rewritten.
    """
    ids = list(rack_ids)
    if not ids:
        return {}
    stmt = _active(select(RackReservation).where(RackReservation.rack_id.in_(ids),
                                                 RackReservation.power_w > 0), now)
    if exclude_reservation_id is not None:
        stmt = stmt.where(RackReservation.id != exclude_reservation_id)
    holds = session.scalars(stmt.order_by(RackReservation.id)).all()
    if not holds:
        return {}
    dev_stmt = (select(DeviceUnit.rack_id, DeviceUnit.device_id, DeviceUnit.unit,
                       DeviceType.power_draw_w)
                .join(Device, DeviceUnit.device_id == Device.id)
                .join(DeviceType, Device.device_type_id == DeviceType.id)
                .where(DeviceUnit.rack_id.in_({h.rack_id for h in holds})))
    if exclude_device_id is not None:
        dev_stmt = dev_stmt.where(DeviceUnit.device_id != exclude_device_id)
    devices: dict[tuple[int, Any], tuple[set[int], int]] = {}
    for rack_id, device_id, unit, watts in session.execute(dev_stmt):
        devices.setdefault((rack_id, device_id), (set(), int(watts or 0)))[0].add(unit)
    if extra_device is not None:
        devices[(ids[0], None)] = extra_device
    drawn: dict[int, int] = {}
    for (rack_id, _dev), (units, watts) in devices.items():
        for hold in holds:
            if hold.rack_id == rack_id and units & set(hold.units):
                drawn[hold.id] = drawn.get(hold.id, 0) + watts
                break
    out: dict[int, int] = {}
    for hold in holds:
        out[hold.rack_id] = out.get(hold.rack_id, 0) + max(0, hold.power_w
                                                           - drawn.get(hold.id, 0))
    return out


def rack_power(session: Session, rack: Rack, *, now: datetime | None = None,
               exclude_reservation_id: int | None = None,
               extra_device: tuple[set[int], int] | None = None,
               exclude_device_id: int | None = None) -> RackPower:
    """Return the rack's draw, its not-yet-drawn reserved watts and its limit.

    Arguments as in ``reserved_power``; *extra_device*'s watts are added to the draw.
    """
    draw = rack_power_draw(session, rack, exclude_device_id=exclude_device_id)
    if extra_device is not None:
        draw += extra_device[1]
    reserved = reserved_power(session, [rack.id], now=now,
                              exclude_reservation_id=exclude_reservation_id,
                              extra_device=extra_device,
                              exclude_device_id=exclude_device_id).get(rack.id, 0)
    return RackPower(draw, reserved, rack_power_limit(session, rack))


def power_utilisation(session: Session, rack: Rack) -> dict[str, Utilisation]:
    """Return committed watts (draw + reserved) vs limit for the rack and per feed."""
    used = rack_power(session, rack).committed_w
    result: dict[str, Utilisation] = {}
    if rack.power_budget_w is not None:
        result["budget"] = Utilisation(used, rack.power_budget_w)
    for feed in list_power_feeds(session, rack.id):
        result[feed.name] = Utilisation(used, feed.available_w)
    return result


_FEED_FIELDS = frozenset({"name", "status", "voltage", "amperage", "max_utilization"})


def _validate_feed(session: Session, rack: Rack, v: dict[str, Any],
                   current: PowerFeed | None) -> None:
    errs = FieldErrors()
    check_choice(errs, "name", v["name"], FEED_NAMES)
    check_choice(errs, "status", v["status"], FEED_STATUS)
    for field, lo, hi in (("voltage", 1, 1000), ("amperage", 1, 1000),
                          ("max_utilization", 1, 100)):
        value = v[field]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            errs.add(field, f"must be a whole number from {lo} to {hi}")
    if not errs:
        check_unique(session, errs, PowerFeed, "name", {"rack_id": rack.id, "name": v["name"]},
                     exclude_id=current.id if current else None,
                     message=f"rack {rack.name} already has feed {v['name']}")
        capacity = v["voltage"] * v["amperage"] * v["max_utilization"] // 100
        if rack_power(session, rack).committed_w > capacity:
            errs.add("amperage", f"{capacity} W is below the rack's current draw plus "
                                 "reserved power")
    errs.raise_if_any()


def create_power_feed(session: Session, actor: Actor, *, rack_id: int, name: str,
                      status: str = "active", voltage: int = 230, amperage: int = 16,
                      max_utilization: int = 80) -> PowerFeed:
    """Add feed A or B to a rack."""
    rack = require(session, Rack, rack_id, "rack_id")
    values = {"name": name, "status": status, "voltage": voltage, "amperage": amperage,
              "max_utilization": max_utilization}
    lock(session, LOCK_RACK, rack.id)
    _validate_feed(session, rack, values, None)
    feed = PowerFeed(rack_id=rack.id, **values)
    session.add(feed)
    audit(session, actor, "create", feed)
    return feed


def update_power_feed(session: Session, actor: Actor, feed_id: int,
                      **changes: Any) -> PowerFeed:
    """Change a feed; it may not drop below the rack's draw."""
    feed = require(session, PowerFeed, feed_id)
    rack = require(session, Rack, feed.rack_id, "rack_id")
    values = merge(feed, changes, _FEED_FIELDS)
    lock(session, LOCK_RACK, rack.id)
    _validate_feed(session, rack, values, feed)
    before = snapshot(feed)
    apply(feed, values)
    audit(session, actor, "update", feed, before=before)
    return feed


def delete_power_feed(session: Session, actor: Actor, feed_id: int) -> None:
    """Remove a feed."""
    feed = require(session, PowerFeed, feed_id)
    audit(session, actor, "delete", feed, before=snapshot(feed), deleted=True)
    session.delete(feed)


def list_power_feeds(session: Session, rack_id: int) -> Sequence[PowerFeed]:
    """Return a rack's feeds, A first."""
    return session.scalars(select(PowerFeed).where(PowerFeed.rack_id == rack_id)
                           .order_by(PowerFeed.name)).all()


# --- reservations ------------------------------------------------------------------------

def reserved_units(session: Session, rack_id: int, *, for_opd: int | None = None,
                   exclude_id: int | None = None) -> dict[int, RackReservation]:
    """Return unit -> reservation for a rack, skipping those held for *for_opd*."""
    stmt = select(RackReservation).where(RackReservation.rack_id == rack_id)
    if exclude_id is not None:
        stmt = stmt.where(RackReservation.id != exclude_id)
    held: dict[int, RackReservation] = {}
    for res in session.scalars(stmt):
        if for_opd is not None and res.opd_id == for_opd:
            continue
        for unit in res.units:
            held[unit] = res
    return held


def _check_reservation(session: Session, errs: FieldErrors, rack: Rack, units: Any,
                       opd_id: int | None, expires_at: Any, exclude_id: int | None) -> None:
    if not units or not isinstance(units, list) or not all(
            isinstance(u, int) and not isinstance(u, bool) for u in units):
        errs.add("units", "a list of unit numbers is required")
    else:
        bad = sorted(u for u in units if not 1 <= u <= rack.u_height)
        if bad:
            errs.add("units", f"U{bad[0]} is outside rack {rack.name} (1-{rack.u_height})")
        busy = sorted(set(session.scalars(select(DeviceUnit.unit).where(
            DeviceUnit.rack_id == rack.id, DeviceUnit.unit.in_(units)))))
        if busy:
            errs.add("units", f"U{busy[0]} is occupied by a device")
        taken = sorted(set(units) & set(reserved_units(session, rack.id,
                                                       exclude_id=exclude_id)))
        if taken:
            errs.add("units", f"U{taken[0]} is already reserved")
    check_ref(session, errs, Opd, "opd_id", opd_id)
    if expires_at is not None and (not isinstance(expires_at, datetime)
                                   or expires_at.tzinfo is None):
        errs.add("expires_at", "must be a timezone-aware time")


def _check_power_w(errs: FieldErrors, power_w: Any) -> None:
    if isinstance(power_w, bool) or not isinstance(power_w, int) or power_w < 0:
        errs.add("power_w", "must be a whole number of watts, 0 or more")


def _check_power_left(session: Session, rack: Rack, power_w: int, already: int,
                      exclude_id: int | None) -> None:
    """Refuse *power_w* more than the rack has left; the caller holds the rack's lock.

    Left = the limit minus the devices' draw minus what other live reservations still
    hold. Only growth is checked (*already* is what this reservation held before), so
    shrinking or re-describing a reservation never fails on power.
    """
    if power_w <= already:
        return
    acct = rack_power(session, rack, exclude_reservation_id=exclude_id)
    if acct.headroom_w is None or acct.headroom_w >= power_w:
        return
    left = max(acct.headroom_w, 0)
    raise PowerBudgetError(
        f"rack {rack.name} has {left} W left (limit {acct.limit_w} W, draw {acct.draw_w} W, "
        f"reserved {acct.reserved_w} W); {power_w} W cannot be reserved",
        errors={"power_w": [f"only {left} W left in rack {rack.name}"]})


def reserve_rack_units(session: Session, actor: Actor, *, rack_id: int, units: list[int],
                       opd_id: int | None = None, description: str = "",
                       expires_at: datetime | None = None, power_w: int = 0
                       ) -> RackReservation:
    """Hold free units of a rack, and *power_w* of its power, for an OPD (both faces).

    Units and watts are checked and taken under the rack's lock, so two reservations
    racing for the last units or the last watts cannot both win.
    """
    rack = require(session, Rack, rack_id, "rack_id")
    lock(session, LOCK_RACK, rack.id)
    errs = FieldErrors()
    _check_reservation(session, errs, rack, units, opd_id, expires_at, None)
    _check_power_w(errs, power_w)
    errs.raise_if_any()
    _check_power_left(session, rack, power_w, 0, None)
    res = RackReservation(rack_id=rack.id, units=sorted(set(units)), opd_id=opd_id,
                          description=description, expires_at=expires_at, power_w=power_w)
    session.add(res)
    audit(session, actor, "reserve", res)
    return res


_RESERVATION_FIELDS = frozenset({"units", "opd_id", "description", "expires_at", "power_w"})


def update_rack_reservation(session: Session, actor: Actor, reservation_id: int,
                            **changes: Any) -> RackReservation:
    """Change a reservation's units, power, OPD, description or expiry (same rack).

    Taken under the rack's lock, like a new reservation, so two changes racing for the
    same units or watts cannot both win; what the reservation already holds stays
    available to it.
    """
    res = require(session, RackReservation, reservation_id)
    rack = require(session, Rack, res.rack_id, "rack_id")
    lock(session, LOCK_RACK, rack.id)
    values = merge(res, changes, _RESERVATION_FIELDS)
    stored = values["expires_at"]
    if "expires_at" not in changes and isinstance(stored, datetime) and stored.tzinfo is None:
        values["expires_at"] = stored.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    errs = FieldErrors()
    _check_reservation(session, errs, rack, values["units"], values["opd_id"],
                       values["expires_at"], res.id)
    check_text(errs, "description", values["description"], 500, required=False)
    _check_power_w(errs, values["power_w"])
    errs.raise_if_any()
    was = res.expires_at
    live = was is None or (was if was.tzinfo else was.replace(tzinfo=UTC)) > datetime.now(UTC)
    _check_power_left(session, rack, values["power_w"], res.power_w if live else 0, res.id)
    before = snapshot(res)
    apply(res, {**values, "units": sorted(set(values["units"]))})
    audit(session, actor, "update", res, before=before)
    return res


def release_rack_reservation(session: Session, actor: Actor, reservation_id: int) -> None:
    """Free the units of a reservation."""
    res = require(session, RackReservation, reservation_id)
    audit(session, actor, "release", res, before=snapshot(res), deleted=True)
    session.delete(res)


# --- utilisation and the space finder ----------------------------------------------------

def rack_utilisation(session: Session, rack: Rack) -> dict[str, Utilisation]:
    """Return used units over height for each face ("front", "rear")."""
    rows = dict(session.execute(select(DeviceUnit.face, func.count()).where(
        DeviceUnit.rack_id == rack.id).group_by(DeviceUnit.face)).all())
    return {face: Utilisation(int(rows.get(face, 0)), rack.u_height) for face in FACES}


@dataclass(frozen=True)
class RackSpace:
    """A place a device fits: rack, lowest unit, the free run it sits in, power left."""

    rack: Rack
    position: int
    run_length: int
    power_headroom_w: int | None  # None: the rack has no power limit


def find_rack_space(session: Session, *, u_height: int, face: str = "front",
                    full_depth: bool = True, power_w: int = 0, site_id: int | None = None,
                    opd_id: int | None = None) -> list[RackSpace]:
    """Return racks with *u_height* contiguous free units on *face*, best fit first.

    Best fit: the smallest free run that holds the device, then the least power headroom
    (limit less draw less live reservations' watts) that suffices, so big runs and big
    power budgets stay free for big requests. Racks of another OPD and units reserved
    for another OPD are skipped.
    """
    errs = FieldErrors()
    if isinstance(u_height, bool) or not isinstance(u_height, int) or not 1 <= u_height <= 100:
        errs.add("u_height", "must be a whole number from 1 to 100")
    check_choice(errs, "face", face, FACES)
    if isinstance(power_w, bool) or not isinstance(power_w, int) or power_w < 0:
        errs.add("power_w", "must be a whole number of watts")
    errs.raise_if_any()
    stmt = select(Rack).where(Rack.status.in_(("active", "available"))).order_by(Rack.name)
    if site_id is not None:
        stmt = stmt.where(Rack.site_id == site_id)
    if opd_id is not None:
        stmt = stmt.where((Rack.opd_id.is_(None)) | (Rack.opd_id == opd_id))
    found = []
    for rack in session.scalars(stmt):
        headroom = rack_power(session, rack).headroom_w  # reserved watts are spoken for
        if headroom is not None and headroom < power_w:
            continue
        slots = session.execute(select(DeviceUnit.face, DeviceUnit.unit).where(
            DeviceUnit.rack_id == rack.id)).all()
        blocked = blocked_units(((f, u) for f, u in slots), face, full_depth)
        blocked |= set(reserved_units(session, rack.id, for_opd=opd_id))
        fit = best_fit(rack.u_height, blocked, u_height)
        if fit is not None:
            found.append(RackSpace(rack, fit[0], fit[1], headroom))
    big = 1 << 62
    found.sort(key=lambda s: (s.run_length, big if s.power_headroom_w is None
                              else s.power_headroom_w, s.rack.name))
    return found
